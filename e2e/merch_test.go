package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// merchOperation is a client operation that selects product lists or blocks.
type merchOperation struct {
	Client string `json:"client"`
	Source string `json:"source"`
	Query  string `json:"query"`
}

func loadMerchOperations(t *testing.T) []merchOperation {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "merch_operations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ops []merchOperation
	if err := json.Unmarshal(b, &ops); err != nil || len(ops) == 0 {
		t.Fatalf("merch_operations.json: %v", err)
	}
	return ops
}

// merchVariables gives an operation's variables values the demo store has data for: a cart
// holding 24-MB01 and 24-WB04, 24-MB01's page, blocks that exist.
func merchVariables(t *testing.T, store, query string) map[string]any {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil || len(doc.Operations) != 1 {
		t.Fatalf("parse: %v", err)
	}
	vars := map[string]any{}
	for _, v := range doc.Operations[0].VariableDefinitions {
		switch v.Variable {
		case "cartId":
			vars["cartId"] = newCart(t, "http://"+store, line{"24-MB01", 1}, line{"24-WB04", 1})
		case "identifiers", "cmsBlockIdentifiers":
			vars[v.Variable] = []string{"home-hero", "footer-links"}
		case "type":
			vars["type"] = "SPECIFIED"
		case "uids":
			vars["uids"] = []string{"MQ==", "Mw=="}
		case "locations":
			vars["locations"] = []string{"CONTENT", "HEADER"}
		case "filter":
			vars["filter"] = map[string]any{"sku": map[string]any{"eq": "24-MB01"}}
		case "urlKey":
			vars["urlKey"] = "joust-duffle-bag" // 24-MB01
		}
	}
	return vars
}

// TestMerchandisingThroughTheBinary sends Venia's and Vue Storefront's product-page, cart-page
// and CMS-block operations through the sidecar with the sample rules (examples/rules.json),
// as the clients send them and as Apollo prepares them: a shopper in no audience gets the
// backend's answer byte for byte; a Bag lover and VIP gets the lists and blocks the rules
// give, with every item shaped as the client selected it and no hidden field; the admin API
// and the metrics count the rules' hits.
func TestMerchandisingThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	rulesFile, err := filepath.Abs(filepath.Join("..", "examples", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	store := startStore(t)
	sc := launchSidecar(t, store, "audiences {\n\t\trules "+rulesFile+"\n\t}")
	member := map[string]string{"aep-segments-membership": segVIP + "," + segBOGO}
	changed := map[string]bool{}
	for _, op := range loadMerchOperations(t) {
		for _, apollo := range []bool{false, true} {
			query := op.Query
			if apollo {
				query = apolloize(t, query)
			}
			name := op.Client + " " + op.Source
			vars := merchVariables(t, store, query)
			direct := graphql(t, "http://"+store, query, vars, nil)
			through := graphql(t, sc.base, query, vars, nil)
			if through.status != 200 || !bytes.Equal(through.body, direct.body) {
				t.Fatalf("%s (apollo %v): a shopper in no audience got\n%s\nthe backend answered\n%s", name, apollo, through.body, direct.body)
			}
			if cc := through.header.Get("Cache-Control"); cc != direct.header.Get("Cache-Control") {
				t.Errorf("%s: Cache-Control %q, the backend's %q", name, cc, direct.header.Get("Cache-Control"))
			}
			got := graphql(t, sc.base, query, vars, member)
			if got.status != 200 || bytes.Contains(got.body, []byte("_aud_")) || bytes.Contains(got.body, []byte(`"errors"`)) {
				t.Fatalf("%s: member got %d %s", name, got.status, got.body)
			}
			if cc := got.header.Get("Cache-Control"); !bytes.Equal(got.body, direct.body) && cc != "private, no-store" {
				t.Errorf("%s: a member's own answer has Cache-Control %q", name, cc)
			}
			var backend, answer any
			if json.Unmarshal(direct.body, &backend) != nil || json.Unmarshal(got.body, &answer) != nil {
				t.Fatalf("%s: not JSON", name)
			}
			checkMerchShapes(t, name, backend, answer)
			for _, c := range merchChanges(answer) {
				changed[c] = true
			}
		}
	}
	want := []string{
		"cmsBlocks home-hero→vip-hero",
		"dynamicBlocks MQ==→Mg==",
		"related 24-MB02 24-MB04 24-MB03",
		"upsell 24-MB02 24-MB03 24-MB04",
		"crosssell 24-UG06 24-UG05",
		"crosssell 24-UG06 24-UG04",
	}
	for _, w := range want {
		if !changed[w] {
			t.Errorf("no answer showed %q; saw %v", w, changed)
		}
	}

	// Spring sale is for VIPs only.
	blocks := `query($ids: [String]) { cmsBlocks(identifiers: $ids) { items { identifier } } }`
	vars := map[string]any{"ids": []string{"spring-sale", "footer-links"}}
	if got := graphql(t, sc.base, blocks, vars, nil); !bytes.Equal(got.body, []byte(`{"data":{"cmsBlocks":{"items":[{"identifier":"footer-links"}]}}}`)) || got.header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("non-member: %s %v", got.body, got.header)
	}
	if got := graphql(t, sc.base, blocks, vars, member); !bytes.Contains(got.body, []byte(`"spring-sale"`)) {
		t.Errorf("VIP: %s", got.body)
	}

	var rulesDoc struct {
		Handlers []struct {
			Merchandising []struct {
				ID   string `json:"id"`
				Hits int64  `json:"hits"`
			} `json:"merchandising"`
		} `json:"handlers"`
	}
	if err := json.Unmarshal([]byte(adminGet(t, sc.admin, "/audiences/rules")), &rulesDoc); err != nil || len(rulesDoc.Handlers) != 1 {
		t.Fatalf("admin rules: %v", err)
	}
	for _, m := range rulesDoc.Handlers[0].Merchandising {
		if m.Hits == 0 {
			t.Errorf("rule %s: no hits", m.ID)
		}
	}
	metrics := adminGet(t, sc.admin, "/metrics")
	for _, id := range []string{"bags-related", "vip-hero"} {
		if !strings.Contains(metrics, `caddy_audiences_merchandised_answers_total{rule="`+id+`"}`) {
			t.Errorf("no merchandised_answers_total for %s", id)
		}
	}
}

