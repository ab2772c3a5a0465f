package aep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
)

// ErrNoFlows means the configuration names no dataflow, so there is nothing to sync.
var ErrNoFlows = errors.New("no flow IDs configured: name the destination dataflow(s) that activate audiences to the store")

// Sync builds the audience catalog: the audiences selected by the named dataflows, resolved by
// the audiences API to their name, description, origin, lifecycle state and last update, and
// flagged activated when an enabled named flow selects them. It fails as a whole (a named
// flow missing, Platform unreachable), so a source built on it keeps its last good catalog.
// The result is sorted by name, then ID.
func (c *Client) Sync(ctx context.Context) ([]catalog.Audience, error) {
	if len(c.cfg.FlowIDs) == 0 {
		return nil, ErrNoFlows
	}
	flows := make([]Flow, 0, len(c.cfg.FlowIDs))
	for _, id := range c.cfg.FlowIDs {
		f, err := c.Flow(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("flow %q: %w", id, err)
		}
		flows = append(flows, f)
	}
	details, err := c.GetAudiences(ctx, flowAudienceIDs(flows))
	if err != nil {
		return nil, err
	}
	audiences, missing := buildCatalog(flows, details)
	for _, id := range missing {
		c.log.Warn("experience platform: a named flow selects an audience the audiences API does not know",
			zap.String("audience", id))
	}
	return audiences, nil
}

// FetchCatalog is Sync encoded as a catalog document: the fetch function of a catalog source
// (sources.Options.Fetch), decoded by catalog.Decode. An unchanged catalog gives the same
// bytes.
func (c *Client) FetchCatalog(ctx context.Context) ([]byte, error) {
	audiences, err := c.Sync(ctx)
	if err != nil {
		return nil, err
	}
	return catalog.Encode(audiences)
}

// flowAudienceIDs lists the audiences of flows once each, in order of appearance.
func flowAudienceIDs(flows []Flow) []string {
	var ids []string
	seen := map[string]bool{}
	for _, f := range flows {
		for _, a := range f.Audiences {
			if !seen[a.ID] {
				seen[a.ID] = true
				ids = append(ids, a.ID)
			}
		}
	}
	return ids
}

// buildCatalog turns the named flows and the resolved audiences into catalog entries, and
// returns the IDs the audiences API did not resolve (kept with the name the flow recorded).
func buildCatalog(flows []Flow, details map[string]Audience) ([]catalog.Audience, []string) {
	byID := map[string]*catalog.Audience{}
	var order, missing []string
	for _, f := range flows {
		for _, fa := range f.Audiences {
			entry, ok := byID[fa.ID]
			if !ok {
				entry = newEntry(fa, details)
				if _, known := details[fa.ID]; !known {
					missing = append(missing, fa.ID)
				}
				byID[fa.ID] = entry
				order = append(order, fa.ID)
			}
			if !slices.Contains(entry.Flows, f.ID) {
				entry.Flows = append(entry.Flows, f.ID)
			}
			if f.Enabled() {
				*entry.Activated = true
			}
		}
	}
	out := make([]catalog.Audience, 0, len(order))
	for _, id := range order {
		entry := byID[id]
		slices.Sort(entry.Flows)
		out = append(out, *entry)
	}
	slices.SortFunc(out, func(a, b catalog.Audience) int {
		if n := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, missing
}

// newEntry makes the catalog entry of a flow's audience, not yet activated.
func newEntry(fa FlowAudience, details map[string]Audience) *catalog.Audience {
	entry := &catalog.Audience{ID: fa.ID, Name: fa.Name, Activated: new(bool)}
	d, ok := details[fa.ID]
	if !ok {
		return entry
	}
	entry.Name = cmpOr(d.Name, fa.Name)
	entry.Description = d.Description
	entry.Origin = OriginWords(d.OriginName)
	entry.Lifecycle = d.Lifecycle
	if !d.Updated.IsZero() {
		entry.LastUpdated = d.Updated.UTC().Format(time.RFC3339)
	}
	return entry
}

// origins maps the audiences API's originName to the words of the Audiences dashboard.
var origins = map[string]string{
	"REAL_TIME_CUSTOMER_PROFILE":     "Experience Platform",
	"CUSTOM_UPLOAD":                  "Custom upload",
	"AUDIENCE_ORCHESTRATION":         "Audience composition",
	"FEDERATED_AUDIENCE_COMPOSITION": "Federated audience composition",
	"AUDIENCE_MANAGER":               "Audience Manager",
}

// OriginWords names where an audience comes from, in the words of examples/audiences.json:
// Platform-generated audiences (REAL_TIME_CUSTOMER_PROFILE, or no origin) are "Experience
// Platform"; an origin this client does not know is spelled out ("SOME_NEW_ORIGIN" becomes
// "Some new origin").
func OriginWords(originName string) string {
	if originName == "" {
		return "Experience Platform"
	}
	if words, ok := origins[strings.ToUpper(originName)]; ok {
		return words
	}
	words := []rune(strings.ToLower(strings.ReplaceAll(originName, "_", " ")))
	words[0] = unicode.ToUpper(words[0])
	return string(words)
}
