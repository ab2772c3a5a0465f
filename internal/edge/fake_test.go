package edge_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
)

// Test fixtures: Adobe's documented identity cookie and ECID, and the fake's datastream.
const (
	org          = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	datastream   = "ds-0001"
	sampleCookie = "CiY0NzE0NzkwMTUyMzYzMzI4NDAxMjc3NDcwNzA2NTcxMjI3OTI1NVIRCJ_S-uCRMRABGAEqBElSTDHwAZ_S-uCRMQ=="
	sampleECID   = "47147901523633284012774707065712279255"
	otherECID    = "11111111111111111111111111111111111111"
	unknownECID  = "22222222222222222222222222222222222222"
)

// newFake returns a fake Edge Network with two destinations and the loopback server serving it.
func newFake(t testing.TB) (*edgetest.Fake, *httptest.Server) {
	t.Helper()
	fake := &edgetest.Fake{
		DatastreamID: datastream,
		OrgID:        org,
		Destinations: []edgetest.Destination{
			{Alias: "web", Profiles: map[string][]string{
				sampleECID: {"seg-vip", "seg-bags", "seg-vip"},
				otherECID:  {"seg-new"},
			}},
			{Alias: "app", Profiles: map[string][]string{sampleECID: {"seg-app"}}},
		},
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// newClient returns a client of the fake's server; adjust edits the options first.
func newClient(t testing.TB, srv *httptest.Server, adjust func(*edge.Options)) *edge.Client {
	t.Helper()
	opts := edge.Options{BaseURL: srv.URL, DatastreamID: datastream, OrgID: org, HTTPClient: srv.Client()}
	if adjust != nil {
		adjust(&opts)
	}
	c, err := edge.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// identity returns what the sidecar would read from a browser holding the identity cookie of
// ecid, plus a consent cookie.
func identity(ecid string) edge.Identity {
	value := sampleCookie
	if ecid != sampleECID {
		value = base64.RawURLEncoding.EncodeToString(append([]byte{0x0a, byte(len(ecid))}, ecid...))
	}
	return edge.Identity{
		ECID:   ecid,
		Domain: "shop.example",
		StateEntries: []edge.StateEntry{
			{Key: edge.IdentityCookieName(org), Value: value},
			{Key: "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent", Value: "general=in"},
		},
	}
}

// noFailures fails the test if the fake refused a request as malformed.
func noFailures(t testing.TB, fake *edgetest.Fake) {
	t.Helper()
	if f := fake.Failures(); len(f) > 0 {
		t.Fatalf("the fake refused requests: %q", f)
	}
}

// inProcess is an http.Client that serves requests with h directly, without sockets, for tests
// that make thousands of lookups.
func inProcess(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripper{h}}
}

type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}
