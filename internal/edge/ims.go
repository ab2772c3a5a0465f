package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

// Token refresh: a token is used until expires_in minus a margin of 10% of its lifetime, at
// most maxTokenMargin, so a request never leaves with a token about to expire.
const maxTokenMargin = 60 * time.Second

// tokenSource adapts the shared IMS token cache (internal/ims) to this package: its errors
// become *HTTPError and ErrDecode, so Outcome classifies them like Edge Network errors.
type tokenSource struct {
	now func() time.Time
	src *ims.Source
}

func newTokenSource(cfg AuthConfig, hc *http.Client) *tokenSource {
	t := &tokenSource{now: time.Now}
	t.src = ims.NewSource(ims.Credentials{
		TokenURL:     cfg.IMSURL,
		ClientID:     cfg.ClientID,
		ClientSecret: ims.Secret(cfg.ClientSecret),
		Scope:        cfg.Scope,
	}, ims.Options{
		HTTPClient: hc,
		Now:        func() time.Time { return t.now() },
		Margin:     func(lifetime time.Duration) time.Duration { return min(lifetime/10, maxTokenMargin) },
	})
	return t
}

// Token returns a cached token, or fetches a new one. Waiting for another caller's fetch
// honors ctx.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	tok, err := t.src.Token(ctx)
	if err == nil {
		return tok, nil
	}
	var imsErr *ims.Error
	switch {
	case errors.As(err, &imsErr):
		title := imsErr.Code
		if title == "" {
			title = http.StatusText(imsErr.Status)
		}
		return "", fmt.Errorf("edge: IMS token: %w", &HTTPError{
			Status: imsErr.Status, Title: title, Detail: imsErr.Description, RetryAfter: imsErr.RetryAfter,
		})
	case errors.Is(err, ims.ErrDecode):
		return "", fmt.Errorf("edge: IMS token: %w: %v", ErrDecode, err)
	}
	return "", fmt.Errorf("edge: IMS token: %w", err)
}

// Invalidate drops token if it is still the cached one, after the Edge Network refused it.
func (t *tokenSource) Invalidate(token string) { t.src.Invalidate(token) }
