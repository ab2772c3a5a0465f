// The Edge Network Server API client: request building, the answer's handles, retries with
// backoff, authentication and error kinds; one file over 500 lines because the interact call
// is one exchange whose parts only make sense together.

package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

// Defaults and limits of the Edge Network client.
const (
	// DefaultBaseURL is the unauthenticated Edge Network endpoint.
	DefaultBaseURL = "https://edge.adobedc.net"
	// DefaultAuthBaseURL is the authenticated Edge Network endpoint, used when Auth is set
	// and BaseURL is empty.
	DefaultAuthBaseURL = "https://server.adobedc.net"
	// DefaultIMSURL is Adobe IMS's token endpoint for the client-credentials grant.
	DefaultIMSURL = "https://ims-na1.adobelogin.com/ims/token/v3"
	// DefaultMaxBody bounds a response body read from the Edge Network.
	DefaultMaxBody = 1 << 20
	// MaxRequestBody is the Edge Network's request size limit; requests stay below it.
	MaxRequestBody = 64 << 10
	// EventType is the XDM event type of a lookup.
	EventType = "decisioning.propositionFetch"

	maxRetries     = 2                // retries after the first attempt, for 429/502/503/504
	maxRetryWait   = 10 * time.Second // a longer Retry-After is not waited for
	baseBackoff    = 50 * time.Millisecond
	errorBodyLimit = 64 << 10 // bytes of an error body read for its problem details
)

// Options configure a Client.
type Options struct {
	// BaseURL is the Edge Network origin; default DefaultBaseURL, or DefaultAuthBaseURL with Auth.
	BaseURL string
	// DatastreamID is the datastream asked (required).
	DatastreamID string
	// OrgID is the IMS organization, such as "53A16ACB5CC1D3760A495C99@AdobeOrg"; required with Auth.
	OrgID string
	// HTTPClient sends the requests; default a client that keeps connections to the Edge
	// Network alive and follows no redirects. Deadlines come from the context.
	HTTPClient *http.Client
	// DestinationAlias, when set, keeps only segments of activation:pull payloads with this alias.
	DestinationAlias string
	// Auth, when set, sends authenticated requests with an IMS token.
	Auth *AuthConfig
	// MaxBody bounds a response body in bytes; default DefaultMaxBody.
	MaxBody int64
	// Clusters allow-lists region hints used in the URL path; default DefaultClusters. A hint
	// outside the list is ignored, not an error.
	Clusters []string
}

// AuthConfig holds the credentials of an authenticated datastream.
type AuthConfig struct {
	ClientID     string // API key of the Developer Console project; also sent as x-api-key
	ClientSecret string
	IMSURL       string // default DefaultIMSURL
	Scope        string // optional, such as "openid,AdobeID,additional_info.projectedProductContext"
}

// Identity is who to look up: the ECID, the region hint and the Web SDK state to forward.
type Identity struct {
	ECID         string       // 38 digits
	Cluster      string       // region hint from the cluster cookie; ignored unless allow-listed
	StateEntries []StateEntry // the browser's kndctr_* cookies, forwarded as meta.state.entries
	Domain       string       // the site's cookie domain, sent as meta.state.domain
}

// StateEntry is one forwarded Web SDK cookie.
type StateEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// StoreEntry is a cookie the Edge Network asks the client to set (a state:store payload).
type StoreEntry struct {
	Key    string
	Value  string
	MaxAge int               // seconds
	Attrs  map[string]string // such as SameSite
}

// Problem is an RFC 7807 problem or a 207 warning.
type Problem struct {
	Type   string
	Status int
	Title  string
	Detail string
	Code   string
}

// Result is what one interact call returned.
type Result struct {
	RequestID    string
	Segments     []string     // sorted, unique segment IDs from activation:pull payloads
	Store        []StoreEntry // state:store entries: cookies to set
	LocationHint string       // EdgeNetwork region hint from locationHint:result, if any
	Warnings     []Problem    // 207 warnings
	Errors       []Problem    // 207 errors of a partial success
}

