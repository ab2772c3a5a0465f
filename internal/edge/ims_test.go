package edge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// imsServer counts token requests and answers with expires_in seconds; handler, when set,
// replaces the answer.
type imsServer struct {
	calls     atomic.Int32
	expiresIn int
	handler   http.HandlerFunc
	forms     chan map[string]string
}

func (s *imsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.calls.Add(1)
	if s.handler != nil {
		s.handler(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if s.forms != nil {
		s.forms <- map[string]string{
			"grant_type": r.PostForm.Get("grant_type"), "client_id": r.PostForm.Get("client_id"),
			"client_secret": r.PostForm.Get("client_secret"), "scope": r.PostForm.Get("scope"),
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%d,"extra":true}`, n, s.expiresIn)
}

func newTestTokenSource(t *testing.T, srv *imsServer) (*tokenSource, *fakeClock) {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	src := newTokenSource(AuthConfig{ClientID: "id", ClientSecret: "s3cret", IMSURL: ts.URL, Scope: "openid"}, ts.Client())
	src.now = clock.Now
	return src, clock
}

func TestTokenCachedAndRefreshed(t *testing.T) {
	tests := []struct {
		expiresIn int
		refresh   time.Duration // lifetime minus the margin
	}{
		{expiresIn: 86399, refresh: 86399*time.Second - time.Minute},
		{expiresIn: 3600, refresh: 3540 * time.Second},
		{expiresIn: 100, refresh: 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.expiresIn), func(t *testing.T) {
			srv := &imsServer{expiresIn: tt.expiresIn, forms: make(chan map[string]string, 4)}
			src, clock := newTestTokenSource(t, srv)
			ctx := context.Background()
			tok, err := src.Token(ctx)
			if err != nil || tok != "tok-1" {
				t.Fatalf("Token = %q, %v", tok, err)
			}
			form := <-srv.forms
			want := map[string]string{"grant_type": "client_credentials", "client_id": "id", "client_secret": "s3cret", "scope": "openid"}
			for k, v := range want {
				if form[k] != v {
					t.Errorf("form %s = %q, want %q", k, form[k], v)
				}
			}
			clock.Advance(tt.refresh - time.Second)
			if tok, _ := src.Token(ctx); tok != "tok-1" || srv.calls.Load() != 1 {
				t.Fatalf("before the margin: token %q after %d calls, want the cached one", tok, srv.calls.Load())
			}
			clock.Advance(time.Second)
			if tok, _ := src.Token(ctx); tok != "tok-2" || srv.calls.Load() != 2 {
				t.Fatalf("at the margin: token %q after %d calls, want a new one", tok, srv.calls.Load())
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		outcome string
		text    string
	}{
		{"invalid client", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"invalid client_secret parameter"}`)
		}, OutcomeErrorHTTP, "invalid_client: invalid client_secret parameter"},
		{"server error without body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}, OutcomeErrorHTTP, "Bad Gateway"},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"access_token":`)
		}, OutcomeErrorDecode, "undecodable"},
		{"no token", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"expires_in":3600}`)
		}, OutcomeErrorDecode, "no access_token"},
		{"no lifetime", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"access_token":"t"}`)
		}, OutcomeErrorDecode, "no access_token or expires_in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, _ := newTestTokenSource(t, &imsServer{handler: tt.handler})
			_, err := src.Token(context.Background())
			if err == nil || Outcome(err) != tt.outcome || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v (outcome %s), want %s containing %q", err, Outcome(err), tt.outcome, tt.text)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the client secret: %v", err)
			}
		})
	}
}
