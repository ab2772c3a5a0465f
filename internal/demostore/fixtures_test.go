package demostore

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
)

// fixturesFile holds the Venia operations shared by every package's tests.
var fixturesFile = filepath.Join("..", "..", "..", "shared", "fixtures", "clients", "venia-cart-operations.json")

type fixtureOp struct {
	Client string `json:"client"`
	Source string `json:"source"`
	Query  string `json:"query"`
}

func loadFixtures(t *testing.T) []fixtureOp {
	t.Helper()
	b, err := os.ReadFile(fixturesFile)
	if err != nil {
		t.Skipf("fixtures not available: %v", err)
	}
	var ops []fixtureOp
	if err := json.Unmarshal(b, &ops); err != nil {
		t.Fatalf("decode %s: %v", fixturesFile, err)
	}
	if len(ops) == 0 {
		t.Fatal("no fixture operations")
	}
	return ops
}

// unsupportedField is the PWA companion module field Magento core does not have.
const unsupportedField = "total_summary_quantity_including_config"

// prepareQuery renders an operation as a client sends it: minified, and with __typename added
// to every selection set when typename is set (what Apollo Client does).
func prepareQuery(t *testing.T, query string, typename bool) (string, *ast.OperationDefinition) {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if typename {
		apollo.AddTypename(doc)
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(doc)
	return b.String(), doc.Operations[0]
}

// fixtureState is a guest cart with a simple, a configurable and a virtual item, an address,
// and (unless the operation applies it) the WELCOME10 coupon.
type fixtureState struct {
	cartID   string
	itemUID  string
	guestID  string // for mergeCarts: a second guest cart
	customer bool
}

func setupFixture(t *testing.T, c *client, op *ast.OperationDefinition) fixtureState {
	t.Helper()
	st := fixtureState{cartID: c.newCart()}
	c.add(st.cartID, "24-MB01", 2)
	c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [{sku: "MH01-S-Black", parent_sku: "MH01", quantity: 1}]) { cart { id } } }`,
		map[string]any{"id": st.cartID}).must(t)
	c.add(st.cartID, "VGC-50", 1)
	c.shipTo(st.cartID)
	if op.SelectionSet[0].(*ast.Field).Name != "applyCouponToCart" {
		c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`,
			map[string]any{"id": st.cartID}).must(t)
	}
	items := c.post(`query($id: String!) { cart(cart_id: $id) { items { uid } } }`, map[string]any{"id": st.cartID}).must(t)
	st.itemUID = items.str(t, "cart.items.0.uid")
	if op.Name == "MergeCartsAfterSignIn" {
		st.guestID = st.cartID
		c.headers["Authorization"] = "Bearer " + demoCustomerToken
		st.customer = true
		st.cartID = c.post(`{ customerCart { id } }`, nil).must(t).str(t, "customerCart.id")
		c.add(st.cartID, "24-UG06", 1)
	}
	return st
}

func fixtureVariables(op *ast.OperationDefinition, st fixtureState) map[string]any {
	vars := map[string]any{}
	for _, v := range op.VariableDefinitions {
		switch v.Variable {
		case "cartId":
			vars["cartId"] = st.cartID
		case "cartItem":
			vars["cartItem"] = map[string]any{"sku": "24-WG02", "quantity": 1}
		case "shippingMethod":
			vars["shippingMethod"] = map[string]any{"carrier_code": "flatrate", "method_code": "flatrate"}
		case "sourceCartId":
			vars["sourceCartId"] = st.guestID
		case "destinationCartId":
			vars["destinationCartId"] = st.cartID
		case "couponCode":
			vars["couponCode"] = "WELCOME10"
		case "cartItemId", "itemId":
			vars[v.Variable] = st.itemUID
		case "quantity":
			vars["quantity"] = 3
		}
	}
	return vars
}

// TestFixtureOperationsParse checks every Venia operation parses and validates against the
// schema, except those selecting a field core Magento lacks, which fail like Magento does.
func TestFixtureOperationsParse(t *testing.T) {
	s := New(Options{})
	for _, op := range loadFixtures(t) {
		t.Run(op.Source, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: op.Query})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			vars := fixtureVariables(doc.Operations[0], fixtureState{cartID: "x", itemUID: "MQ==", guestID: "y"})
			errs := s.schema.ValidateWithVariables(op.Query, vars)
			if strings.Contains(op.Query, unsupportedField) {
				want := `Cannot query field "` + unsupportedField + `" on type "Cart".`
				if len(errs) != 1 || errs[0].Message != want {
					t.Fatalf("want the validation error %q, got %v", want, errs)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("validation: %v", errs)
			}
		})
	}
}

// TestFixtureOperationsExecute runs every Venia operation the way Venia sends it (queries over
// GET, mutations over POST), with and without the __typename Apollo adds, against a cart with
// items.
func TestFixtureOperationsExecute(t *testing.T) {
	for _, op := range loadFixtures(t) {
		for _, typename := range []bool{false, true} {
			name := op.Source
			if typename {
				name += "/__typename"
			}
			t.Run(name, func(t *testing.T) {
				c := newClient(t, Options{})
				query, def := prepareQuery(t, op.Query, typename)
				st := setupFixture(t, c, def)
				vars := fixtureVariables(def, st)
				var r *result
				if def.Operation == ast.Mutation {
					r = c.post(query, vars)
				} else {
					r = c.get(query, def.Name, vars)
				}
				if strings.Contains(op.Query, unsupportedField) {
					if r.status != http.StatusOK || r.firstError() != `Cannot query field "`+unsupportedField+`" on type "Cart".` || r.resp.Data != nil {
						t.Fatalf("want Magento's validation error, got %d %s", r.status, r.body)
					}
					return
				}
				r.must(t)
				if os.Getenv("DEMO_DUMP") != "" {
					t.Logf("%s", r.body)
				}
				for key, v := range r.resp.Data {
					if v == nil {
						t.Fatalf("%s is null: %s", key, r.body)
					}
				}
				if typename && !strings.Contains(string(r.body), `"__typename":"Cart"`) {
					t.Fatalf("__typename missing from %s", r.body)
				}
			})
		}
	}
}
