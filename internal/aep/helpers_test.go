package aep

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

const (
	testClientID = "caddy-audiences-test"
	testSecret   = "p8e-S3CR3T-do-not-print"
	testOrg      = "53A16ACB5CC1D3760A495C99@AdobeOrg"
)

var updated = time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC)

// platformFake is a fake with three audiences in two flows: "vip" and "bags" activated by the
// enabled flow "commerce", "lapsed" (deactivated) by the disabled flow "old", and "bags" also
// by "old".
func platformFake() *aeptest.Fake {
	return &aeptest.Fake{
		ClientID: testClientID, ClientSecret: testSecret, OrgID: testOrg,
		Audiences: []aeptest.Audience{
			{ID: "vip", Name: "VIP shoppers", Description: "Top 5%", Updated: updated},
			{ID: "bags", Name: "Bag lovers", OriginName: "CUSTOM_UPLOAD", Type: "ExternalSegment", Updated: updated.Add(-48 * time.Hour)},
			{ID: "lapsed", Name: "Lapsed customers", Lifecycle: "inactive"},
			{ID: "draft", Name: "Draft audience", Lifecycle: "draft"},
		},
		Flows: []aeptest.Flow{
			{ID: "commerce", Name: "Adobe Commerce", Audiences: []string{"vip", "bags"}},
			{ID: "old", Name: "Old Commerce flow", State: "disabled", Audiences: []string{"lapsed", "bags"}},
			{ID: "email", Name: "Email marketing", Audiences: []string{"vip", "draft"}},
			{ID: "ingest", Name: "CRM import", Source: true},
		},
	}
}

// serve starts fake on a test server and returns a config pointing at it.
func serve(t *testing.T, fake *aeptest.Fake, flows ...string) (Config, *httptest.Server) {
	t.Helper()
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return Config{
		ClientID: testClientID, ClientSecret: ims.Secret(testSecret), OrgID: testOrg, FlowIDs: flows,
		IMSURL: ts.URL, PlatformURL: ts.URL,
	}, ts
}

func newTestClient(t *testing.T, cfg Config, opts Options) *Client {
	t.Helper()
	c, err := NewClient(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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
