package edge_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
)

func TestLookupSegments(t *testing.T) {
	tests := []struct {
		name  string
		alias string
		ecid  string
		want  []string
	}{
		{"every destination, sorted and unique", "", sampleECID, []string{"seg-app", "seg-bags", "seg-vip"}},
		{"one destination", "web", sampleECID, []string{"seg-bags", "seg-vip"}},
		{"alias nobody has", "email", sampleECID, nil},
		{"another visitor", "", otherECID, []string{"seg-new"}},
		{"profile not on the edge", "", unknownECID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFake(t)
			c := newClient(t, srv, func(o *edge.Options) { o.DestinationAlias = tt.alias })
			res, err := c.Lookup(context.Background(), identity(tt.ecid))
			if err != nil {
				t.Fatal(err)
			}
			noFailures(t, fake)
			if !slices.Equal(res.Segments, tt.want) {
				t.Errorf("segments %q, want %q", res.Segments, tt.want)
			}
			if res.RequestID == "" || res.LocationHint != "or2" {
				t.Errorf("requestId %q, location hint %q", res.RequestID, res.LocationHint)
			}
			wantStore := edge.StoreEntry{Key: edge.ClusterCookieName(org), Value: "or2", MaxAge: 1800, Attrs: map[string]string{"SameSite": "None"}}
			if len(res.Store) != 1 || res.Store[0].Key != wantStore.Key || res.Store[0].Value != "or2" ||
				res.Store[0].MaxAge != 1800 || res.Store[0].Attrs["SameSite"] != "None" {
				t.Errorf("store %+v, want %+v", res.Store, wantStore)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests recorded", len(reqs))
			}
			got := reqs[0]
			if got.DatastreamID != datastream || got.ECID != tt.ecid || got.EventType != edge.EventType ||
				got.Domain != "shop.example" || got.Cluster != "" || got.Token != "" {
				t.Errorf("request %+v", got)
			}
			if got.Entries["kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent"] != "general=in" {
				t.Errorf("consent cookie not forwarded: %v", got.Entries)
			}
		})
	}
}

func TestLookupRegion(t *testing.T) {
	tests := []struct {
		name, cluster string
		clusters      []string
		wantPath      string // region the fake must see; "" means none
	}{
		{"allow-listed hint", "va6", nil, "va6"},
		{"hint outside the list is dropped", "zz9", nil, ""},
		{"path traversal is dropped", "../x", nil, ""},
		{"custom list", "nld2", []string{"nld2"}, "nld2"},
		{"default hint not in a custom list", "or2", []string{"nld2"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFake(t)
			fake.Cluster = tt.wantPath
			c := newClient(t, srv, func(o *edge.Options) { o.Clusters = tt.clusters })
			id := identity(sampleECID)
			id.Cluster = tt.cluster
			res, err := c.Lookup(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			noFailures(t, fake)
			if got := fake.Requests()[0].Cluster; got != tt.wantPath {
				t.Errorf("region %q, want %q", got, tt.wantPath)
			}
			wantHint := tt.wantPath
			if wantHint == "" {
				wantHint = "or2"
			}
			if res.LocationHint != wantHint {
				t.Errorf("location hint %q, want %q", res.LocationHint, wantHint)
			}
		})
	}
}

func TestLookupRefusedRequestShapes(t *testing.T) {
	tests := []struct {
		name   string
		adjust func(*edgetest.Fake, *edge.Identity)
		reason string
	}{
		{"wrong datastream", func(f *edgetest.Fake, _ *edge.Identity) { f.DatastreamID = "other" }, "datastreamId"},
		{"wrong region", func(f *edgetest.Fake, _ *edge.Identity) { f.Cluster = "va6" }, "region"},
		{"identity cookie not forwarded", func(_ *edgetest.Fake, id *edge.Identity) { id.StateEntries = id.StateEntries[1:] }, "not forwarded"},
		{"identity cookie of another ECID", func(_ *edgetest.Fake, id *edge.Identity) { id.ECID = otherECID }, "holds ECID"},
		{"required cookie missing", func(f *edgetest.Fake, _ *edge.Identity) { f.RequireEntries = []string{edge.ClusterCookieName(org)} }, "not forwarded"},
		{"auth required", func(f *edgetest.Fake, _ *edge.Identity) { f.Auth = &edgetest.Auth{ClientID: "id", ClientSecret: "s"} }, "bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFake(t)
			id := identity(sampleECID)
			tt.adjust(fake, &id)
			_, err := newClient(t, srv, nil).Lookup(context.Background(), id)
			var httpErr *edge.HTTPError
			if !errors.As(err, &httpErr) || httpErr.Status/100 != 4 {
				t.Fatalf("err = %v, want a 4xx HTTPError", err)
			}
			if f := fake.Failures(); len(f) != 1 || !strings.Contains(f[0], tt.reason) {
				t.Fatalf("failures %q, want one about %q", f, tt.reason)
			}
			if !strings.Contains(httpErr.Detail, tt.reason) {
				t.Errorf("problem detail %q does not say %q", httpErr.Detail, tt.reason)
			}
		})
	}
}

