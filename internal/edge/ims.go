package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token refresh: a token is used until expires_in minus a margin of 10% of its lifetime, at
// most maxTokenMargin, so a request never leaves with a token about to expire.
const (
	maxTokenMargin = 60 * time.Second
	tokenBodyLimit = 64 << 10
)

// tokenSource fetches IMS access tokens with the client-credentials grant and caches them.
// One fetch runs at a time; callers that arrive meanwhile wait for it and reuse its token.
type tokenSource struct {
	cfg AuthConfig
	hc  *http.Client
	now func() time.Time

	fetching chan struct{} // one slot: held while a fetch runs

	mu      sync.Mutex
	token   string
	refresh time.Time // when the token stops being used
}

func newTokenSource(cfg AuthConfig, hc *http.Client) *tokenSource {
	return &tokenSource{cfg: cfg, hc: hc, now: time.Now, fetching: make(chan struct{}, 1)}
}

// Token returns a cached token, or fetches a new one. Waiting for another caller's fetch
// honors ctx.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := t.cached(); ok {
		return tok, nil
	}
	select {
	case t.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("edge: waiting for IMS token: %w", ctx.Err())
	}
	defer func() { <-t.fetching }()
	if tok, ok := t.cached(); ok {
		return tok, nil // fetched by the caller that held the slot before
	}
	tok, lifetime, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	margin := min(lifetime/10, maxTokenMargin)
	t.mu.Lock()
	t.token, t.refresh = tok, t.now().Add(lifetime-margin)
	t.mu.Unlock()
	return tok, nil
}

// Invalidate drops token if it is still the cached one, after the Edge Network refused it.
func (t *tokenSource) Invalidate(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == token {
		t.token = ""
	}
}

func (t *tokenSource) cached() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" || !t.now().Before(t.refresh) {
		return "", false
	}
	return t.token, true
}

// tokenResponse is IMS's answer; expires_in is in seconds for the v3 endpoint.
type tokenResponse struct {
	AccessToken string  `json:"access_token"`
	TokenType   string  `json:"token_type"`
	ExpiresIn   flexInt `json:"expires_in"`
}

// fetch asks IMS for a token and returns it with its lifetime.
func (t *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.cfg.ClientID},
		"client_secret": {t.cfg.ClientSecret},
	}
	if t.cfg.Scope != "" {
		form.Set("scope", t.cfg.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.IMSURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("edge: IMS request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("edge: IMS token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("edge: IMS token: %w", readProblem(resp, t.now()))
	}
	raw, err := readBounded(resp, tokenBodyLimit)
	if err != nil {
		return "", 0, fmt.Errorf("edge: IMS token: %w", err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return "", 0, fmt.Errorf("edge: IMS token: %w: %v", ErrDecode, err)
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return "", 0, fmt.Errorf("edge: IMS token: %w: no access_token or expires_in", ErrDecode)
	}
	return tr.AccessToken, time.Duration(tr.ExpiresIn) * time.Second, nil
}
