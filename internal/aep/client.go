// Package aep reads Adobe Experience Platform with an OAuth server-to-server credential: the
// audiences of the Segmentation Service, the destination dataflows of the Flow Service that
// activate them to the store, the audience catalog built from both (Sync), and a credential
// check that says in plain words what is wrong (Check). Secrets never appear in its errors,
// logs or String output.
//
// The client is one file (over 500 lines): token, paging, retries and errors are one exchange.
package aep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

// Defaults of Config and Options.
const (
	// DefaultIMSURL is the origin of Adobe IMS; tokens come from DefaultIMSURL + ims.TokenPath.
	DefaultIMSURL = "https://ims-na1.adobelogin.com"
	// DefaultPlatformURL is the origin of the Experience Platform APIs.
	DefaultPlatformURL = "https://platform.adobe.io"
	// DefaultSandbox is the sandbox asked when Config.Sandbox is empty.
	DefaultSandbox = "prod"
	// DefaultScope is what a Developer Console project with the Experience Platform API grants
	// its OAuth server-to-server credential.
	DefaultScope = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"
	// RenewBefore is how long before expiry a token is replaced, as Adobe's own SDK does; a
	// token living less than twice as long is replaced at half its lifetime.
	RenewBefore = 500 * time.Second

	DefaultPageSize       = 100              // audiences asked per page
	DefaultBulkSize       = 50               // audience IDs per bulk-get request
	DefaultMaxBody        = 16 << 20         // bytes of one answer
	DefaultRequestTimeout = 30 * time.Second // one HTTP attempt
	DefaultMaxRetries     = 3                // retries of a 429 or 5xx after the first attempt
	DefaultMaxRetryWait   = 30 * time.Second // a longer Retry-After is not waited for

	baseBackoff    = 200 * time.Millisecond
	errorBodyLimit = 64 << 10
	maxPages       = 10000
)

// Paths of the Platform APIs: the Segmentation Service (ups) and the Flow Service.
const (
	upsPath         = "/data/core/ups"
	audiencesPath   = upsPath + "/audiences"
	bulkGetPath     = upsPath + "/audiences/bulk-get"
	flowServicePath = "/data/foundation/flowservice"
	flowsPath       = flowServicePath + "/flows"
)

// Config is what the operator configures: the credential of a Developer Console project, the
// organization and sandbox, and the destination dataflows whose audiences make the catalog.
type Config struct {
	ClientID     string     // the credential's client ID, also sent as x-api-key
	ClientSecret ims.Secret // the credential's client secret
	OrgID        string     // the organization, "…@AdobeOrg"
	Sandbox      string     // default DefaultSandbox
	Scope        string     // default DefaultScope
	FlowIDs      []string   // destination dataflow IDs whose audiences are activated to the store
	IMSURL       string     // IMS origin, default DefaultIMSURL (tests point it at a fake)
	PlatformURL  string     // Platform origin, default DefaultPlatformURL
}

// String describes the configuration without its secret, for logs and status pages.
func (c Config) String() string {
	sandbox := c.Sandbox
	if sandbox == "" {
		sandbox = DefaultSandbox
	}
	s := fmt.Sprintf("aep(org %s, sandbox %s, client %s", c.OrgID, sandbox, c.ClientID)
	if len(c.FlowIDs) > 0 {
		s += ", flows " + strings.Join(c.FlowIDs, ",")
	}
	return s + ")"
}

// GoString is String, so %#v shows no secret either.
func (c Config) GoString() string { return c.String() }