func TestLookupAnswers(t *testing.T) {
	tests := []struct {
		name      string
		behavior  edgetest.Behavior
		timeout   time.Duration
		wantSegs  []string
		wantCalls int
		outcome   string // edge.Outcome of the error, or miss for success
		status    int    // HTTPError status
		check     func(t *testing.T, res edge.Result, err error, elapsed time.Duration)
	}{
		{name: "payload []", behavior: edgetest.Behavior{EmptyPayload: true}, wantCalls: 1, outcome: edge.OutcomeMiss},
		{name: "207 with warnings", behavior: edgetest.Behavior{Warnings: true}, wantSegs: []string{"seg-app", "seg-bags", "seg-vip"},
			wantCalls: 1, outcome: edge.OutcomeMiss, check: func(t *testing.T, res edge.Result, _ error, _ time.Duration) {
				if len(res.Warnings) != 1 || res.Warnings[0].Code != "EXEG-0204-200" || len(res.Errors) != 1 || res.Errors[0].Status != 503 {
					t.Errorf("warnings %+v, errors %+v", res.Warnings, res.Errors)
				}
			}},
		{name: "400 problem", behavior: edgetest.Behavior{Status: 400}, wantCalls: 1, outcome: edge.OutcomeErrorHTTP, status: 400,
			check: func(t *testing.T, _ edge.Result, err error, _ time.Duration) {
				var e *edge.HTTPError
				if errors.As(err, &e); e.Title != "Bad Request" || e.Detail != "configured failure" || !strings.Contains(e.Type, "EXEG") {
					t.Errorf("problem %+v", e)
				}
			}},
		{name: "500 is not retried", behavior: edgetest.Behavior{Status: 500}, wantCalls: 1, outcome: edge.OutcomeErrorHTTP, status: 500},
		{name: "503 retried twice", behavior: edgetest.Behavior{Status: 503}, wantCalls: 3, outcome: edge.OutcomeErrorHTTP, status: 503},
		{name: "502 then success", behavior: edgetest.Behavior{Status: 502, Times: 2}, wantCalls: 3, outcome: edge.OutcomeMiss,
			wantSegs: []string{"seg-app", "seg-bags", "seg-vip"}},
		{name: "429 honors Retry-After", behavior: edgetest.Behavior{Status: 429, RetryAfter: "1", Times: 1}, timeout: 3 * time.Second,
			wantCalls: 2, outcome: edge.OutcomeMiss, wantSegs: []string{"seg-app", "seg-bags", "seg-vip"},
			check: func(t *testing.T, _ edge.Result, _ error, elapsed time.Duration) {
				if elapsed < time.Second {
					t.Errorf("retried after %v, before Retry-After", elapsed)
				}
			}},
		{name: "429 Retry-After past the deadline", behavior: edgetest.Behavior{Status: 429, RetryAfter: "5"}, timeout: 500 * time.Millisecond,
			wantCalls: 1, outcome: edge.OutcomeErrorHTTP, status: 429,
			check: func(t *testing.T, _ edge.Result, err error, elapsed time.Duration) {
				var e *edge.HTTPError
				if errors.As(err, &e); e.RetryAfter != 5*time.Second || elapsed > 400*time.Millisecond {
					t.Errorf("Retry-After %v, returned after %v", e.RetryAfter, elapsed)
				}
			}},
		{name: "429 Retry-After as a date", behavior: edgetest.Behavior{Status: 429, RetryAfter: time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
			wantCalls: 1, outcome: edge.OutcomeErrorHTTP, status: 429},
		{name: "slow answer past the deadline", behavior: edgetest.Behavior{Delay: 5 * time.Second}, timeout: 100 * time.Millisecond,
			wantCalls: 1, outcome: edge.OutcomeErrorTimeout},
		{name: "invalid JSON", behavior: edgetest.Behavior{InvalidJSON: true}, wantCalls: 1, outcome: edge.OutcomeErrorDecode},
		{name: "10 MB body", behavior: edgetest.Behavior{BodySize: 10 << 20}, wantCalls: 1, outcome: edge.OutcomeErrorDecode,
			check: tooLarge},
		{name: "10 MB chunked body", behavior: edgetest.Behavior{BodySize: 10 << 20, Chunked: true}, wantCalls: 1, outcome: edge.OutcomeErrorDecode,
			check: tooLarge},
		{name: "3 KB body under a 4 KB limit", behavior: edgetest.Behavior{BodySize: 3 << 10}, wantCalls: 1, outcome: edge.OutcomeMiss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFake(t)
			fake.SetBehavior(sampleECID, tt.behavior)
			c := newClient(t, srv, func(o *edge.Options) { o.MaxBody = 4 << 10 })
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 2 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			res, err := c.Lookup(ctx, identity(sampleECID))
			elapsed := time.Since(start)
			noFailures(t, fake)
			if got := edge.Outcome(err); got != tt.outcome {
				t.Fatalf("outcome %s (err %v), want %s", got, err, tt.outcome)
			}
			if !slices.Equal(res.Segments, tt.wantSegs) {
				t.Errorf("segments %q, want %q", res.Segments, tt.wantSegs)
			}
			if n := fake.Calls(); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
			var httpErr *edge.HTTPError
			if tt.status != 0 && (!errors.As(err, &httpErr) || httpErr.Status != tt.status) {
				t.Errorf("err = %v, want status %d", err, tt.status)
			}
			if tt.check != nil {
				tt.check(t, res, err, elapsed)
			}
		})
	}
}

