// The client's tests are one file: paging, token renewal, retries and error words share the fake
// Platform's setup, and split apart they would repeat it.

package aep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
)

func manyAudiences(n int) []aeptest.Audience {
	out := make([]aeptest.Audience, n)
	for i := range out {
		out[i] = aeptest.Audience{ID: fmt.Sprintf("a%02d", i), Name: fmt.Sprintf("Audience %d", i)}
	}
	return out
}

func TestListAudiencesFollowsTheCursor(t *testing.T) {
	tests := []struct {
		name      string
		audiences int
		inactive  int // of them, not listed by the API
		fakePage  int
		pageSize  int
		calls     int
	}{
		{"one page", 3, 0, 50, 0, 1},
		{"server caps the page", 7, 0, 2, 100, 4},
		{"client asks for small pages", 7, 0, 50, 3, 3},
		{"exact multiple", 6, 0, 2, 0, 3},
		{"inactive audiences are not listed", 7, 2, 2, 0, 3},
		{"empty sandbox", 0, 0, 2, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := platformFake()
			fake.Audiences, fake.PageSize = manyAudiences(tt.audiences), tt.fakePage
			for i := range tt.inactive {
				fake.Audiences[i].Lifecycle = "inactive"
			}
			cfg, _ := serve(t, fake)
			c := newTestClient(t, cfg, Options{PageSize: tt.pageSize})
			got, err := c.ListAudiences(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			var want []string
			for _, a := range fake.Audiences[tt.inactive:] {
				want = append(want, a.ID)
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("listed %v, want %v", ids, want)
			}
			if n := fake.Calls(aeptest.EndpointAudiences); n != tt.calls {
				t.Errorf("%d pages asked, want %d", n, tt.calls)
			}
			if r := fake.Refused(); len(r) > 0 {
				t.Errorf("the fake refused requests: %q", r)
			}
			if n, err := c.CountAudiences(context.Background()); err != nil || n != len(want) {
				t.Errorf("CountAudiences = %d, %v; want %d", n, err, len(want))
			}
		})
	}
}

func TestDestinationFlowsFollowTheContinuation(t *testing.T) {
	fake := platformFake()
	for i := range 5 {
		fake.Flows = append(fake.Flows, aeptest.Flow{ID: fmt.Sprintf("extra-%d", i), Name: fmt.Sprintf("Extra %d", i), Audiences: []string{"vip"}})
	}
	fake.PageSize = 2
	cfg, _ := serve(t, fake)
	flows, err := newTestClient(t, cfg, Options{}).DestinationFlows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range flows {
		ids = append(ids, f.ID)
		if !f.Destination || !f.Enabled() {
			t.Errorf("flow %+v: want an enabled destination flow", f)
		}
	}
	want := []string{"commerce", "email", "extra-0", "extra-1", "extra-2", "extra-3", "extra-4"} // not "old" (disabled), not "ingest" (a source)
	if !slices.Equal(ids, want) {
		t.Fatalf("flows %v, want %v", ids, want)
	}
	if n := fake.Calls(aeptest.EndpointFlows); n != 4 {
		t.Errorf("%d pages asked, want 4", n)
	}
	if got := flows[0].Audiences; !slices.Equal(got, []FlowAudience{{"vip", "VIP shoppers"}, {"bags", "Bag lovers"}}) {
		t.Errorf("audiences of commerce: %+v", got)
	}
	if r := fake.Refused(); len(r) > 0 {
		t.Errorf("the fake refused requests: %q", r)
	}
}