var (
	orgIDPattern   = regexp.MustCompile(`^[A-Za-z0-9]+@AdobeOrg$`)
	sandboxPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,254}$`)
	flowIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// Validate checks the configuration before anything is sent, with errors in plain words. It
// does not fill in defaults.
func (c Config) Validate() error {
	var problems []string
	if strings.TrimSpace(c.ClientID) == "" {
		problems = append(problems, "client_id is missing: copy it from the OAuth Server-to-Server credential of the Developer Console project")
	}
	if strings.TrimSpace(string(c.ClientSecret)) == "" {
		problems = append(problems, "client_secret is missing: copy it from the same credential (Retrieve client secret)")
	}
	switch {
	case c.OrgID == "":
		problems = append(problems, "org_id is missing: use the Organization ID of the credential, ending in @AdobeOrg")
	case !orgIDPattern.MatchString(c.OrgID):
		problems = append(problems, fmt.Sprintf("org_id %q does not look like an organization ID: it ends in @AdobeOrg, such as 53A16ACB5CC1D3760A495C99@AdobeOrg", c.OrgID))
	}
	if c.Sandbox != "" && !sandboxPattern.MatchString(c.Sandbox) {
		problems = append(problems, fmt.Sprintf("sandbox %q is not a sandbox name: names are lower-case letters, digits and dashes, such as prod", c.Sandbox))
	}
	seen := map[string]bool{}
	for _, id := range c.FlowIDs {
		switch {
		case !flowIDPattern.MatchString(id):
			problems = append(problems, fmt.Sprintf("flow ID %q is not a dataflow ID", id))
		case seen[id]:
			problems = append(problems, fmt.Sprintf("flow ID %q is named twice", id))
		}
		seen[id] = true
	}
	for _, u := range []struct{ name, raw string }{{"ims_url", c.IMSURL}, {"platform_url", c.PlatformURL}} {
		if u.raw != "" {
			if err := ims.CheckServiceURL(u.raw); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", u.name, err))
			}
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// ConfigError lists what is wrong with a Config.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "experience platform configuration: " + strings.Join(e.Problems, "; ")
}

// Options tune a Client; the zero value is right for production.
type Options struct {
	// HTTPClient sends every request; default a client that follows no redirects, so the
	// token goes nowhere else. Deadlines come from the context and RequestTimeout.
	HTTPClient *http.Client
	// Logger hears of retries and of audiences a flow names but the audiences API does not
	// know, at debug and warn; default none. It never sees a secret or a token.
	Logger *zap.Logger
	// PageSize is the number of audiences asked per page; default DefaultPageSize.
	PageSize int
	// BulkSize is the number of audience IDs per bulk-get request; default DefaultBulkSize.
	BulkSize int
	// MaxBody bounds one answer in bytes; default DefaultMaxBody.
	MaxBody int64
	// RequestTimeout bounds one HTTP attempt; default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRetries is how often a 429 or 5xx answer is retried; default DefaultMaxRetries,
	// negative for none.
	MaxRetries int
	// MaxRetryWait is the longest Retry-After waited for; default DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// Now is the clock of the token cache; default time.Now.
	Now func() time.Time
}

// Client calls Experience Platform for one Config. It is safe for concurrent use.
type Client struct {
	cfg      Config
	platform *url.URL
	tokens   *ims.Source
	hc       *http.Client
	log      *zap.Logger

	pageSize, bulkSize, maxRetries int
	maxBody                        int64
	requestTimeout, maxRetryWait   time.Duration
}

// NewClient checks cfg, fills in the defaults and returns a Client. It sends nothing.
func NewClient(cfg Config, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.FlowIDs = slices.Clone(cfg.FlowIDs)
	cfg.Sandbox = cmpOr(cfg.Sandbox, DefaultSandbox)
	cfg.Scope = cmpOr(cfg.Scope, DefaultScope)
	cfg.IMSURL = strings.TrimRight(cmpOr(cfg.IMSURL, DefaultIMSURL), "/")
	cfg.PlatformURL = strings.TrimRight(cmpOr(cfg.PlatformURL, DefaultPlatformURL), "/")
	platform, err := url.Parse(cfg.PlatformURL)
	if err != nil {
		return nil, fmt.Errorf("experience platform: platform URL: %w", err)
	}
	c := &Client{
		cfg:            cfg,
		platform:       platform,
		hc:             opts.HTTPClient,
		log:            opts.Logger,
		pageSize:       opts.PageSize,
		bulkSize:       opts.BulkSize,
		maxRetries:     opts.MaxRetries,
		maxBody:        opts.MaxBody,
		requestTimeout: opts.RequestTimeout,
		maxRetryWait:   opts.MaxRetryWait,
	}
	if c.hc == nil {
		c.hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	c.pageSize = cmpOr(c.pageSize, DefaultPageSize)
	c.bulkSize = cmpOr(c.bulkSize, DefaultBulkSize)
	c.maxBody = cmpOr(c.maxBody, DefaultMaxBody)
	c.requestTimeout = cmpOr(c.requestTimeout, DefaultRequestTimeout)
	c.maxRetryWait = cmpOr(c.maxRetryWait, DefaultMaxRetryWait)
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	c.tokens = ims.NewSource(ims.Credentials{
		TokenURL:     cfg.IMSURL + ims.TokenPath,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scope:        cfg.Scope,
	}, ims.Options{HTTPClient: c.hc, Now: opts.Now, Margin: renewMargin})
	return c, nil
}

// renewMargin replaces a token RenewBefore its expiry, or at half its lifetime when it is short.
func renewMargin(lifetime time.Duration) time.Duration {
	return min(RenewBefore, lifetime/2)
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}

// Config returns the configuration in use, defaults filled in.
func (c *Client) Config() Config {
	cfg := c.cfg
	cfg.FlowIDs = slices.Clone(cfg.FlowIDs)
	return cfg
}

// String describes the client without its secret.
func (c *Client) String() string { return c.cfg.String() }

// TokenFetches returns how many IMS tokens the client fetched so far.
func (c *Client) TokenFetches() int64 { return c.tokens.Fetches() }

// request is one API call: the method, an absolute URL and an optional JSON body.
type request struct {
	method string
	url    *url.URL
	body   []byte
	accept []int // success statuses; default 200
}

// do sends req with the auth headers and returns the body of a success answer. It retries a
// 429 or 5xx answer (from Platform or IMS) at most MaxRetries times, honoring Retry-After up
// to MaxRetryWait and never past ctx's deadline, and fetches a new token once when Platform
// refuses the cached one.
func (c *Client) do(ctx context.Context, req request) ([]byte, error) {
	refreshed := false
	for attempt := 0; ; attempt++ {
		raw, token, err := c.attempt(ctx, req)
		if err == nil {
			return raw, nil
		}
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && !refreshed {
			c.tokens.Invalidate(token) // expired or revoked early: one more try with a new one
			refreshed = true
			attempt--
			continue
		}
		wait, ok := retryWait(err, attempt)
		if !ok || attempt >= c.maxRetries {
			return nil, err
		}
		if wait > c.maxRetryWait {
			return nil, fmt.Errorf("%w (Retry-After %v is longer than the %v waited for)", err, wait, c.maxRetryWait)
		}
		c.log.Debug("experience platform: retrying", zap.String("method", req.method),
			zap.String("path", req.url.Path), zap.Int("attempt", attempt+1), zap.Duration("wait", wait), zap.Error(err))
		if !sleep(ctx, wait) {
			return nil, err
		}
	}
}

// retryWait says whether err is worth another attempt and how long to wait first.
func retryWait(err error, attempt int) (time.Duration, bool) {
	status, after := 0, time.Duration(0)
	var apiErr *Error
	var imsErr *ims.Error
	switch {
	case errors.As(err, &apiErr):
		status, after = apiErr.Status, apiErr.RetryAfter
	case errors.As(err, &imsErr):
		status, after = imsErr.Status, imsErr.RetryAfter
	default:
		return 0, false
	}
	if status != http.StatusTooManyRequests && (status < 500 || status > 599) {
		return 0, false
	}
	if after > 0 {
		return after, true
	}
	return baseBackoff << attempt, true
}

// sleep waits d unless ctx ends first or its deadline comes before; it reports whether it
// waited.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// attempt sends req once and returns the success body, or the error and the token it used.
func (c *Client) attempt(ctx context.Context, req request) ([]byte, string, error) {
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return nil, token, fmt.Errorf("experience platform: %s %s: %w", req.method, req.url.Path, err)
	}
	hreq.Header.Set("Authorization", "Bearer "+token)
	hreq.Header.Set("x-api-key", c.cfg.ClientID)
	hreq.Header.Set("x-gw-ims-org-id", c.cfg.OrgID)
	hreq.Header.Set("x-sandbox-name", c.cfg.Sandbox)
	hreq.Header.Set("Accept", "application/json")
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, token, fmt.Errorf("experience platform: %s %s: %w", req.method, req.url.Path, c.scrubErr(err, token))
	}
	defer resp.Body.Close()
	accept := req.accept
	if accept == nil {
		accept = []int{http.StatusOK}
	}
	if !slices.Contains(accept, resp.StatusCode) {
		return nil, token, c.readError(req, resp, token)
	}
	raw, err := readBounded(resp, c.maxBody)
	if err != nil {
		return nil, token, fmt.Errorf("experience platform: %s %s: %w", req.method, req.url.Path, err)
	}
	return raw, token, nil
}

// readBounded reads a body of at most limit bytes.
func readBounded(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: answer of %d bytes, limit %d", ErrDecode, resp.ContentLength, limit)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrDecode, limit)
	}
	return raw, nil
}

// readError turns an error answer into an *Error with its problem details.
func (c *Client) readError(req request, resp *http.Response, token string) *Error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	e := parseProblem(resp.StatusCode, raw)
	e.Method, e.Path = req.method, req.url.Path
	if d, ok := ims.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	e.Type, e.Title = c.scrub(e.Type, token), c.scrub(e.Title, token)
	e.Detail, e.Code = c.scrub(e.Detail, token), c.scrub(e.Code, token)
	return e
}

// scrub removes the client secret and the token from text that came from elsewhere.
func (c *Client) scrub(s, token string) string {
	for _, secret := range []string{string(c.cfg.ClientSecret), token} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// scrubErr keeps err when it carries no secret, and replaces it by its scrubbed text when it
// does (a transport error quoting a URL, for instance).
func (c *Client) scrubErr(err error, token string) error {
	msg := err.Error()
	if clean := c.scrub(msg, token); clean != msg {
		return errors.New(clean)
	}
	return err
}

// endpoint returns the Platform URL of path with query.
func (c *Client) endpoint(path string, query url.Values) *url.URL {
	u := *c.platform
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	return &u
}

// next resolves a paging link the way Platform writes them: an absolute URL on the Platform
// origin, a path from the origin ("/data/..."), or a path relative to the service
// ("@/audiences?start=…", "flows?continuationToken=…"). A link to another origin is refused:
// the token must not leave Platform.
func (c *Client) next(service, href string) (*url.URL, error) {
	href = strings.TrimPrefix(strings.TrimSpace(href), "@")
	ref, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("%w: next link %q: %v", ErrDecode, href, err)
	}
	base := *c.platform
	base.Path = strings.TrimRight(base.Path, "/")
	switch {
	case ref.IsAbs() || ref.Host != "":
		if !sameOrigin(ref, c.platform) {
			return nil, fmt.Errorf("%w: next link %q leaves %s", ErrDecode, href, c.platform.Host)
		}
		return ref, nil
	case strings.HasPrefix(ref.Path, "/data/"):
		base.Path += ref.Path
	default:
		base.Path += service + "/" + strings.TrimPrefix(ref.Path, "/")
	}
	base.RawQuery = ref.RawQuery
	return &base, nil
}

// sameOrigin compares scheme, host and port, with the scheme's default port filled in.
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// isTimeout reports whether err is a deadline or a network timeout.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

var _ fmt.Stringer = Config{}
