package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/aep"
	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
)

const (
	org     = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	example = "../../examples/fakeaep.json"
	flowID  = "d8a68853-8b3c-4a2e-9f1d-3c5b7e9a1f20"
)

func TestNewFakeErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"flows":[{"id":"f","audiences":["x"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	full := config{data: example, clientID: "id", clientSecret: "s", org: org, pageSize: 50, expiresIn: 60}
	tests := []struct {
		name   string
		change func(*config)
		want   string
	}{
		{"no data", func(c *config) { c.data = "" }, "-data"},
		{"no secret", func(c *config) { c.clientSecret = "" }, "required"},
		{"page size", func(c *config) { c.pageSize = 0 }, "positive"},
		{"missing file", func(c *config) { c.data = filepath.Join(t.TempDir(), "none.json") }, "no such file"},
		{"unknown audience", func(c *config) { c.data = bad }, `unknown audience "x"`},
	}
	for _, tt := range tests {
		cfg := full
		tt.change(&cfg)
		if _, err := newFake(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if err := run(config{listen: "0.0.0.0:0", data: example}); err == nil {
		t.Fatal("listening on every interface was accepted")
	}
}

// TestFakeServesTheExample syncs the example data with the real client and checks the
// credentials with it, as a manual test would.
func TestFakeServesTheExample(t *testing.T) {
	fake, err := newFake(config{data: example, clientID: "id", clientSecret: "s3cret", org: org, sandbox: "prod", pageSize: 2, expiresIn: 86399})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := aep.Config{ClientID: "id", ClientSecret: "s3cret", OrgID: org, FlowIDs: []string{flowID}, IMSURL: srv.URL, PlatformURL: srv.URL}
	c, err := aep.NewClient(cfg, aep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.FetchCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Decode(data)
	if err != nil || cat.Len() != 3 {
		t.Fatalf("catalog %s: %v", data, err)
	}
	if lapsed, _ := cat.Get("3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03"); lapsed.Warning() != "deactivated in Experience Platform" {
		t.Fatalf("lapsed: %+v", lapsed)
	}
	r := aep.Check(context.Background(), cfg, aep.Options{})
	if !r.OK() || len(r.Flows) != 2 || r.AudiencesVisible != 3 {
		t.Fatalf("check:\n%s", r)
	}
	if refused := fake.Refused(); len(refused) > 0 {
		t.Fatalf("refused: %q", refused)
	}
}