func TestNextLink(t *testing.T) {
	c := newTestClient(t, Config{ClientID: "id", ClientSecret: "s", OrgID: testOrg, PlatformURL: "https://platform.adobe.io"}, Options{})
	tests := []struct {
		service, href, want, err string
	}{
		{upsPath, "@/audiences?start=abc&limit=2", "https://platform.adobe.io/data/core/ups/audiences?start=abc&limit=2", ""},
		{upsPath, "audiences?start=abc", "https://platform.adobe.io/data/core/ups/audiences?start=abc", ""},
		{upsPath, "/data/core/ups/audiences?start=x%2By", "https://platform.adobe.io/data/core/ups/audiences?start=x%2By", ""},
		{flowServicePath, "https://platform.adobe.io:443/data/foundation/flowservice/flows?continuationToken=t", "https://platform.adobe.io:443/data/foundation/flowservice/flows?continuationToken=t", ""},
		{flowServicePath, "/flows?continuationToken=t", "https://platform.adobe.io/data/foundation/flowservice/flows?continuationToken=t", ""},
		{flowServicePath, "https://evil.example/flows?continuationToken=t", "", "leaves platform.adobe.io"},
		{flowServicePath, "http://platform.adobe.io/flows", "", "leaves"},
		{flowServicePath, "//evil.example/flows", "", "leaves"},
		{upsPath, "%zz", "", "next link"},
	}
	for _, tt := range tests {
		got, err := c.next(tt.service, tt.href)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrDecode)):
			t.Errorf("next(%q) = %v, %v; want an error containing %q", tt.href, got, err, tt.err)
		case tt.err == "" && (err != nil || got.String() != tt.want):
			t.Errorf("next(%q) = %v, %v; want %s", tt.href, got, err, tt.want)
		}
	}
}

func TestPagingLoopsAreRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ims/token/v3":
			fmt.Fprint(w, `{"access_token":"t","expires_in":3600}`)
		case audiencesPath:
			fmt.Fprint(w, `{"children":[{"id":"a"}],"_page":{"next":"same"},"_links":{"next":{"href":"@/audiences?start=same"}}}`)
		case flowsPath:
			fmt.Fprint(w, `{"items":[{"id":"f"}],"_links":{"next":{"href":"/flows?continuationToken=same"}}}`)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Config{ClientID: "id", ClientSecret: "s", OrgID: testOrg, IMSURL: srv.URL, PlatformURL: srv.URL}, Options{})
	if _, err := c.ListAudiences(context.Background()); err == nil || !strings.Contains(err.Error(), "cursor repeats") {
		t.Errorf("audiences: err = %v", err)
	}
	if _, err := c.DestinationFlows(context.Background()); err == nil || !strings.Contains(err.Error(), "token repeats") {
		t.Errorf("flows: err = %v", err)
	}
}

func TestPlatformHeaders(t *testing.T) {
	seen := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ims/token/v3" {
			fmt.Fprint(w, `{"access_token":"tok","expires_in":3600}`)
			return
		}
		seen <- r.Header.Clone()
		fmt.Fprint(w, `{"children":[]}`)
	}))
	defer srv.Close()
	for _, sandbox := range []string{"", "dev-2"} {
		c := newTestClient(t, Config{ClientID: "id", ClientSecret: "s", OrgID: testOrg, Sandbox: sandbox, IMSURL: srv.URL, PlatformURL: srv.URL}, Options{})
		if _, err := c.ListAudiences(context.Background()); err != nil {
			t.Fatal(err)
		}
		h := <-seen
		want := map[string]string{"Authorization": "Bearer tok", "X-Api-Key": "id", "X-Gw-Ims-Org-Id": testOrg, "X-Sandbox-Name": cmpOr(sandbox, "prod")}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("sandbox %q: header %s = %q, want %q", sandbox, k, h.Get(k), v)
			}
		}
	}
}

func TestTokenRenewedEarly(t *testing.T) {
	tests := []struct {
		expiresIn int
		renewAt   time.Duration
	}{
		{86399, (86399 - 500) * time.Second}, // Adobe's 24 h tokens: 500 s early
		{1000, 500 * time.Second},
		{600, 300 * time.Second}, // short tokens: at half their lifetime
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.expiresIn), func(t *testing.T) {
			fake := platformFake()
			fake.ExpiresIn = tt.expiresIn
			cfg, _ := serve(t, fake)
			clock := &fakeClock{now: time.Now()}
			c := newTestClient(t, cfg, Options{Now: clock.Now})
			ctx := context.Background()
			call := func() {
				t.Helper()
				if _, err := c.CountAudiences(ctx); err != nil {
					t.Fatal(err)
				}
			}
			call()
			clock.Advance(tt.renewAt - time.Second)
			call()
			if n := fake.TokenCalls(); n != 1 {
				t.Fatalf("before the margin: %d token fetches, want 1", n)
			}
			clock.Advance(time.Second)
			call()
			call()
			if n := fake.TokenCalls(); n != 2 || c.TokenFetches() != 2 {
				t.Fatalf("at the margin: %d token fetches (client counted %d), want 2", n, c.TokenFetches())
			}
		})
	}
}

