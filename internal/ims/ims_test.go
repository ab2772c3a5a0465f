package ims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const secret = "s3cret-value"

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

// server answers token requests with expires_in seconds; handler, when set, replaces the
// answer.
type server struct {
	calls     atomic.Int32
	expiresIn string
	handler   http.HandlerFunc
	forms     chan map[string]string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%s}`, n, s.expiresIn)
}

func newTestSource(t *testing.T, srv *server, margin func(time.Duration) time.Duration) (*Source, *fakeClock) {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	src := NewSource(Credentials{TokenURL: ts.URL + TokenPath, ClientID: "id", ClientSecret: secret, Scope: "openid"},
		Options{HTTPClient: ts.Client(), Now: clock.Now, Margin: margin})
	return src, clock
}

func TestTokenCachedAndRenewedEarly(t *testing.T) {
	fixed := func(d time.Duration) func(time.Duration) time.Duration {
		return func(time.Duration) time.Duration { return d }
	}
	tests := []struct {
		name      string
		expiresIn string
		margin    func(time.Duration) time.Duration
		renewAt   time.Duration // lifetime minus the margin
	}{
		{"default tenth", "3600", nil, 3240 * time.Second},
		{"500 s early", "86399", fixed(500 * time.Second), 85899 * time.Second},
		{"numeric string", `"86399"`, fixed(500 * time.Second), 85899 * time.Second},
		{"margin past the lifetime", "100", fixed(time.Hour), 0},
		{"negative margin", "100", fixed(-time.Hour), 100 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &server{expiresIn: tt.expiresIn, forms: make(chan map[string]string, 8)}
			src, clock := newTestSource(t, srv, tt.margin)
			ctx := context.Background()
			tok, err := src.Token(ctx)
			if err != nil || tok != "tok-1" {
				t.Fatalf("Token = %q, %v", tok, err)
			}
			form := <-srv.forms
			want := map[string]string{"grant_type": "client_credentials", "client_id": "id", "client_secret": secret, "scope": "openid"}
			for k, v := range want {
				if form[k] != v {
					t.Errorf("form %s = %q, want %q", k, form[k], v)
				}
			}
			if tt.renewAt > 0 {
				clock.Advance(tt.renewAt - time.Second)
				if tok, _ := src.Token(ctx); tok != "tok-1" || srv.calls.Load() != 1 {
					t.Fatalf("before the margin: token %q after %d calls, want the cached one", tok, srv.calls.Load())
				}
				clock.Advance(time.Second)
			}
			if tok, _ := src.Token(ctx); tok != "tok-2" || srv.calls.Load() != 2 || src.Fetches() != 2 {
				t.Fatalf("at the margin: token %q after %d calls, want a new one", tok, srv.calls.Load())
			}
		})
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	release := make(chan struct{})
	srv := &server{handler: func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, `{"access_token":"shared","expires_in":3600}`)
	}}
	src, _ := newTestSource(t, srv, nil)
	var wg sync.WaitGroup
	tokens := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens <- tok
		})
	}
	for srv.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the fetch
	close(release)
	wg.Wait()
	close(tokens)
	for tok := range tokens {
		if tok != "shared" {
			t.Fatalf("token %q", tok)
		}
	}
	if n := srv.calls.Load(); n != 1 {
		t.Fatalf("%d IMS calls, want 1", n)
	}
}

func TestWaitHonorsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := &server{handler: func(w http.ResponseWriter, r *http.Request) { <-release }}
	src, _ := newTestSource(t, srv, nil)
	go src.Token(context.Background()) // holds the fetch slot until release
	for srv.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

func TestInvalidate(t *testing.T) {
	srv := &server{expiresIn: "3600"}
	src, _ := newTestSource(t, srv, nil)
	ctx := context.Background()
	tok, _ := src.Token(ctx)
	src.Invalidate("some other token")
	if again, _ := src.Token(ctx); again != tok {
		t.Fatalf("invalidating another token dropped ours")
	}
	src.Invalidate(tok)
	if again, _ := src.Token(ctx); again == tok || srv.calls.Load() != 2 {
		t.Fatalf("after Invalidate: token %q, %d calls", again, srv.calls.Load())
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name          string
		handler       http.HandlerFunc
		status        int // 0: not an *Error
		invalidClient bool
		retryAfter    time.Duration
		text          string
	}{
		{"invalid client", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"invalid client_secret parameter"}`)
		}, 401, true, 0, "ims: status 401: invalid_client: invalid client_secret parameter"},
		{"400 invalid client", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"invalid client_id parameter"}`)
		}, 400, true, 0, "invalid client_id parameter"},
		{"invalid scope", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_scope","error_description":"invalid scope"}`)
		}, 400, false, 0, "invalid_scope"},
		{"secret echoed back", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"bad secret `+secret+`"}`)
		}, 401, true, 0, "bad secret [redacted]"},
		{"rate limited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 429, false, 7 * time.Second, "ims: status 429: Too Many Requests"},
		{"server error without body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}, 502, false, 0, "Bad Gateway"},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"access_token":`)
		}, 0, false, 0, "undecodable"},
		{"no token", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"expires_in":3600}`)
		}, 0, false, 0, "no access_token"},
		{"no lifetime", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"access_token":"t"}`)
		}, 0, false, 0, "no access_token or expires_in"},
		{"huge answer", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":"%s","expires_in":3600}`, strings.Repeat("t", bodyLimit))
		}, 0, false, 0, "over 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, _ := newTestSource(t, &server{handler: tt.handler}, nil)
			_, err := src.Token(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.text)
			}
			var imsErr *Error
			switch {
			case tt.status == 0 && !errors.Is(err, ErrDecode):
				t.Fatalf("err = %v, want ErrDecode", err)
			case tt.status != 0 && !errors.As(err, &imsErr):
				t.Fatalf("err = %T %v, want *Error", err, err)
			case tt.status != 0 && (imsErr.Status != tt.status || imsErr.InvalidClient() != tt.invalidClient || imsErr.RetryAfter != tt.retryAfter):
				t.Fatalf("error %+v, want status %d, invalid client %v, retry after %v", imsErr, tt.status, tt.invalidClient, tt.retryAfter)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the client secret: %v", err)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	creds := Credentials{ClientID: "id", ClientSecret: secret}
	js, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprint(creds), fmt.Sprintf("%v %+v %#v %s %q %x %d", creds, creds, creds, creds.ClientSecret,
			creds.ClientSecret, creds.ClientSecret, creds.ClientSecret),
		creds.ClientSecret.String(), creds.ClientSecret.GoString(), string(js),
	} {
		if strings.Contains(out, secret) || !strings.Contains(out, "[redacted]") {
			t.Errorf("output %q shows the secret or no [redacted]", out)
		}
	}
	if string(creds.ClientSecret) != secret {
		t.Fatal("the value is lost")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"99999999999999999999", 24 * time.Hour, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