// Client calls the Edge Network's interact endpoint. It is safe for concurrent use.
type Client struct {
	baseURL    string
	datastream string
	orgID      string
	alias      string
	maxBody    int64
	clusters   map[string]bool
	hc         *http.Client
	auth       *AuthConfig
	tokens     *tokenSource
}

// NewClient checks opts, fills in the defaults and returns a Client.
func NewClient(opts Options) (*Client, error) {
	if opts.DatastreamID == "" {
		return nil, errors.New("edge: datastream ID is required")
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
		if opts.Auth != nil {
			base = DefaultAuthBaseURL
		}
	}
	if err := ims.CheckServiceURL(base); err != nil {
		return nil, fmt.Errorf("edge: base URL: %w", err)
	}
	c := &Client{
		baseURL:    strings.TrimRight(base, "/"),
		datastream: opts.DatastreamID,
		orgID:      opts.OrgID,
		alias:      opts.DestinationAlias,
		maxBody:    opts.MaxBody,
		clusters:   map[string]bool{},
		hc:         opts.HTTPClient,
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	clusters := opts.Clusters
	if len(clusters) == 0 {
		clusters = DefaultClusters
	}
	for _, name := range clusters {
		if !validClusterName(name) {
			return nil, fmt.Errorf("edge: cluster %q: want 2-4 lower-case letters and 1-2 digits", name)
		}
		c.clusters[name] = true
	}
	if opts.Auth != nil {
		if err := c.setAuth(*opts.Auth); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) setAuth(auth AuthConfig) error {
	if auth.ClientID == "" || auth.ClientSecret == "" {
		return errors.New("edge: auth needs a client ID and a client secret")
	}
	if c.orgID == "" {
		return errors.New("edge: auth needs an org ID")
	}
	if auth.IMSURL == "" {
		auth.IMSURL = DefaultIMSURL
	}
	if err := ims.CheckServiceURL(auth.IMSURL); err != nil {
		return fmt.Errorf("edge: IMS URL: %w", err)
	}
	c.auth = &auth
	c.tokens = newTokenSource(auth, c.hc)
	return nil
}

// defaultHTTPClient keeps enough idle connections to the single Edge host and does not follow
// redirects, so neither the body nor the token goes anywhere else.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// AllowedCluster reports whether cluster is in the client's allow-list of region hints.
func (c *Client) AllowedCluster(cluster string) bool { return c.clusters[cluster] }

// DatastreamID returns the datastream the client asks.
func (c *Client) DatastreamID() string { return c.datastream }

// Endpoint returns the interact URL for a region hint ("" or one not allow-listed: none).
func (c *Client) Endpoint(cluster string) string {
	path := "/ee/v2/interact"
	if c.clusters[cluster] {
		path = "/ee/" + cluster + "/v2/interact"
	}
	return c.baseURL + path + "?datastreamId=" + url.QueryEscape(c.datastream)
}

// Lookup asks the Edge Network for the audiences of id. It retries 429, 502, 503 and 504 at
// most twice, honoring Retry-After, but never waits past ctx's deadline.
func (c *Client) Lookup(ctx context.Context, id Identity) (Result, error) {
	if !ValidECID(id.ECID) {
		return Result{}, fmt.Errorf("%w: ECID must be 38 digits", ErrInvalidIdentity)
	}
	body, err := c.requestBody(id, time.Now())
	if err != nil {
		return Result{}, err
	}
	endpoint := c.Endpoint(id.Cluster)
	for attempt := 0; ; attempt++ {
		res, httpErr, err := c.do(ctx, endpoint, body)
		if err != nil || httpErr == nil {
			return res, err
		}
		if attempt == maxRetries || !retryable(httpErr.Status) {
			return Result{}, httpErr
		}
		wait := httpErr.RetryAfter
		if wait == 0 {
			wait = baseBackoff << attempt
		}
		if !sleep(ctx, wait) {
			return Result{}, httpErr
		}
	}
}

// retryable reports whether an error status is worth another attempt.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// sleep waits d unless that would pass ctx's deadline, exceeds maxRetryWait, or ctx ends
// first; it reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	if d > maxRetryWait {
		return false
	}
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

// do sends one attempt. An error status comes back as httpErr, any other failure as err.
func (c *Client) do(ctx context.Context, endpoint string, body []byte) (res Result, httpErr *HTTPError, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, nil, fmt.Errorf("edge: interact request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	var token string
	if c.tokens != nil {
		if token, err = c.tokens.Token(ctx); err != nil {
			return Result{}, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("x-api-key", c.auth.ClientID)
		req.Header.Set("x-gw-ims-org-id", c.orgID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Result{}, nil, fmt.Errorf("edge: interact: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultiStatus {
		if resp.StatusCode == http.StatusUnauthorized && c.tokens != nil {
			c.tokens.Invalidate(token)
		}
		return Result{}, readProblem(resp, time.Now()), nil
	}
	raw, err := readBounded(resp, c.maxBody)
	if err != nil {
		return Result{}, nil, err
	}
	res, err = c.decodeResult(raw)
	return res, nil, err
}

// readBounded reads a response body of at most limit bytes. A larger declared or actual body
// is refused without reading past limit+1 bytes.
func readBounded(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %w: %d bytes declared, limit %d", ErrDecode, ErrResponseTooLarge, resp.ContentLength, limit)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("edge: reading response: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: %w: over %d bytes", ErrDecode, ErrResponseTooLarge, limit)
	}
	return raw, nil
}

// Wire shapes of the interact request.
type (
	interactRequest struct {
		Event requestEvent `json:"event"`
		Meta  requestMeta  `json:"meta"`
	}
	requestEvent struct {
		XDM requestXDM `json:"xdm"`
	}
	requestXDM struct {
		EventType   string                    `json:"eventType"`
		Timestamp   string                    `json:"timestamp"`
		IdentityMap map[string][]identityItem `json:"identityMap"`
	}
	identityItem struct {
		ID                 string `json:"id"`
		AuthenticatedState string `json:"authenticatedState"`
		Primary            bool   `json:"primary"`
	}
	requestMeta struct {
		State requestState `json:"state"`
	}
	requestState struct {
		Domain         string       `json:"domain,omitempty"`
		CookiesEnabled bool         `json:"cookiesEnabled"`
		Entries        []StateEntry `json:"entries,omitempty"`
	}
)

// requestBody encodes the interact body for id and checks it against MaxRequestBody.
func (c *Client) requestBody(id Identity, now time.Time) ([]byte, error) {
	body, err := json.Marshal(interactRequest{
		Event: requestEvent{XDM: requestXDM{
			EventType: EventType,
			Timestamp: now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			IdentityMap: map[string][]identityItem{
				"ECID": {{ID: id.ECID, AuthenticatedState: "ambiguous", Primary: true}},
			},
		}},
		Meta: requestMeta{State: requestState{Domain: id.Domain, CookiesEnabled: true, Entries: id.StateEntries}},
	})
	if err != nil {
		return nil, fmt.Errorf("edge: encoding request: %w", err)
	}
	if len(body) >= MaxRequestBody {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRequestTooLarge, len(body), MaxRequestBody)
	}
	return body, nil
}

// Wire shapes of the interact response; unknown fields are ignored.
type (
	interactResponse struct {
		RequestID string        `json:"requestId"`
		Handle    []handle      `json:"handle"`
		Warnings  []wireProblem `json:"warnings"`
		Errors    []wireProblem `json:"errors"`
	}
	handle struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	destinationPayload struct {
		Type          string `json:"type"`
		DestinationID string `json:"destinationId"`
		Alias         string `json:"alias"`
		Segments      []struct {
			ID string `json:"id"`
		} `json:"segments"`
	}
	storePayload struct {
		Key    string                     `json:"key"`
		Value  string                     `json:"value"`
		MaxAge flexInt                    `json:"maxAge"`
		Attrs  map[string]json.RawMessage `json:"attrs"`
	}
	locationHintPayload struct {
		Scope string `json:"scope"`
		Hint  string `json:"hint"`
	}
	wireProblem struct {
		Type             string  `json:"type"`
		Status           flexInt `json:"status"`
		Title            string  `json:"title"`
		Detail           string  `json:"detail"`
		Code             string  `json:"code"`
		Error            string  `json:"error"`             // IMS
		ErrorDescription string  `json:"error_description"` // IMS
	}
)

// flexInt decodes a JSON number or numeric string; anything else decodes as 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1<<31 && f <= 1<<31-1 {
		*n = flexInt(f)
	}
	return nil
}

func (p wireProblem) problem() Problem {
	return Problem{Type: p.Type, Status: int(p.Status), Title: p.Title, Detail: p.Detail, Code: p.Code}
}

// decodeResult reads a 200 or 207 body.
func (c *Client) decodeResult(raw []byte) (Result, error) {
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Result{}, fmt.Errorf("%w: want a JSON object", ErrDecode)
	}
	var resp interactResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	res := Result{RequestID: resp.RequestID}
	for _, p := range resp.Warnings {
		res.Warnings = append(res.Warnings, p.problem())
	}
	for _, p := range resp.Errors {
		res.Errors = append(res.Errors, p.problem())
	}
	for _, h := range resp.Handle {
		if err := c.readHandle(h, &res); err != nil {
			return Result{}, err
		}
	}
	slices.Sort(res.Segments)
	res.Segments = slices.Compact(res.Segments)
	return res, nil
}

