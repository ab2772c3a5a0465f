package demostore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// merchOperationsFile holds the client operations that select related, up-sell and cross-sell
// products, CMS blocks and dynamic blocks, which the end-to-end tests send through the sidecar.
var merchOperationsFile = filepath.Join("..", "..", "e2e", "testdata", "merch_operations.json")

type merchOperation struct {
	Client  string `json:"client"`
	Source  string `json:"source"`
	Query   string `json:"query"`
	License string `json:"license"`
	Package string `json:"package"`
}

func loadMerchOperations(t *testing.T) []merchOperation {
	t.Helper()
	b, err := os.ReadFile(merchOperationsFile)
	if err != nil {
		t.Fatal(err)
	}
	var ops []merchOperation
	if err := json.Unmarshal(b, &ops); err != nil {
		t.Fatalf("decode %s: %v", merchOperationsFile, err)
	}
	if len(ops) == 0 {
		t.Fatal("no operations")
	}
	return ops
}

// merchVariables gives an operation's variables values the demo store has data for: a cart
// holding 24-MB01 and the configurable MH01 with WELCOME10 applied, Joust Duffle Bag's page,
// blocks that exist.
func merchVariables(t *testing.T, c *client, op *ast.OperationDefinition) map[string]any {
	t.Helper()
	vars := map[string]any{}
	for _, v := range op.VariableDefinitions {
		switch v.Variable {
		case "cartId":
			id := c.newCart()
			c.add(id, "24-MB01", 1)
			c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [{sku: "MH01-S-Black", parent_sku: "MH01", quantity: 1}]) { cart { id } } }`,
				map[string]any{"id": id}).must(t)
			c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`,
				map[string]any{"id": id}).must(t)
			vars["cartId"] = id
		case "identifiers", "cmsBlockIdentifiers":
			vars[v.Variable] = []string{"home-hero", "footer-links"}
		case "type":
			vars["type"] = "SPECIFIED"
		case "uids":
			vars["uids"] = []string{"Mg==", "MQ=="}
		case "locations":
			vars["locations"] = []string{"CONTENT"}
		case "productId":
			vars["productId"] = "MQ=="
		case "filter":
			vars["filter"] = map[string]any{"sku": map[string]any{"eq": "24-MB01"}}
		case "urlKey":
			vars["urlKey"] = "joust-duffle-bag"
		}
	}
	return vars
}

// TestMerchOperations runs every operation of e2e/testdata/merch_operations.json as its client
// sends it (a GET with the document minified, with and without the __typename Apollo adds)
// against both editions: each answers without errors and with the lists and blocks it selects,
// except Venia's dynamic blocks on Magento Open Source, which has no dynamicBlocks.
func TestMerchOperations(t *testing.T) {
	for _, op := range loadMerchOperations(t) {
		if op.Source == "" || op.Client == "" || op.License == "" || op.Package == "" {
			t.Errorf("%q: incomplete record", op.Source)
		}
		for _, edition := range []Edition{EditionCommerce, EditionOpenSource} {
			for _, typename := range []bool{false, true} {
				name := op.Source + "/" + string(edition)
				if typename {
					name += "/__typename"
				}
				t.Run(name, func(t *testing.T) {
					c := newClient(t, Options{Edition: edition})
					query, def := prepareQuery(t, op.Query, typename)
					if def.Operation != ast.Query {
						t.Fatalf("%s is not a query", def.Name)
					}
					r := c.get(query, def.Name, merchVariables(t, c, def))
					if edition == EditionOpenSource && strings.Contains(op.Query, "dynamicBlocks(") {
						if !strings.Contains(string(r.body), `Cannot query field \"dynamicBlocks\" on type \"Query\".`) || r.resp.Data != nil {
							t.Fatalf("want Magento Open Source's validation error, got %s", r.body)
						}
						return
					}
					r.must(t)
					checkMerchAnswer(t, r)
				})
			}
		}
	}
}

// checkMerchAnswer checks an answer carries what its operation is about.
func checkMerchAnswer(t *testing.T, r *result) {
	t.Helper()
	body := string(r.body)
	switch {
	case strings.Contains(body, `"cmsBlocks"`):
		if r.str(t, "cmsBlocks.items.0.identifier") != "home-hero" || r.str(t, "cmsBlocks.items.1.identifier") != "footer-links" {
			t.Errorf("blocks: %s", body)
		}
	case strings.Contains(body, `"dynamicBlocks"`):
		if r.str(t, "dynamicBlocks.items.0.uid") != "MQ==" || r.str(t, "dynamicBlocks.items.1.uid") != "Mg==" {
			t.Errorf("dynamic blocks: %s", body)
		}
	case strings.Contains(body, `"related_products"`):
		if got := r.skus(t, "products.items.0.related_products"); strings.Join(got, " ") != "24-MB04 24-WB04 24-MB02" {
			t.Errorf("related %v: %s", got, body)
		}
	case strings.Contains(body, `"upsell_products"`):
		if got := r.skus(t, "products.items.0.upsell_products"); strings.Join(got, " ") != "24-MB02 24-WB04" {
			t.Errorf("up-sells %v: %s", got, body)
		}
	case strings.Contains(body, `"crosssell_products"`):
		if got := r.skus(t, "cart.items.1.product.crosssell_products"); strings.Join(got, " ") != "24-UG06 VGC-50" {
			t.Errorf("cross-sells %v: %s", got, body)
		}
	default:
		t.Errorf("no lists or blocks in %s", body)
	}
}