// checkMerchShapes checks every product or block in a member's answer has exactly the keys
// the backend's items of the same list have: what the client selected, nothing more.
func checkMerchShapes(t *testing.T, name string, backend, answer any) {
	t.Helper()
	shapes := map[string]string{}
	walkLists(backend, "", func(path string, item map[string]any) { shapes[path] = keysOf(item) })
	walkLists(answer, "", func(path string, item map[string]any) {
		if want, ok := shapes[path]; ok && keysOf(item) != want {
			t.Errorf("%s: %s item has keys %s, the backend's %s", name, path, keysOf(item), want)
		}
	})
}

// walkLists calls fn for each object in a product list or blocks' items, by the list's key.
func walkLists(v any, key string, fn func(path string, item map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walkLists(c, k, fn)
		}
	case []any:
		for _, c := range x {
			if m, ok := c.(map[string]any); ok && (strings.HasSuffix(key, "_products") || key == "items") {
				fn(key, m)
			}
			walkLists(c, key, fn)
		}
	}
}

func keysOf(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// merchChanges describes the lists and blocks of an answer: "related SKU SKU…",
// "cmsBlocks a→b" for a block that is not what was asked, and so on.
func merchChanges(v any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, list := range []string{"related", "upsell", "crosssell"} {
				if items, ok := x[list+"_products"].([]any); ok {
					var skus []string
					for _, it := range items {
						if m, ok := it.(map[string]any); ok {
							skus = append(skus, str(m["sku"]))
						}
					}
					out = append(out, list+" "+strings.Join(skus, " "))
				}
			}
			if b, ok := x["cmsBlocks"].(map[string]any); ok {
				if items, ok := b["items"].([]any); ok && len(items) > 0 {
					if id := str(items[0].(map[string]any)["identifier"]); id != "home-hero" {
						out = append(out, "cmsBlocks home-hero→"+id)
					}
				}
			}
			if b, ok := x["dynamicBlocks"].(map[string]any); ok {
				if items, ok := b["items"].([]any); ok && len(items) > 0 {
					if id := str(items[0].(map[string]any)["uid"]); id != "MQ==" {
						out = append(out, "dynamicBlocks MQ==→"+id)
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestMerchandisingWithTheGate runs the product page and cart page operations through a
// sidecar whose coupon gate is in force (every request read strictly, as Magento reads it):
// a shopper in no audience gets the backend's answer, a member's lists are merchandised and
// nothing hidden leaves.
func TestMerchandisingWithTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	var gateRules, sample map[string]any
	for path, v := range map[string]*map[string]any{"testdata/gate_rules.json": &gateRules, "../examples/rules.json": &sample} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	gateRules["merchandising"] = sample["merchandising"]
	combined, _ := json.Marshal(gateRules)
	rulesFile := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rulesFile, combined, 0o644); err != nil {
		t.Fatal(err)
	}
	store := startStore(t, "-coupon-rules", "testdata/coupon_rules.json")
	sc := launchSidecar(t, store, "audiences {\n\t\trules "+rulesFile+"\n\t}")
	member := map[string]string{"aep-segments-membership": segVIP + "," + segBOGO}
	for _, op := range loadMerchOperations(t) {
		if !strings.Contains(op.Query, "_products") {
			continue
		}
		vars := merchVariables(t, store, op.Query)
		direct := graphql(t, "http://"+store, op.Query, vars, nil)
		if through := graphql(t, sc.base, op.Query, vars, nil); !bytes.Equal(through.body, direct.body) {
			t.Errorf("%s: a shopper in no audience got\n%s\nthe backend answered\n%s", op.Source, through.body, direct.body)
		}
		got := graphql(t, sc.base, op.Query, vars, member)
		if got.status != 200 || bytes.Contains(got.body, []byte("_aud_")) || bytes.Contains(got.body, []byte(`"errors"`)) {
			t.Fatalf("%s: member got %d %s", op.Source, got.status, got.body)
		}
		var answer any
		if err := json.Unmarshal(got.body, &answer); err != nil {
			t.Fatal(err)
		}
		if changes := strings.Join(merchChanges(answer), "; "); strings.Contains(op.Query, "related_products") && !strings.Contains(changes, "related 24-MB02 24-MB04 24-MB03") {
			t.Errorf("%s: %s", op.Source, changes)
		}
	}
}
