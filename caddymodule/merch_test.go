package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestMerchandisingAugmentsOnlyWithItsRules: a cart query that selects cross-sells goes to
// the backend without merchandising's hidden fields when the rule set has no merchandising
// rules, and with them when it has; a blocks query is not held at all without them.
func TestMerchandisingAugmentsOnlyWithItsRules(t *testing.T) {
	cart := `query($id: String!) { cart(cart_id: $id) { id items { uid quantity product { sku crosssell_products { sku } } } } }`
	blocks := `{ cmsBlocks(identifiers: ["home-hero"]) { items { identifier } } }`
	cartRule := `{"id": "vip", "audiences": {"any": ["` + segVIP + `"]}, "action": {"type": "by_percent", "amount": 10}}`
	merchRule := `{"id": "m", "audiences": {"any": ["` + segVIP + `"]}, "lists": ["crosssell"], "add": ["24-MB03"]}`
	for _, tt := range []struct {
		name, rules string
		merch       bool
	}{
		{"cart rules only", `{"rules": [` + cartRule + `]}`, false},
		{"with merchandising rules", `{"rules": [` + cartRule + `], "merchandising": [` + merchRule + `]}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := provisioned(t, &Handler{RulesJSON: json.RawMessage(tt.rules)})
			sent := func(query string) string {
				r := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {query}, "variables": {`{"id":"c1"}`}}.Encode(), nil)
				var got string
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					got = r.URL.Query().Get("query")
					w.Header().Set("Content-Type", "application/json")
					_, err := io.WriteString(w, `{"data":null}`)
					return err
				})
				if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got := sent(cart); strings.Contains(got, "_aud_m") != tt.merch || !strings.Contains(got, "_aud_") {
				t.Errorf("cart query sent: %s", got)
			}
			if got := sent(blocks); strings.Contains(got, "_aud_") != tt.merch {
				t.Errorf("blocks query sent: %s", got)
			}
		})
	}
}
