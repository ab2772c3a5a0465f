package cartql

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
)

// checkStandalone parses a generated document and checks what a GraphQL server's
// validation would reject without a schema: one operation, no unused or unknown fragment, no
// unused or undefined variable.
func checkStandalone(t *testing.T, q string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, q)
	}
	if len(doc.Operations) != 1 {
		t.Fatalf("%d operations", len(doc.Operations))
	}
	op := doc.Operations[0]
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		if frags[f.Name] != nil {
			t.Errorf("fragment %s defined twice", f.Name)
		}
		frags[f.Name] = f
	}
	u := usage{frags: frags, seen: map[string]bool{}}
	u.selection(op.SelectionSet)
	if u.err != nil {
		t.Errorf("%v\n%s", u.err, q)
	}
	for name := range frags {
		if !u.seen[name] {
			t.Errorf("fragment %s is never used\n%s", name, q)
		}
	}
	for _, v := range op.VariableDefinitions {
		if !slices.Contains(u.vars, v.Variable) {
			t.Errorf("variable $%s is never used\n%s", v.Variable, q)
		}
	}
	for _, name := range u.vars {
		if op.VariableDefinitions.ForName(name) == nil {
			t.Errorf("variable $%s is not defined\n%s", name, q)
		}
	}
	return doc
}

func TestCartQuery(t *testing.T) {
	tests := []struct {
		name  string
		query string
		site  int
		vars  []string // variables of the cart query besides CartVariable
		has   []string // texts the query must contain
		not   []string // texts it must not contain
	}{
		{
			name: "query: the cart's own argument is replaced, unused fragments and variables left out",
			query: `query Q($cartId: String!, $other: Int, $size: Int = 5) { cart(cart_id: $cartId) { id ...A } other: products(pageSize: $other) { total_count ...U } }
				fragment U on Products { total_count }
				fragment A on Cart { ...B itemsV2(pageSize: $size) { items { uid } } }
				fragment B on Cart { total_quantity }`,
			vars: []string{"size"},
			has:  []string{"cart: cart(cart_id: $_aud_cart)", "$size: Int = 5", "fragment A on Cart", "fragment B on Cart", hiddenItems + ":items", "itemsV2(pageSize: $size) { items { uid } }"},
			not:  []string{"fragment U", "$other", "$cartId", hiddenID, hiddenUID},
		},
		{
			name: "mutation: the output's cart under its alias, conditions kept",
			query: `mutation M($cartId: String!, $item: CartItemInput!, $withPrices: Boolean = true, $label: String = "a\"b") {
				addProductsToCart(cartId: $cartId, cartItems: [$item]) { user_errors { message } c: cart @include(if: $withPrices) { prices { grand_total { value } } }
					... on AddProductsToCartOutput { c: cart { id items { uid } } } } }`,
			vars: []string{"withPrices"},
			has:  []string{"c: cart(cart_id: $_aud_cart)", "... @include(if: $withPrices) {", "$withPrices: Boolean = true", "items { uid  " + HiddenPrefix + "typename:__typename"},
			not:  []string{"$item", "$label", "user_errors"},
		},
		{
			name:  "a root field that returns the cart",
			query: veniaSignInMerge,
			has:   []string{"mergeCarts: cart(cart_id: $_aud_cart)", "fragment CheckoutPageFragment on Cart"},
			not:   []string{"$sourceCartId", "$destinationCartId"},
		},
		{
			name:  "second site",
			query: `query ($a: String!, $b: String!, $x: Boolean!) { one: cart(cart_id: $a) { id } two: cart(cart_id: $b) { total_quantity @skip(if: $x) } }`,
			site:  1,
			vars:  []string{"x"},
			has:   []string{"two: cart(cart_id: $_aud_cart)", "total_quantity @skip(if: $x)"},
			not:   []string{"one:", "$a", "$b"},
		},
		{
			name:  "the hidden cart of a coupon mutation",
			query: veniaApplyCouponNoCart,
			has:   []string{hiddenCartKey + ": cart(cart_id: $_aud_cart)", hiddenCoupons + ":applied_coupons{code}"},
			not:   []string{"$couponCode"},
		},
		{
			name:  "unicode and comments in the client's text",
			query: "query ($id: String!) { cart(cart_id: $id) { id # ünïcode }\n prices { grand_total { value } } } }",
			has:   []string{"# ünïcode }\n prices", "prices { grand_total { value }  " + HiddenPrefix + "subtotal:subtotal_excluding_tax{currency}"},
		},
	}
	pl := newPlanner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, pl, tt.query, "")
			q, err := p.CartQuery(tt.site)
			if err != nil {
				t.Fatal(err)
			}
			checkStandalone(t, q)
			for _, s := range tt.has {
				if !strings.Contains(q, s) {
					t.Errorf("want %q in\n%s", s, q)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(q, s) {
					t.Errorf("do not want %q in\n%s", s, q)
				}
			}
			client := map[string]any{"cartId": "c", "other": 1, "size": 3, "withPrices": false, "x": true, "b": "b"}
			got := p.CartQueryVariables(tt.site, client, "masked")
			want := map[string]any{CartVariable: "masked"}
			for _, v := range tt.vars {
				want[v] = client[v]
			}
			if !jsonEqual(t, mustJSON(t, got), mustJSON(t, want)) {
				t.Errorf("variables %v, want %v", got, want)
			}
			if again, _ := p.CartQuery(tt.site); again != q {
				t.Error("not stable")
			}
		})
	}
	p := mustPlan(t, pl, `{ cart(cart_id: "x") { id } }`, "")
	if _, err := p.CartQuery(1); err == nil {
		t.Error("want an error for a site out of range")
	}
	if v := p.CartQueryVariables(-1, map[string]any{"a": 1}, "m"); len(v) != 1 || v[CartVariable] != "m" {
		t.Errorf("variables for a site out of range: %v", v)
	}
}