func tooLarge(t *testing.T, _ edge.Result, err error, elapsed time.Duration) {
	if !errors.Is(err, edge.ErrResponseTooLarge) || !errors.Is(err, edge.ErrDecode) {
		t.Errorf("err = %v, want ErrResponseTooLarge", err)
	}
	if elapsed > time.Second {
		t.Errorf("took %v to refuse a large body", elapsed)
	}
}

// endlessBody is a response body that never ends and counts what was read of it.
type endlessBody struct{ read *atomic.Int64 }

func (b endlessBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (endlessBody) Close() error { return nil }

func TestLookupReadsAtMostMaxBody(t *testing.T) {
	for _, declared := range []int64{-1, 10 << 20} {
		var read atomic.Int64
		hc := &http.Client{Transport: transportFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: declared,
				Body: endlessBody{&read}, Request: r}, nil
		})}
		c, err := edge.NewClient(edge.Options{BaseURL: "http://edge.invalid", DatastreamID: datastream, HTTPClient: hc, MaxBody: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Lookup(context.Background(), identity(sampleECID))
		if !errors.Is(err, edge.ErrResponseTooLarge) {
			t.Fatalf("declared %d: err = %v", declared, err)
		}
		limit := int64(64<<10 + 1)
		if declared > 0 {
			limit = 0 // refused on Content-Length alone
		}
		if n := read.Load(); n > limit {
			t.Fatalf("declared %d: read %d bytes, limit %d", declared, n, limit)
		}
	}
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLookupAuthenticated(t *testing.T) {
	fake, srv := newFake(t)
	fake.Auth = &edgetest.Auth{ClientID: "client-1", ClientSecret: "s3cret"}
	c := newClient(t, srv, func(o *edge.Options) {
		o.Auth = &edge.AuthConfig{ClientID: "client-1", ClientSecret: "s3cret", IMSURL: srv.URL + edgetest.IMSPath}
	})
	ctx := context.Background()
	for range 3 {
		if res, err := c.Lookup(ctx, identity(sampleECID)); err != nil || len(res.Segments) != 3 {
			t.Fatalf("Lookup = %v, %v", res.Segments, err)
		}
	}
	noFailures(t, fake)
	if n := fake.TokenCalls(); n != 1 {
		t.Fatalf("%d token requests for 3 lookups, want 1", n)
	}
	if tok := fake.Requests()[2].Token; tok != "fake-token-1" {
		t.Fatalf("token %q", tok)
	}

	// A refused token is dropped: the call fails, the next one fetches a new token.
	fake.RevokeTokens()
	var httpErr *edge.HTTPError
	if _, err := c.Lookup(ctx, identity(sampleECID)); !errors.As(err, &httpErr) || httpErr.Status != 401 {
		t.Fatalf("after revocation: err = %v, want 401", err)
	}
	if _, err := c.Lookup(ctx, identity(sampleECID)); err != nil {
		t.Fatalf("after a new token: %v", err)
	}
	if n := fake.TokenCalls(); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}

	bad := newClient(t, srv, func(o *edge.Options) {
		o.Auth = &edge.AuthConfig{ClientID: "client-1", ClientSecret: "wrong", IMSURL: srv.URL + edgetest.IMSPath}
	})
	_, err := bad.Lookup(ctx, identity(sampleECID))
	if !errors.As(err, &httpErr) || httpErr.Status != 401 || httpErr.Title != "invalid_client" {
		t.Fatalf("wrong secret: err = %v", err)
	}
}