func TestTokenSharedByConcurrentCalls(t *testing.T) {
	fake := platformFake()
	fake.TokenDelay = 50 * time.Millisecond
	cfg, _ := serve(t, fake, "commerce")
	c := newTestClient(t, cfg, Options{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Sync(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := fake.TokenCalls(); n != 1 {
		t.Fatalf("%d token fetches for 20 concurrent syncs, want 1", n)
	}
}

func TestRefusedTokenIsReplacedOnce(t *testing.T) {
	fake := platformFake()
	cfg, _ := serve(t, fake, "commerce")
	c := newTestClient(t, cfg, Options{})
	ctx := context.Background()
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	fake.ExpireTokens() // revoked or expired before its time
	if _, err := c.Sync(ctx); err != nil || fake.TokenCalls() != 2 {
		t.Fatalf("after the token expired: err=%v, %d token fetches (want 2)", err, fake.TokenCalls())
	}
	fake.Fail(aeptest.EndpointFlow, aeptest.Failure{Status: http.StatusUnauthorized})
	_, err := c.Sync(ctx)
	if Classify(err) != KindToken || fake.TokenCalls() != 3 || fake.Calls(aeptest.EndpointFlow) != 5 { // 1 + 2 (the expired token) + 2
		t.Fatalf("a token refused twice: err=%v (kind %q), %d token fetches, %d flow calls", err, Classify(err), fake.TokenCalls(), fake.Calls(aeptest.EndpointFlow))
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		endpoint   string
		failure    aeptest.Failure
		maxRetries int
		timeout    time.Duration
		ok         bool
		calls      int // of endpoint
		kind       Kind
		text       string
		minElapsed time.Duration
	}{
		{name: "429 twice, then fine", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 429, RetryAfter: "0", Times: 2}, ok: true, calls: 3},
		{name: "Retry-After honored", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 429, RetryAfter: "1", Times: 1}, ok: true, calls: 2, minElapsed: time.Second},
		{name: "503 once", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 503, Times: 1}, ok: true, calls: 2},
		{name: "IMS 503 once", endpoint: aeptest.EndpointToken, failure: aeptest.Failure{Status: 503, Times: 1}, ok: true, calls: 2},
		{name: "429 for good", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 429}, maxRetries: 2, calls: 3, kind: KindRateLimited, text: "status 429"},
		{name: "Retry-After too long", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 429, RetryAfter: "120"}, calls: 1, kind: KindRateLimited, text: "Retry-After 2m0s is longer than the 30s waited for"},
		{name: "Retry-After past the deadline", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 503, RetryAfter: "5"}, timeout: time.Second, calls: 1, kind: KindUnavailable, text: "status 503"},
		{name: "400 is not retried", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 400}, calls: 1, kind: KindUnexpected, text: "status 400"},
		{name: "404 is not retried", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 404}, calls: 1, kind: KindNotFound},
		{name: "no retries", endpoint: aeptest.EndpointAudiences, failure: aeptest.Failure{Status: 502}, maxRetries: -1, calls: 1, kind: KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := platformFake()
			fake.Fail(tt.endpoint, tt.failure)
			cfg, _ := serve(t, fake)
			c := newTestClient(t, cfg, Options{MaxRetries: tt.maxRetries})
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			started := time.Now()
			_, err := c.CountAudiences(ctx)
			elapsed := time.Since(started)
			if (err == nil) != tt.ok || (err != nil && (Classify(err) != tt.kind || !strings.Contains(err.Error(), tt.text))) {
				t.Fatalf("err = %v (kind %q), want ok=%v kind %q text %q", err, Classify(err), tt.ok, tt.kind, tt.text)
			}
			if n := fake.Calls(tt.endpoint); n != tt.calls {
				t.Errorf("%d calls of %s, want %d", n, tt.endpoint, tt.calls)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("took %v, want at least %v", elapsed, tt.minElapsed)
			}
			if tt.timeout > 0 && elapsed > tt.timeout {
				t.Errorf("took %v, past the %v deadline", elapsed, tt.timeout)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{ClientID: "id", ClientSecret: "s", OrgID: testOrg, FlowIDs: []string{"f1"}}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"good", func(*Config) {}, ""},
		{"no client id", func(c *Config) { c.ClientID = " " }, "client_id is missing"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "client_secret is missing"},
		{"no org", func(c *Config) { c.OrgID = "" }, "org_id is missing"},
		{"org without @AdobeOrg", func(c *Config) { c.OrgID = "53A16ACB5CC1D3760A495C99" }, "ends in @AdobeOrg"},
		{"sandbox with capitals", func(c *Config) { c.Sandbox = "Prod" }, `sandbox "Prod" is not a sandbox name`},
		{"duplicate flow", func(c *Config) { c.FlowIDs = []string{"f1", "f1"} }, `flow ID "f1" is named twice`},
		{"bad flow", func(c *Config) { c.FlowIDs = []string{"a/b"} }, `flow ID "a/b" is not a dataflow ID`},
		{"bad platform URL", func(c *Config) { c.PlatformURL = "platform.adobe.io" }, "platform_url"},
		{"IMS URL with a query", func(c *Config) { c.IMSURL = "https://ims.example?x=1" }, "ims_url"},
	}
	for _, tt := range tests {
		cfg := good
		tt.change(&cfg)
		err := cfg.Validate()
		var cfgErr *ConfigError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &cfgErr) || Classify(err) != KindConfig):
			t.Errorf("%s: err = %v, want a ConfigError containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewClient(Config{}, Options{}); err == nil || len(err.(*ConfigError).Problems) != 3 {
		t.Fatalf("an empty config: %v, want its three problems", err)
	}
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   Error
		text   string
	}{
		{403, `{"error_code":"403025","message":"Profile is not valid"}`,
			Error{Status: 403, Title: "Forbidden", Detail: "Profile is not valid", Code: "403025"}, "status 403: 403025 Forbidden: Profile is not valid"},
		{404, `{"type":"https://ns.adobe.com/aep/errors/FLOW-1","title":"Not Found","status":404,"detail":"flow x"}`,
			Error{Status: 404, Type: "https://ns.adobe.com/aep/errors/FLOW-1", Title: "Not Found", Detail: "flow x"}, "status 404: Not Found: flow x"},
		{400, `{"code":400,"message":"bad property"}`, Error{Status: 400, Title: "Bad Request", Detail: "bad property", Code: "400"}, "400 Bad Request: bad property"},
		{502, `<html>bad gateway</html>`, Error{Status: 502, Title: "Bad Gateway"}, "status 502: Bad Gateway"},
		{401, `{"error":"invalid_token","error_description":"expired"}`, Error{Status: 401, Title: "invalid_token", Detail: "expired"}, "invalid_token: expired"},
	}
	for _, tt := range tests {
		got := parseProblem(tt.status, []byte(tt.body))
		got.Method, got.Path = "GET", "/x"
		tt.want.Method, tt.want.Path = "GET", "/x"
		if *got != tt.want || !strings.Contains(got.Error(), tt.text) {
			t.Errorf("parseProblem(%d, %s) = %+v (%q), want %+v containing %q", tt.status, tt.body, *got, got.Error(), tt.want, tt.text)
		}
	}
}

