package e2e

import (
	"bytes"
	"net/http"
	"testing"
)

const (
	segVIP  = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	segBags = "0a7c44e1-3b2f-4c8d-8e15-71c2d9a0b302"
)

// TestMembershipReachesBackend checks, through the real binary, that the demo store receives
// exactly the normalized membership and never a client's own copy of the header.
func TestMembershipReachesBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	store := startStore(t)
	sidecar := startSidecar(t, store, "audiences")
	query := `{ storeConfig { store_code } }`
	tests := []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"no membership", nil, ""},
		{"header, encoded", map[string]string{"aep-segments-membership": segVIP + "%2C" + segBags}, segBags + "," + segVIP},
		{"cookie, raw", map[string]string{"Cookie": "PHPSESSID=1; aep-segments-membership=" + segVIP + "," + segBags}, segBags + "," + segVIP},
		{"header wins over cookie", map[string]string{"aep-segments-membership": segBags, "Cookie": "aep-segments-membership=" + segVIP}, segBags},
		{"invalid ids dropped", map[string]string{"aep-segments-membership": "<x>," + segVIP + ",,  "}, segVIP},
		{"mg_dnt", map[string]string{"Cookie": "mg_dnt=1; aep-segments-membership=" + segVIP}, ""},
		{"spoofed upstream header", map[string]string{"X-Audience-Segments": "vip-forever"}, ""},
		{"spoofed lower case", map[string]string{"x-audience-segments": "vip-forever", "aep-segments-membership": segBags}, segBags},
		{"spoofed underscore", map[string]string{"X_Audience_Segments": "vip-forever"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var r response
				if method == http.MethodGet {
					r = graphql(t, sidecar, query, nil, tt.header)
				} else {
					req, _ := http.NewRequest(http.MethodPost, sidecar+"/graphql", bytes.NewReader([]byte(`{"query":"{ storeConfig { store_code } }"}`)))
					req.Header.Set("Content-Type", "application/json")
					for k, v := range tt.header {
						req.Header[k] = []string{v}
					}
					r = do(t, req)
				}
				if r.status != http.StatusOK {
					t.Fatalf("%s: status %d: %s", method, r.status, r.body)
				}
				if got := r.header.Get("X-Demo-Received-Segments"); got != tt.want {
					t.Errorf("%s: backend received %q, want %q", method, got, tt.want)
				}
			}
		})
	}
}

// TestVeniaOperationsUnchanged sends real Venia operations directly and through the sidecar:
// without rules the sidecar must not change a byte of the body.
func TestVeniaOperationsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	store := startStore(t)
	sidecar := startSidecar(t, store, "audiences")
	cartID := newCart(t, "http://"+store, line{"24-MB01", 2}, line{"24-UG06", 1})
	membership := map[string]string{"aep-segments-membership": segVIP, "Store": "default"}
	for _, f := range loadFixtures(t) {
		if operationKind(t, f.Query) != "query" {
			continue // mutations change the cart; the read-only operations compare cleanly
		}
		t.Run(f.Source, func(t *testing.T) {
			query := apolloize(t, f.Query)
			vars := map[string]any{"cartId": cartID}
			direct := graphql(t, "http://"+store, query, vars, membership)
			through := graphql(t, sidecar, query, vars, membership)
			if direct.status != through.status {
				t.Fatalf("status direct %d, through sidecar %d", direct.status, through.status)
			}
			if !bytes.Equal(direct.body, through.body) {
				t.Fatalf("bodies differ:\n direct: %s\nsidecar: %s", direct.body, through.body)
			}
			if len(direct.body) < 20 {
				t.Fatalf("suspiciously short body %q", direct.body)
			}
		})
	}
}
