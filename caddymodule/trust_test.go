package caddymodule

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

const (
	testOrg      = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	testIdentity = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity"
	testECID     = "47147901523633284012774707065712279255"
	testKey      = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	oldKey       = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

func identityValue(ecid string) string {
	return base64.URLEncoding.EncodeToString(append([]byte{0x0a, byte(len(ecid))}, ecid...))
}

func signedValue(t testing.TB, key string, m signed.Membership) string {
	t.Helper()
	keys, err := signed.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := keys.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTrustSigned(t *testing.T) {
	h := provisioned(t, &Handler{Name: "trust-signed", Trust: TrustSigned, OrgID: testOrg, MembershipKeys: []string{testKey, oldKey}})
	valid := signed.Membership{Segments: []string{segVIP}, ECID: testECID, Expires: time.Now().Add(time.Hour)}
	tests := []struct {
		name   string
		cookie string
		want   string
	}{
		{"valid", testIdentity + "=" + identityValue(testECID) + "; aud_m=" + signedValue(t, testKey, valid), segVIP},
		{"old key still listed", testIdentity + "=" + identityValue(testECID) + "; aud_m=" + signedValue(t, oldKey, valid), segVIP},
		{"unknown key", testIdentity + "=" + identityValue(testECID) + "; aud_m=" + signedValue(t, "ab"+testKey[2:], valid), ""},
		{"expired", testIdentity + "=" + identityValue(testECID) + "; aud_m=" + signedValue(t, testKey, signed.Membership{Segments: []string{segVIP}, ECID: testECID, Expires: time.Now().Add(-time.Second)}), ""},
		{"another ECID", testIdentity + "=" + identityValue("11111111111111111111111111111111111111") + "; aud_m=" + signedValue(t, testKey, valid), ""},
		{"no identity cookie", "aud_m=" + signedValue(t, testKey, valid), ""},
		{"client claim ignored", "aep-segments-membership=" + segVIP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			r.Header.Set("Cookie", tt.cookie)
			r.Header.Set("aep-segments-membership", segBags)
			got := serve(t, h, r)
			if v := got.header.Get("X-Audience-Segments"); v != tt.want {
				t.Fatalf("forwarded %q, want %q", v, tt.want)
			}
			if got.header.Get("aep-segments-membership") != "" || strings.Contains(got.header.Get("Cookie"), "aep-segments-membership") {
				t.Fatal("the raw client claim must not reach the backend in a trusted mode")
			}
		})
	}
}

// TestTrustConfigErrors: a trust configuration that cannot work is refused by Validate (the
// combinations) or Provision (a key that cannot be read).
func TestTrustConfigErrors(t *testing.T) {
	for _, h := range []*Handler{
		{Trust: "browser"},
		{Trust: TrustSigned, MembershipKeys: []string{testKey}},                 // no org
		{Trust: TrustSigned, OrgID: testOrg},                                    // no key
		{Trust: TrustSigned, OrgID: testOrg, MembershipKeys: []string{"short"}}, // weak key
		{Trust: TrustEdge, OrgID: testOrg, MembershipKeys: []string{testKey}},   // no datastream
		{Trust: TrustEdge, OrgID: testOrg, MembershipKeys: []string{testKey}, Edge: &EdgeConfig{DatastreamID: "d", OnLookupError: "maybe"}},
	} {
		ctx, cancel := newTestContext()
		err := h.Provision(ctx)
		if err == nil {
			err = h.Validate()
			_ = h.Cleanup()
		}
		if err == nil {
			t.Errorf("Provision and Validate(%+v) = nil, want an error", h)
		}
		cancel()
	}
}

// BenchmarkTrustedMembership measures what trusted membership adds to a request on its
// cached paths: a valid signed cookie, and an Edge Network answer already in the cache.
func BenchmarkTrustedMembership(b *testing.B) {
	fake := &edgetest.Fake{OrgID: testOrg, Destinations: []edgetest.Destination{{Profiles: map[string][]string{testECID: {segVIP, segBags}}}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	h := provisioned(b, &Handler{Name: "bench-trust", Trust: TrustEdge, OrgID: testOrg, MembershipKeys: []string{testKey},
		Edge: &EdgeConfig{DatastreamID: "ds", URL: srv.URL}})
	identity := testIdentity + "=" + identityValue(testECID)
	cookie := identity + "; aud_m=" + signedValue(b, testKey, signed.Membership{Segments: []string{segBags, segVIP}, ECID: testECID, Expires: time.Now().Add(time.Hour)})
	for _, tc := range []struct {
		name, cookie string
		pricing      bool
	}{
		{"client-mode-baseline", "", false},
		{"signed-cookie", cookie, true},
		{"edge-cache-hit", identity, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			w := &discardWriter{header: http.Header{}}
			handler := h
			if tc.name == "client-mode-baseline" {
				handler = provisioned(b, &Handler{Name: "bench-client"})
				r.Header.Set("aep-segments-membership", segVIP+"%2C"+segBags)
			}
			handler.resolveMembership(w, r, tc.pricing) // warm the lookup cache
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				m, _ := handler.resolveMembership(w, r, tc.pricing)
				if len(m.Segments) != 2 {
					b.Fatalf("segments %v", m.Segments)
				}
			}
		})
	}
}

// TestReloadKeepsCartPins: cart pins live in the handler's shared state, so the config that
// a caddy reload provisions still knows which ECID owns which cart.
func TestReloadKeepsCartPins(t *testing.T) {
	cfg := func() *Handler {
		return &Handler{Name: "pins-reload", Trust: TrustSigned, OrgID: testOrg, MembershipKeys: []string{testKey}}
	}
	old := provisioned(t, cfg())
	if !old.pins.Allow("cart-1", testECID) {
		t.Fatal("a new cart must be pinned to its first ECID")
	}
	reloaded := provisioned(t, cfg()) // provisioned before the old config is cleaned up
	_ = old.Cleanup()
	if reloaded.pins.Allow("cart-1", otherECID) {
		t.Fatal("after a reload another ECID could take a pinned cart")
	}
	if !reloaded.pins.Allow("cart-1", testECID) {
		t.Fatal("the owner lost its cart on reload")
	}
}