func TestDecodeAnswers(t *testing.T) {
	page, href, cursor, total, err := decodeAudiencePage([]byte(`{"children":[
		{"id":"a","name":"A","lifecycleState":"Published","updateTime":1763647380000,"updateEpoch":1},
		{"audienceId":"b","updateEpoch":"1763647380"}],
		"_page":{"totalCount":"12","next":7},"_links":{"next":{"href":"@/audiences?start=7"}}}`))
	if err != nil || len(page) != 2 || href != "@/audiences?start=7" || cursor != "7" || total != 12 {
		t.Fatalf("page %+v href %q cursor %q total %d err %v", page, href, cursor, total, err)
	}
	when := time.Date(2025, 11, 20, 14, 3, 0, 0, time.UTC)
	if page[0].Lifecycle != "published" || !page[0].Updated.Equal(when) || page[1].ID != "b" || !page[1].Updated.Equal(when) {
		t.Fatalf("audiences %+v", page)
	}
	if _, _, _, _, err := decodeAudiencePage([]byte(`{"children":[{"name":"no id"}]}`)); !errors.Is(err, ErrDecode) {
		t.Fatalf("an audience without id: err = %v", err)
	}

	bulk, err := decodeBulk([]byte(`{"results":{"a":{"id":"a","name":"A"},"gone":{"status":404,"title":"Not Found"},"odd":null,"x":{"name":"no id"}}}`))
	if err != nil || len(bulk) != 1 || bulk["a"].Name != "A" {
		t.Fatalf("bulk %+v, %v", bulk, err)
	}

	f, err := decodeFlow([]byte(`{"id":"f","name":"bare","state":"enabled","transformations":[{"params":{"segmentSelectors":{"selectors":[
		{"type":"PLATFORM_SEGMENT","value":{"id":"a","name":"A"}},{"type":"OTHER","value":{"id":"z"}},{"type":"PLATFORM_SEGMENT","value":{"id":"a"}}]}}}]}`), "f")
	if err != nil || f.Name != "bare" || !slices.Equal(f.Audiences, []FlowAudience{{"a", "A"}}) {
		t.Fatalf("a bare flow: %+v, %v", f, err)
	}
	if _, err := decodeFlow([]byte(`{"items":[{"id":"other"}]}`), "f"); !errors.Is(err, ErrDecode) {
		t.Fatalf("the wrong flow: err = %v", err)
	}
}