const veniaApplyCouponNoCart = `mutation ($cartId: String!, $couponCode: String!) {
	applyCouponToCart(input: { cart_id: $cartId, coupon_code: $couponCode }) { __typename } }`

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpliceCart(t *testing.T) {
	pl := newPlanner(t)
	p := mustPlan(t, pl, `mutation { a: addProductsToCart(cartId: "x", cartItems: []) { c: cart { id } } }`, "")
	body := []byte(`{"data":{"a":{"user_errors":[],"c":{"id":"old", "_aud_id":"old"},"z":1}}}`)
	got, err := p.SpliceCart(body, 0, []byte(" {\"id\":\"new\"}\n"))
	if err != nil || string(got) != `{"data":{"a":{"user_errors":[],"c":{"id":"new"},"z":1}}}` {
		t.Errorf("splice: %s %v", got, err)
	}
	for _, tt := range []struct{ body, cart, err string }{
		{`{"data":{"a":{"user_errors":[]}}}`, `{}`, `missing "c"`},
		{`{"data":{"a":null}}`, `{}`, `"a" is null`},
		{`{"data":{"a":{"c":null}}}`, `{}`, `"c" is null`},
		{`{"data":{"a":[{"c":{}}]}}`, `{}`, `"a" is a list`},
		{`{"data":{"a":{"c":1}}}`, `{}`, "not an object"},
		{`{"errors":[{"message":"x"}],"data":null}`, `{}`, "null data"},
		{`{"data":{"a":{"c":{}}}}`, `[]`, "not an object"},
		{`{"data":{"a":{"c":{}}}}`, `{"id":`, "invalid json"},
		{`{"data":{"a":{"c":{}}}`, `{}`, "invalid json"},
	} {
		if _, err := p.SpliceCart([]byte(tt.body), 0, []byte(tt.cart)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s with %s: err %v, want %q", tt.body, tt.cart, err, tt.err)
		}
	}
	if _, err := p.SpliceCart(body, 1, []byte(`{}`)); err == nil {
		t.Error("want an error for a site out of range")
	}
}

