package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/aep"
	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

// DefaultAEPRefresh is how often the audience catalog is read from Experience Platform.
const DefaultAEPRefresh = 15 * time.Minute

// aepTimeout bounds one catalog sync: several paged calls, and Retry-After waits.
const aepTimeout = 2 * time.Minute

// AEPConfig reads the audience catalog from Adobe Experience Platform: the audiences of the
// store's destination dataflows, with their names, descriptions, origin, lifecycle and last
// update, refreshed on an interval. Use placeholders such as {env.AEP_CLIENT_SECRET} for the
// secret; it never appears in logs, the admin API or errors.
type AEPConfig struct {
	// ClientID and ClientSecret are the OAuth Server-to-Server credential of the Developer
	// Console project that has the Experience Platform API.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// OrgID is the IMS organization (…@AdobeOrg).
	OrgID string `json:"org_id,omitempty"`
	// Sandbox is the Experience Platform sandbox. Default: prod.
	Sandbox string `json:"sandbox,omitempty"`
	// Scope is the token scope. Default: Adobe's for the Platform API.
	Scope string `json:"scope,omitempty"`
	// FlowIDs are the destination dataflows (or destination connections) that activate
	// audiences to the store; `caddy audiences check-credentials` lists them.
	FlowIDs []string `json:"flow_ids,omitempty"`
	// Refresh is how often the catalog is read again. Default: 15m.
	Refresh caddy.Duration `json:"refresh,omitempty"`
	// IMSURL and PlatformURL are the services' origins; only tests change them.
	IMSURL      string `json:"ims_url,omitempty"`
	PlatformURL string `json:"platform_url,omitempty"`
}

// resolved returns the aep configuration with placeholders replaced.
func (c *AEPConfig) resolved() aep.Config {
	repl := caddy.NewReplacer()
	flows := make([]string, len(c.FlowIDs))
	for i, f := range c.FlowIDs {
		flows[i] = repl.ReplaceAll(f, "")
	}
	return aep.Config{
		ClientID:     repl.ReplaceAll(c.ClientID, ""),
		ClientSecret: ims.Secret(repl.ReplaceAll(c.ClientSecret, "")),
		OrgID:        repl.ReplaceAll(c.OrgID, ""),
		Sandbox:      repl.ReplaceAll(c.Sandbox, ""),
		Scope:        c.Scope,
		FlowIDs:      flows,
		IMSURL:       c.IMSURL,
		PlatformURL:  c.PlatformURL,
	}
}

// identity names the configuration in the state key: a changed secret is a new source.
func (c *AEPConfig) identity() string {
	if c == nil {
		return ""
	}
	cfg := c.resolved()
	sum := sha256.Sum256([]byte(cfg.ClientSecret))
	return cfg.String() + "|" + hex.EncodeToString(sum[:8]) + "|" + cfg.IMSURL + "|" + cfg.PlatformURL + "|" + time.Duration(c.Refresh).String()
}

// validate checks the configuration without contacting Adobe.
func (c *AEPConfig) validate() error {
	if c == nil {
		return nil
	}
	if err := c.resolved().Validate(); err != nil {
		return errors.New("audiences aep: " + err.Error())
	}
	return nil
}

// newAEPClient builds the client of a configuration.
func newAEPClient(c *AEPConfig, log *zap.Logger) (*aep.Client, error) {
	return aep.NewClient(c.resolved(), aep.Options{Logger: log})
}