// readHandle adds what one handle carries to res; handles of other types are skipped.
func (c *Client) readHandle(h handle, res *Result) error {
	if len(h.Payload) == 0 || string(h.Payload) == "null" {
		return nil
	}
	switch h.Type {
	case "activation:pull":
		var payloads []destinationPayload
		if err := json.Unmarshal(h.Payload, &payloads); err != nil {
			return fmt.Errorf("%w: activation:pull payload: %v", ErrDecode, err)
		}
		for _, p := range payloads {
			if c.alias != "" && p.Alias != c.alias {
				continue
			}
			for _, s := range p.Segments {
				if s.ID != "" {
					res.Segments = append(res.Segments, s.ID)
				}
			}
		}
	case "state:store":
		var entries []storePayload
		if err := json.Unmarshal(h.Payload, &entries); err != nil {
			return fmt.Errorf("%w: state:store payload: %v", ErrDecode, err)
		}
		for _, e := range entries {
			if e.Key != "" {
				res.Store = append(res.Store, StoreEntry{Key: e.Key, Value: e.Value, MaxAge: int(e.MaxAge), Attrs: stringAttrs(e.Attrs)})
			}
		}
	case "locationHint:result":
		var hints []locationHintPayload
		if err := json.Unmarshal(h.Payload, &hints); err != nil {
			return fmt.Errorf("%w: locationHint:result payload: %v", ErrDecode, err)
		}
		for _, hint := range hints {
			if hint.Scope == "EdgeNetwork" && validClusterName(hint.Hint) {
				res.LocationHint = hint.Hint
			}
		}
	}
	return nil
}

// stringAttrs keeps the string, number and boolean cookie attributes of a state:store entry.
func stringAttrs(attrs map[string]json.RawMessage) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		var s string
		switch t := string(v); {
		case json.Unmarshal(v, &s) == nil:
			out[k] = s
		case t == "true" || t == "false":
			out[k] = t
		default:
			if _, err := strconv.ParseFloat(t, 64); err == nil {
				out[k] = t
			}
		}
	}
	return out
}

// readProblem turns an error response into an HTTPError, using its problem details (RFC 7807,
// or IMS's error/error_description) when the body has them.
func readProblem(resp *http.Response, now time.Time) *HTTPError {
	e := &HTTPError{Status: resp.StatusCode}
	if d, ok := ims.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	var p wireProblem
	if json.Unmarshal(raw, &p) == nil {
		e.Type, e.Title, e.Detail = p.Type, p.Title, p.Detail
		if e.Title == "" {
			e.Title = p.Error
		}
		if e.Detail == "" {
			e.Detail = p.ErrorDescription
		}
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}