// TestCartQueryDemoStore runs every Venia mutation, as written and as Apollo sends it, on the
// demo store: for every cart site, the cart read again with CartQuery must be byte for byte
// the cart the mutation returned, and splicing it must give the mutation's body back. After
// a change made in between (a coupon applied), the spliced body shows it.
func TestCartQueryDemoStore(t *testing.T) {
	c := &demoClient{t: t, h: demostore.New(demostore.Options{})}
	pl := newPlanner(t)
	compared := 0
	for _, op := range veniaOps(t) {
		if !strings.HasPrefix(strings.TrimSpace(op.Query), "mutation") {
			continue
		}
		for _, query := range []string{op.Query, minify(withTypename(t, op.Query))} {
			p := mustPlan(t, pl, query, "")
			cart := c.cart(3, false, true)
			vars := c.variables(op.Source, cart)
			body := c.do(p.Query(), vars, "")
			if hasErrors(t, body) {
				t.Logf("%s: the demo store refuses it: %s", op.Source, body)
				continue
			}
			snaps, err := p.Snapshots(body, RewriteOptions{})
			if err != nil || len(snaps) != len(p.Sites()) {
				t.Fatalf("%s: snapshots %v %v", op.Source, snaps, err)
			}
			for _, snap := range snaps {
				if snap.CartID != cart {
					t.Errorf("%s: CartID %q, want %q", op.Source, snap.CartID, cart)
				}
				q, err := p.CartQuery(snap.Site)
				if err != nil {
					t.Fatal(err)
				}
				checkStandalone(t, q)
				path := p.Sites()[snap.Site].Path
				refetched := c.do(q, p.CartQueryVariables(snap.Site, vars, snap.CartID), "")
				again := rawAt(t, refetched, path[len(path)-1])
				if mine := rawAt(t, body, path...); !bytes.Equal(again, mine) {
					t.Errorf("%s: the refetched cart differs:\n got %s\nwant %s\nquery %s", op.Source, again, mine, q)
				}
				spliced, err := p.SpliceCart(body, snap.Site, again)
				if err != nil || !bytes.Equal(spliced, body) {
					t.Errorf("%s: splice: %v\n%s", op.Source, err, spliced)
				}
				compared++

				// Something changes in between (the coupon the gate would add or remove): the
				// spliced answer shows the cart as it is now.
				var want []string
				if len(snap.Cart.Coupons) > 0 {
					c.mutate(`mutation ($id: String!) { removeCouponFromCart(input: {cart_id: $id}) { cart { id } } }`, map[string]any{"id": cart})
				} else {
					c.mutate(`mutation ($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`, map[string]any{"id": cart})
					want = []string{"WELCOME10"}
				}
				now := rawAt(t, c.do(q, p.CartQueryVariables(snap.Site, vars, snap.CartID), ""), path[len(path)-1])
				if spliced, err = p.SpliceCart(body, snap.Site, now); err != nil {
					t.Fatal(err)
				}
				after, err := p.Snapshots(spliced, RewriteOptions{})
				if err != nil || !slices.Equal(after[snap.Site].Cart.Coupons, want) {
					t.Errorf("%s: after splicing the changed cart: %+v %v", op.Source, after, err)
				}
				if _, err := p.Strip(spliced); err != nil {
					t.Errorf("%s: strip: %v", op.Source, err)
				}
			}
		}
	}
	if compared < 10 {
		t.Errorf("only %d carts compared: the test lost its teeth", compared)
	}

	// Venia's merge after sign-in, as the demo customer: the site is the root field.
	p := mustPlan(t, pl, minify(withTypename(t, veniaQuery(t, "MERGE_CARTS"))), "")
	customer := c.as("Bearer demo-customer")
	dest := rawString(t, customer.do(`{ customerCart { id } }`, nil, ""), "customerCart", "id")
	vars := map[string]any{"sourceCartId": c.cart(2, false, false), "destinationCartId": dest}
	body := customer.do(p.Query(), vars, "")
	q, err := p.CartQuery(0)
	if err != nil {
		t.Fatal(err)
	}
	checkStandalone(t, q)
	again := rawAt(t, customer.do(q, p.CartQueryVariables(0, vars, dest), ""), "mergeCarts")
	if mine := rawAt(t, body, "mergeCarts"); !bytes.Equal(again, mine) {
		t.Errorf("merged cart refetched:\n got %s\nwant %s", again, mine)
	}

	// A coupon mutation without a cart selection: the hidden cart is read and refetched.
	p = mustPlan(t, pl, veniaApplyCouponNoCart, "")
	cart := c.cart(2, false, false)
	vars = map[string]any{"cartId": cart, "couponCode": "WELCOME10"}
	body = c.do(p.Query(), vars, "")
	snaps, err := p.Snapshots(body, RewriteOptions{})
	if err != nil || len(snaps) != 1 || snaps[0].CartID != cart || !slices.Equal(snaps[0].Cart.Coupons, []string{"WELCOME10"}) {
		t.Fatalf("hidden cart: %+v %v\n%s", snaps, err, body)
	}
	if got, err := p.Strip(body); err != nil || string(got) != `{"data":{"applyCouponToCart":{"__typename":"ApplyCouponToCartOutput"}}}` {
		t.Errorf("hidden cart stripped: %s %v", got, err)
	}
	if q, err = p.CartQuery(0); err != nil {
		t.Fatal(err)
	}
	checkStandalone(t, q)
	again = rawAt(t, c.do(q, p.CartQueryVariables(0, vars, cart), ""), hiddenCartKey)
	if mine := rawAt(t, body, "applyCouponToCart", hiddenCartKey); !bytes.Equal(again, mine) {
		t.Errorf("hidden cart refetched:\n got %s\nwant %s", again, mine)
	}
}