func TestLookupRefusedBeforeSending(t *testing.T) {
	fake, srv := newFake(t)
	c := newClient(t, srv, nil)
	bad := identity(sampleECID)
	bad.ECID = "123"
	if _, err := c.Lookup(context.Background(), bad); !errors.Is(err, edge.ErrInvalidIdentity) {
		t.Errorf("short ECID: err = %v", err)
	}
	huge := identity(sampleECID)
	huge.StateEntries = append(huge.StateEntries, edge.StateEntry{Key: "kndctr_big", Value: strings.Repeat("x", edge.MaxRequestBody)})
	if _, err := c.Lookup(context.Background(), huge); !errors.Is(err, edge.ErrRequestTooLarge) {
		t.Errorf("huge request: err = %v", err)
	}
	if n := fake.Calls(); n != 0 {
		t.Errorf("%d calls sent", n)
	}
}

func TestLookupDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Bool
	dst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Store(true) }))
	defer dst.Close()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dst.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer src.Close()
	c, err := edge.NewClient(edge.Options{BaseURL: src.URL, DatastreamID: datastream}) // default HTTP client
	if err != nil {
		t.Fatal(err)
	}
	var httpErr *edge.HTTPError
	if _, err := c.Lookup(context.Background(), identity(sampleECID)); !errors.As(err, &httpErr) || httpErr.Status != 307 {
		t.Fatalf("err = %v, want the 307 as an error", err)
	}
	if followed.Load() {
		t.Fatal("the redirect was followed")
	}
}

func TestNewClient(t *testing.T) {
	auth := &edge.AuthConfig{ClientID: "id", ClientSecret: "secret"}
	bad := []struct {
		name string
		opts edge.Options
	}{
		{"no datastream", edge.Options{}},
		{"relative base URL", edge.Options{DatastreamID: "d", BaseURL: "edge.adobedc.net"}},
		{"ftp base URL", edge.Options{DatastreamID: "d", BaseURL: "ftp://edge.adobedc.net"}},
		{"credentials in base URL", edge.Options{DatastreamID: "d", BaseURL: "https://u:p@edge.adobedc.net"}},
		{"query in base URL", edge.Options{DatastreamID: "d", BaseURL: "https://edge.adobedc.net/?x=1"}},
		{"bad cluster", edge.Options{DatastreamID: "d", Clusters: []string{"or2", "../x"}}},
		{"auth without org", edge.Options{DatastreamID: "d", Auth: auth}},
		{"auth without secret", edge.Options{DatastreamID: "d", OrgID: org, Auth: &edge.AuthConfig{ClientID: "id"}}},
		{"bad IMS URL", edge.Options{DatastreamID: "d", OrgID: org, Auth: &edge.AuthConfig{ClientID: "id", ClientSecret: "s", IMSURL: "ims"}}},
	}
	for _, tt := range bad {
		if _, err := edge.NewClient(tt.opts); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	endpoints := []struct {
		opts    edge.Options
		cluster string
		want    string
	}{
		{edge.Options{DatastreamID: "d 1"}, "", "https://edge.adobedc.net/ee/v2/interact?datastreamId=d+1"},
		{edge.Options{DatastreamID: "d"}, "or2", "https://edge.adobedc.net/ee/or2/v2/interact?datastreamId=d"},
		{edge.Options{DatastreamID: "d"}, "xx1", "https://edge.adobedc.net/ee/v2/interact?datastreamId=d"},
		{edge.Options{DatastreamID: "d", OrgID: org, Auth: auth}, "irl1", "https://server.adobedc.net/ee/irl1/v2/interact?datastreamId=d"},
		{edge.Options{DatastreamID: "d", BaseURL: "http://127.0.0.1:9/"}, "", "http://127.0.0.1:9/ee/v2/interact?datastreamId=d"},
	}
	for _, tt := range endpoints {
		c, err := edge.NewClient(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Endpoint(tt.cluster); got != tt.want {
			t.Errorf("Endpoint(%q) = %q, want %q", tt.cluster, got, tt.want)
		}
	}
}
