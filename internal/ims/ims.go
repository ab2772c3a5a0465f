// Package ims fetches and caches Adobe IMS access tokens with the OAuth server-to-server
// (client-credentials) grant, for every client of an Adobe API in this project: the Edge
// Network lookups and the Experience Platform catalog sync. A token is fetched once, shared by
// concurrent callers and renewed a margin before it expires; IMS issues no refresh token.
package ims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoints and limits.
const (
	// DefaultTokenURL is the token endpoint of Adobe IMS for the client-credentials grant.
	DefaultTokenURL = "https://ims-na1.adobelogin.com" + TokenPath
	// TokenPath is the path of the token endpoint on an IMS host.
	TokenPath = "/ims/token/v3"

	bodyLimit = 64 << 10 // bytes of a token answer or an error body read
)

// ErrDecode wraps every failure to read a token answer: invalid JSON, no token, no lifetime,
// or a body over the limit.
var ErrDecode = errors.New("ims: undecodable token response")

// Secret is a credential that must never be printed: every fmt verb, String, GoString and
// JSON or text marshaling show "[redacted]". string(s) is the value.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, so no format string shows the value.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// MarshalJSON encodes "[redacted]", so a config dumped as JSON does not carry the secret.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes "[redacted]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Credentials are the OAuth server-to-server credential of an Adobe Developer Console project.
type Credentials struct {
	TokenURL     string // default DefaultTokenURL
	ClientID     string // also the x-api-key of API calls
	ClientSecret Secret
	Scope        string // comma-separated scopes; optional
}

// Options tune a Source.
type Options struct {
	// HTTPClient sends the token requests; default http.DefaultClient. Deadlines come from the
	// context.
	HTTPClient *http.Client
	// Margin says how long before its expiry a token of the given lifetime stops being used;
	// default a tenth of the lifetime.
	Margin func(lifetime time.Duration) time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Error is an error status from IMS, with its OAuth error code and description when the body
// had them (RFC 6749 §5.2: {"error": ..., "error_description": ...}).
type Error struct {
	Status      int           // HTTP status code
	Code        string        // OAuth error code such as "invalid_client"; "" when absent
	Description string        // error_description, with the client secret removed
	RetryAfter  time.Duration // parsed Retry-After, zero when absent
}

func (e *Error) Error() string {
	title := e.Code
	if title == "" {
		title = http.StatusText(e.Status)
	}
	if e.Description != "" {
		return fmt.Sprintf("ims: status %d: %s: %s", e.Status, title, e.Description)
	}
	return fmt.Sprintf("ims: status %d: %s", e.Status, title)
}

// InvalidClient reports whether IMS refused the client ID or secret.
func (e *Error) InvalidClient() bool {
	return e.Code == "invalid_client" || e.Code == "unauthorized_client" ||
		(e.Code == "" && e.Status == http.StatusUnauthorized)
}

// Source fetches tokens and caches them. One fetch runs at a time; callers that arrive
// meanwhile wait for it and reuse its token. It is safe for concurrent use.
type Source struct {
	creds  Credentials
	hc     *http.Client
	now    func() time.Time
	margin func(time.Duration) time.Duration

	fetching chan struct{} // one slot: held while a fetch runs

	mu      sync.Mutex
	token   string
	refresh time.Time // when the token stops being used
	fetches int64
}

// NewSource returns a Source for creds. It checks nothing: a wrong credential shows on the
// first Token call.
func NewSource(creds Credentials, opts Options) *Source {
	if creds.TokenURL == "" {
		creds.TokenURL = DefaultTokenURL
	}
	s := &Source{creds: creds, hc: opts.HTTPClient, now: opts.Now, margin: opts.Margin, fetching: make(chan struct{}, 1)}
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.margin == nil {
		s.margin = func(lifetime time.Duration) time.Duration { return lifetime / 10 }
	}
	return s
}

// Token returns the cached token, or fetches a new one. Waiting for another caller's fetch
// honors ctx.
func (s *Source) Token(ctx context.Context) (string, error) {
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	select {
	case s.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("ims: waiting for a token: %w", ctx.Err())
	}
	defer func() { <-s.fetching }()
	if tok, ok := s.cached(); ok {
		return tok, nil // fetched by the caller that held the slot before
	}
	tok, lifetime, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	margin := min(max(s.margin(lifetime), 0), lifetime)
	s.mu.Lock()
	s.token, s.refresh = tok, s.now().Add(lifetime-margin)
	s.fetches++
	s.mu.Unlock()
	return tok, nil
}

// Invalidate drops token if it is still the cached one, after an API refused it.
func (s *Source) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

// Fetches returns how many tokens were fetched so far.
func (s *Source) Fetches() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// ClientID returns the client ID, which API calls send as x-api-key.
func (s *Source) ClientID() string { return s.creds.ClientID }

func (s *Source) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || !s.now().Before(s.refresh) {
		return "", false
	}
	return s.token, true
}

// tokenResponse is IMS's answer; expires_in is in seconds for the v3 endpoint, a number or
// a numeric string.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// fetch asks IMS for a token and returns it with its lifetime.
func (s *Source) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.creds.ClientID},
		"client_secret": {string(s.creds.ClientSecret)},
	}
	if s.creds.Scope != "" {
		form.Set("scope", s.creds.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.creds.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("ims: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("ims: token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, s.readError(resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit+1))
	if err != nil {
		return "", 0, fmt.Errorf("ims: reading the token: %w", err)
	}
	if len(raw) > bodyLimit {
		return "", 0, fmt.Errorf("%w: over %d bytes", ErrDecode, bodyLimit)
	}
	return decodeToken(raw)
}

// decodeToken reads a 200 answer: the token and its lifetime.
func decodeToken(raw []byte) (string, time.Duration, error) {
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	secs, err := strconv.ParseFloat(strings.Trim(string(tr.ExpiresIn), `"`), 64)
	if tr.AccessToken == "" || err != nil || secs < 1 || secs > 1e9 {
		return "", 0, fmt.Errorf("%w: no access_token or expires_in", ErrDecode)
	}
	return tr.AccessToken, time.Duration(secs) * time.Second, nil
}

// readError turns an error answer into an *Error, never carrying the client secret.
func (s *Source) readError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), s.now()); ok {
		e.RetryAfter = d
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Code, e.Description = body.Error, body.ErrorDescription
	}
	if secret := string(s.creds.ClientSecret); secret != "" {
		e.Code = strings.ReplaceAll(e.Code, secret, redacted)
		e.Description = strings.ReplaceAll(e.Description, secret, redacted)
	}
	return e
}

// CheckServiceURL accepts where an Adobe service is reached: an absolute http(s) URL without
// credentials, query or fragment, so a token goes nowhere else.
func CheckServiceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: no credentials, query or fragment allowed", raw)
	}
	return nil
}

// ParseRetryAfter reads a Retry-After value in seconds or as an HTTP date, as Adobe's services
// send it. An absurdly long value comes back as a day.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if strings.Trim(v, "0123456789") == "" {
		return 24 * time.Hour, true // too many digits for 32 bits
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

var (
	_ error          = (*Error)(nil)
	_ fmt.Formatter  = Secret("")
	_ fmt.GoStringer = Secret("")
	_ json.Marshaler = Secret("")
)