// as returns a client of the same store that sends an Authorization header.
func (c *demoClient) as(authorization string) *demoClient {
	return &demoClient{t: c.t, h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", authorization)
		c.h.ServeHTTP(w, r)
	})}
}

// rawString returns the string at data.path... of a response.
func rawString(t *testing.T, body []byte, path ...string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(rawAt(t, body, path...), &s); err != nil {
		t.Fatalf("%s at %v: %v", body, path, err)
	}
	return s
}

// hasErrors reports whether a response carries GraphQL errors.
func hasErrors(t *testing.T, body []byte) bool {
	t.Helper()
	var r struct{ Errors json.RawMessage }
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return r.Errors != nil
}

// rawAt returns the raw JSON at data.path... of a response.
func rawAt(t *testing.T, body []byte, path ...string) json.RawMessage {
	t.Helper()
	var r struct {
		Data   map[string]json.RawMessage
		Errors json.RawMessage
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Errors != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	raw := r.Data[path[0]]
	for _, key := range path[1:] {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s at %v: %v", body, path, err)
		}
		raw = m[key]
	}
	if raw == nil {
		t.Fatalf("nothing at %v in %s", path, body)
	}
	return raw
}

// TestCartQueryConcurrent builds the cart queries of a shared plan from several goroutines
// (run with -race).
func TestCartQueryConcurrent(t *testing.T) {
	p := mustPlan(t, newPlanner(t), veniaSignInMerge, "")
	want, err := p.CartQuery(0)
	if err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, newPlanner(t), veniaSignInMerge, "") // a fresh plan: nothing built yet
	done := make(chan string)
	for range 4 {
		go func() {
			q, _ := p.CartQuery(0)
			_ = p.CartQueryVariables(0, map[string]any{"sourceCartId": "x"}, "id")
			done <- q
		}()
	}
	for range 4 {
		if q := <-done; q != want {
			t.Errorf("got %s", q)
		}
	}
}
