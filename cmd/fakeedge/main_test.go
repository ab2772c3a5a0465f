package main

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
)

const (
	org  = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	ecid = "47147901523633284012774707065712279255"
)

func writeProfiles(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profiles.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewFakeErrors(t *testing.T) {
	good := writeProfiles(t, `{"`+ecid+`": ["seg"]}`)
	tests := []struct {
		name string
		cfg  config
		want string
	}{
		{"no profiles", config{}, "-profiles"},
		{"missing file", config{profiles: filepath.Join(t.TempDir(), "none.json")}, "no such file"},
		{"bad key", config{profiles: writeProfiles(t, `{"42": ["seg"]}`)}, "not a 38-digit ECID"},
		{"client id alone", config{profiles: good, clientID: "id"}, "go together"},
	}
	for _, tt := range tests {
		if _, err := newFake(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if err := run(config{listen: "0.0.0.0:0", profiles: "x"}); err == nil {
		t.Fatal("listening on every interface was accepted")
	}
}

// TestFakeServesProfiles drives the binary's fake with the real client, in both modes.
func TestFakeServesProfiles(t *testing.T) {
	profiles := writeProfiles(t, `{"`+ecid+`": ["seg-vip", "seg-bags"]}`)
	for _, authenticated := range []bool{false, true} {
		cfg := config{profiles: profiles, datastream: "ds", org: org, alias: "web", cluster: "va6"}
		if authenticated {
			cfg.clientID, cfg.clientSecret = "id", "secret"
		}
		fake, err := newFake(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(fake)
		opts := edge.Options{BaseURL: srv.URL, DatastreamID: "ds", OrgID: org, DestinationAlias: "web", HTTPClient: srv.Client()}
		if authenticated {
			opts.Auth = &edge.AuthConfig{ClientID: "id", ClientSecret: "secret", IMSURL: srv.URL + edgetest.IMSPath}
		}
		c, err := edge.NewClient(opts)
		if err != nil {
			t.Fatal(err)
		}
		cookie := base64.RawURLEncoding.EncodeToString(append([]byte{0x0a, 38}, ecid...))
		res, err := c.Lookup(context.Background(), edge.Identity{
			ECID: ecid, Cluster: "va6",
			StateEntries: []edge.StateEntry{{Key: edge.IdentityCookieName(org), Value: cookie}},
		})
		srv.Close()
		if err != nil {
			t.Fatalf("authenticated=%v: %v (failures %q)", authenticated, err, fake.Failures())
		}
		if !slices.Equal(res.Segments, []string{"seg-bags", "seg-vip"}) {
			t.Errorf("segments %q", res.Segments)
		}
		if len(res.Store) != 1 || res.Store[0].Key != edge.ClusterCookieName(org) || res.Store[0].Value != "va6" {
			t.Errorf("state:store %+v, want the cluster cookie", res.Store)
		}
	}
}