// TestSecretsNeverShown collects everything the package prints — the config, errors of every
// kind, logs, the report as text and JSON — and looks for the secret and the token in it.
func TestSecretsNeverShown(t *testing.T) {
	const token = "tok-LEAKED-IF-PRINTED"
	// A Platform that echoes what it was sent into its error answers.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ims/token/v3" {
			_ = r.ParseForm()
			if r.URL.Query().Get("fail") != "" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, r.PostForm.Get("client_secret"))
				return
			}
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, token)
			return
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"title":"%s","detail":"%s","error_code":"%s"}`, r.Header.Get("Authorization"), testSecret, token)
	}))
	defer echo.Close()

	var printed []string
	logs := &lockedBuffer{}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig()), logs, zap.DebugLevel))
	ctx := context.Background()
	cfg := Config{ClientID: testClientID, ClientSecret: testSecret, OrgID: testOrg, FlowIDs: []string{"f"}, IMSURL: echo.URL, PlatformURL: echo.URL}
	js, _ := json.Marshal(cfg)
	printed = append(printed, cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), string(js))

	// Platform echoing the token and the secret in its errors, retried.
	c := newTestClient(t, cfg, Options{Logger: logger, MaxRetries: 1})
	printed = append(printed, c.String(), fmt.Sprintf("%v %+v", c.Config(), c.Config()))
	_, err := c.Sync(ctx)
	if err == nil {
		t.Fatal("the echoing Platform must fail")
	}
	printed = append(printed, err.Error(), fmt.Sprintf("%+v %#v", err, err))

	// IMS echoing the secret in its refusal.
	imsFails := Options{Logger: logger, HTTPClient: failingIMS(echo.Client())}
	_, err = newTestClient(t, cfg, imsFails).Sync(ctx)
	if Classify(err) != KindCredentials {
		t.Fatalf("err = %v, want bad credentials", err)
	}
	printed = append(printed, err.Error())

	for _, opts := range []Options{imsFails, {Logger: logger, MaxRetries: -1}} {
		r := Check(ctx, cfg, opts)
		rjs, _ := json.Marshal(r)
		printed = append(printed, r.String(), string(rjs))
	}
	printed = append(printed, logs.String())

	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("the logs saw no retry, the test proves nothing: %s", logs)
	}
	for _, out := range printed {
		if strings.Contains(out, testSecret) || strings.Contains(out, token) {
			t.Errorf("a secret is shown:\n%s", out)
		}
	}
}

// failingIMS sends token requests with ?fail=1, which the echo server refuses by echoing the
// secret.
func failingIMS(hc *http.Client) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/ims/token/v3" {
			u := *r.URL
			u.RawQuery = url.Values{"fail": {"1"}}.Encode()
			r = r.Clone(r.Context())
			r.URL = &u
		}
		return hc.Transport.RoundTrip(r)
	})}
}

// lockedBuffer collects log output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Sync() error { return nil }

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
