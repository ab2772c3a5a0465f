package cartql

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// describe prints a cart program compactly: what is rewritten under which keys, and the
// entries new list items get.
func describe(p *cartProg) string {
	var parts []string
	sample := &entryValues{label: "L", appliedTo: "ITEM", amount: decimal.MustNew(1, 0), currency: []byte(`"USD"`), labels: []string{"L"}}
	money := func(name string, ms []moneyProg) {
		for _, m := range ms {
			parts = append(parts, fmt.Sprintf("%s=%s%v", name, m.key, m.values))
		}
	}
	lists := func(name string, ls []listProg) {
		for _, l := range ls {
			parts = append(parts, fmt.Sprintf("%s=%s+%s", name, l.key, l.entry.render(nil, sample)))
		}
	}
	for _, pp := range p.prices {
		parts = append(parts, "prices="+pp.key)
		money("grand_total", pp.grandTotal)
		money("grand_total_excluding_tax", pp.grandTotalExcludingTax)
		money("subtotal_with_discount_excluding_tax", pp.subtotalWithDiscountExc)
		lists("discounts", pp.discounts)
		for _, d := range pp.discount {
			parts = append(parts, fmt.Sprintf("discount=%s", d.key))
			money("amount", d.amount)
			parts = append(parts, fmt.Sprintf("label=%v", d.labels), fmt.Sprintf("null=%s", d.object.render(nil, sample)))
		}
		for _, tp := range pp.taxes {
			parts = append(parts, "applied_taxes="+tp.key)
			money("amount", tp.amount)
		}
	}
	items := func(prefix string, ips []itemsProg) {
		for _, ip := range ips {
			var types []string
			for t := range ip.byType {
				types = append(types, t)
			}
			sort.Strings(types)
			for _, typ := range types {
				prog := ip.byType[typ]
				if prog == nil {
					continue
				}
				name := typ
				if name == "" {
					name = "*"
				}
				parts = append(parts, fmt.Sprintf("%s%s<%s>", prefix, ip.key, name))
				for _, pp := range prog.prices {
					parts = append(parts, "prices="+pp.key)
					money("total_item_discount", pp.total)
					lists("discounts", pp.discounts)
				}
			}
		}
	}
	items("items=", p.items)
	for _, v := range p.itemsV2 {
		items("itemsV2="+v.key+"("+strings.Join(v.uids, ",")+").", v.items)
	}
	return strings.Join(parts, " ")
}

func sitePaths(p *Plan) string {
	var out []string
	for _, s := range p.Sites() {
		out = append(out, strings.Join(s.Path, "."))
	}
	return strings.Join(out, ",")
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		op       string
		sites    string // response paths, "" for no cart
		mutation bool
		prog     string // describe() of the first site's program; "dynamic" when compiled per request
		err      string
	}{
		{
			name:  "fragment",
			query: `query { cart(cart_id: "x") { id ...F } } fragment F on Cart { prices { grand_total { value currency } } }`,
			sites: "cart",
			prog:  "prices=prices grand_total=grand_total[value]",
		},
		{
			name: "nested fragments",
			query: `query Q($id: String!) { cart(cart_id: $id) { ...A } }
				fragment A on Cart { id ...B }
				fragment B on Cart { prices { ...C } }
				fragment C on CartPrices { discounts { label amount { value } } ...D }
				fragment D on CartPrices { grand_total_excluding_tax { value } }`,
			sites: "cart",
			prog:  `prices=prices grand_total_excluding_tax=grand_total_excluding_tax[value] discounts=discounts+{"label":"L","amount":{"value":1}}`,
		},
		{
			name: "inline fragments on item types",
			query: `{ cart(cart_id: "x") { items { uid
				... on ConfigurableCartItem { prices { total_item_discount { value } } }
				... on SimpleCartItem { p: prices { discounts { label } } }
				... on CartItemInterface { prices { total_item_discount { v: value } } } } } }`,
			sites: "cart",
			prog:  `items=items<*> prices=prices total_item_discount=total_item_discount[v] items=items<ConfigurableCartItem> prices=prices total_item_discount=total_item_discount[value v] items=items<SimpleCartItem> prices=p discounts=discounts+{"label":"L"} prices=prices total_item_discount=total_item_discount[v]`,
		},
		{
			name: "aliases on every level",
			query: `query { c: cart(cart_id: "x") { p: prices { g: grand_total { v: value c: currency }
				d: discounts { l: label a: amount { x: value y: currency t: __typename } t: __typename }
				old: discount { a: amount { v: value } l: label }
				s: subtotal_with_discount_excluding_tax { v: value } tx: applied_taxes { a: amount { v: value } } }
				lines: items { pr: prices { tid: total_item_discount { v: value } } } } }`,
			sites: "c",
			prog: `prices=p grand_total=g[v] subtotal_with_discount_excluding_tax=s[v] ` +
				`discounts=d+{"l":"L","a":{"x":1,"y":"USD","t":"Money"},"t":"Discount"} ` +
				`discount=old amount=a[v] label=[l] null={"a":{"v":1},"l":["L"]} applied_taxes=tx amount=a[v] ` +
				`items=lines<*> prices=pr total_item_discount=tid[v]`,
		},
		{
			name:  "two cart root fields",
			query: `query { a: cart(cart_id: "1") { id } b: customerCart { prices { grand_total { value } } } }`,
			sites: "a,b",
			prog:  "",
		},
		{
			name:  "include with variable",
			query: `query Q($p: Boolean!) { cart(cart_id: "x") { prices @include(if: $p) { grand_total { value } } } }`,
			sites: "cart",
			prog:  "dynamic",
		},
		{
			name:  "skip with literal",
			query: `query { cart(cart_id: "x") { prices @skip(if: true) { grand_total { value } } p2: prices @include(if: true) { grand_total { value } } } }`,
			sites: "cart",
			prog:  "prices=p2 grand_total=grand_total[value]",
		},
		{
			name:  "unknown fields",
			query: `{ cart(cart_id: "x") { foo bar { baz } prices { unknown { deep } grand_total { value unknown } } } }`,
			sites: "cart",
			prog:  "prices=prices grand_total=grand_total[value]",
		},
		{
			name:     "mutation with aliases",
			query:    `mutation M($id: String!) { add: addProductsToCart(cartId: $id, cartItems: []) { c: cart { id } user_errors { code } } }`,
			sites:    "add.c",
			mutation: true,
			prog:     "",
		},
		{
			name:     "mergeCarts returns the cart",
			query:    veniaSignInMerge,
			sites:    "mergeCarts",
			mutation: true,
			prog:     "",
		},
		{
			name:  "operation name chooses",
			query: `query Products { products(search: "bag") { items { sku } } } query Cart { cart(cart_id: "x") { id } }`,
			op:    "Cart",
			sites: "cart",
			prog:  "",
		},
		{
			name:  "operation name chooses no cart",
			query: `query Products { products(search: "bag") { items { sku } } } query Cart { cart(cart_id: "x") { id } }`,
			op:    "Products",
		},
		{
			name:  "ambiguous operation",
			query: `query A { cart(cart_id: "x") { id } } query B { cart(cart_id: "y") { id } }`,
			err:   "operation name required",
		},
		{
			name:  "unknown operation",
			query: `query A { cart(cart_id: "x") { id } }`,
			op:    "B",
			err:   `unknown operation "B"`,
		},
		{
			name:  "products only",
			query: `{ products(filter: { sku: { eq: "24-MB01" } }) { items { sku price_range { minimum_price { final_price { value } } } } } }`,
		},
		{
			name:  "root fields through fragments",
			query: `query { ...Q } fragment Q on Query { ... on Query { cart(cart_id: "x") { id } } }`,
			sites: "cart",
			prog:  "",
		},
		{
			name:     "inline fragment on Mutation",
			query:    `mutation { ... on Mutation { clearCart(input: { uid: "x" }) { cart { id } } } }`,
			sites:    "clearCart.cart",
			mutation: true,
			prog:     "",
		},
		{
			name:  "client uses the reserved prefix",
			query: `{ cart(cart_id: "x") { _aud_items: items { uid } } }`,
		},
		{
			name:  "subscription",
			query: `subscription { cart(cart_id: "x") { id } }`,
		},
		{
			name:  "syntax error",
			query: `{ cart(cart_id: "x") { id }`,
			err:   "parse query",
		},
		{
			name:  "unknown fragment",
			query: `{ cart(cart_id: "x") { ...Nope } }`,
			err:   `unknown fragment "Nope"`,
		},
		{
			name:  "fragment cycle",
			query: `{ cart(cart_id: "x") { ...A } } fragment A on Cart { ...B } fragment B on Cart { ...A }`,
			err:   "spreads itself",
		},
		{
			name: "itemsV2 paging",
			query: `query Q($size: Int) { cart(cart_id: "x") { itemsV2(pageSize: $size, currentPage: 2) {
				items { uid prices { total_item_discount { value } } } total_count } } }`,
			sites: "cart",
			prog:  "itemsV2=itemsV2(uid).items<*> prices=prices total_item_discount=total_item_discount[value]",
		},
	}
	pl := newPlanner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pl.Plan(tt.query, tt.op)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sitePaths(p); got != tt.sites {
				t.Errorf("sites = %q, want %q", got, tt.sites)
			}
			if p.HasCart() != (tt.sites != "") {
				t.Errorf("HasCart = %v", p.HasCart())
			}
			if !p.HasCart() {
				if p.Query() != tt.query {
					t.Errorf("a plan without carts must send the query as it is")
				}
				return
			}
			if p.IsMutation() != tt.mutation {
				t.Errorf("IsMutation = %v", p.IsMutation())
			}
			got := "dynamic"
			if p.progs != nil {
				got = describe(p.progs[0])
			}
			if got != tt.prog {
				t.Errorf("program\n got %s\nwant %s", got, tt.prog)
			}
			checkAugmented(t, p, tt.query)
		})
	}
}

// checkAugmented verifies that the upstream query parses, keeps the client's text and adds
// the hidden fields to every cart.
func checkAugmented(t *testing.T, p *Plan, query string) {
	t.Helper()
	aug := p.Query()
	if _, err := parser.ParseQuery(&ast.Source{Input: aug}); err != nil {
		t.Fatalf("augmented query does not parse: %v\n%s", err, aug)
	}
	rest := aug
	for _, in := range p.ins {
		rest = strings.Replace(rest, in.text, "", 1)
	}
	if rest != query {
		t.Errorf("the client's text changed:\n%s", aug)
	}
	for _, s := range p.sites {
		for name, key := range readKeys(&s.reads) {
			if key == "" {
				t.Errorf("site %v: no key to read %s from", s.Path, name)
			}
		}
	}
	if strings.Contains(aug, HiddenPrefix+"_") || strings.Contains(aug, " __aud") {
		t.Errorf("alias must not start with __")
	}
}

const veniaSignInMerge = `mutation MergeCartsAfterSignIn($sourceCartId: String!, $destinationCartId: String!) {
	mergeCarts(source_cart_id: $sourceCartId, destination_cart_id: $destinationCartId) {
		id items { uid } ...CheckoutPageFragment } }
	fragment CheckoutPageFragment on Cart { id items { uid product { uid stock_status } } total_quantity available_payment_methods { code } }`

// readKeys lists the keys a site's facts are read under, by need path.
func readKeys(r *reads) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, n *need)
	walk = func(prefix string, n *need) {
		for _, k := range n.kids {
			out[prefix+k.name] = *k.slot(r)
			walk(prefix+k.name+".", k)
		}
	}
	walk("", cartNeeds)
	return out
}

// TestPlanItemsV2 matches page items by the client's own uid where every occurrence of the
// page's item list selects it, and by a hidden uid added to every occurrence otherwise; the
// pages are never selected twice.
func TestPlanItemsV2(t *testing.T) {
	pl := newPlanner(t)
	p := mustPlan(t, pl, `query Q($size: Int) { cart(cart_id: "x") {
		a: itemsV2(pageSize: $size, currentPage: 2) { items { uid } }
		b: itemsV2(pageSize: $size, currentPage: 2) @include(if: false) { items { uid } }
		c: itemsV2 { items { id: uid } } } }`, "")
	if q := p.Query(); strings.Count(q, "itemsV2") != 3 || strings.Contains(q, hiddenUID) {
		t.Errorf("pages selected again or uid added:\n%s", q)
	}
	if got, want := fmt.Sprint(p.sites[0].pageUID), "map[a.items:uid b.items:uid c.items:id]"; got != want {
		t.Errorf("page uids %s, want %s", got, want)
	}
	p = mustPlan(t, pl, `query Q($x: Boolean!) { cart(cart_id: "x") {
		a: itemsV2 { items { prices { total_item_discount { value } } } items { uid @include(if: $x) } }
		b: itemsV2 { items { ... on SimpleCartItem { uid } } } } }`, "")
	if q := p.Query(); strings.Count(q, hiddenUID+":uid") != 3 {
		t.Errorf("want a hidden uid in every occurrence of the page items:\n%s", q)
	}
	if got, want := fmt.Sprint(p.sites[0].pageUID), "map[a.items:_aud_uid b.items:_aud_uid]"; got != want {
		t.Errorf("page uids %s, want %s", got, want)
	}
}

func TestPlanCartFields(t *testing.T) {
	pl, err := NewPlanner(Options{CartFields: []string{"Query.myCart", "Mutation.transferCart", "Mutation.redeem.result"}})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, pl, `mutation { transferCart(id: "1") { id } r: redeem(code: "x") { result { id } } addProductsToCart(cartId: "1", cartItems: []) { cart { id } } }`, "")
	if got, want := sitePaths(p), "transferCart,r.result,addProductsToCart.cart"; got != want {
		t.Errorf("sites = %q, want %q", got, want)
	}
	if got := p.Sites()[1].Field; got != "Mutation.redeem.result" {
		t.Errorf("Field = %q", got)
	}
	q := mustPlan(t, pl, `{ myCart { id } }`, "")
	if sitePaths(q) != "myCart" {
		t.Errorf("Query.myCart not recognised")
	}
	for _, bad := range []string{"cart", "Subscription.cart", "Query.a.b.c", "Query.1x", "Mutation."} {
		if _, err := NewPlanner(Options{CartFields: []string{bad}}); err == nil {
			t.Errorf("NewPlanner accepted %q", bad)
		}
	}
}

func TestPlanCache(t *testing.T) {
	pl := newPlanner(t)
	q := `{ cart(cart_id: "x") { id } }`
	a, b := mustPlan(t, pl, q, ""), mustPlan(t, pl, q, "")
	if a != b {
		t.Errorf("cached plan not reused")
	}
	if _, err := pl.Plan("{", ""); err == nil {
		t.Fatal("want a parse error")
	}
	if _, err := pl.Plan("{", ""); err == nil {
		t.Fatal("want the cached parse error")
	}
	nc, err := NewPlanner(Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if mustPlan(t, nc, q, "") == mustPlan(t, nc, q, "") {
		t.Errorf("CacheSize -1 still caches")
	}
}

func TestPlanNonASCII(t *testing.T) {
	q := "query { cart(cart_id: \"café-ü\") { id prices { grand_total { value } } } } # ünïcode"
	p := mustPlan(t, newPlanner(t), q, "")
	checkAugmented(t, p, q)
}

func TestRemapColumn(t *testing.T) {
	ins := []insertion{{line: 1, col: 10, text: "12345"}, {line: 1, col: 20, text: "abc"}, {line: 3, col: 5, text: "xy"}}
	tests := []struct{ line, col, want int }{
		{1, 9, 9},   // before everything
		{1, 12, 10}, // inside the first insertion
		{1, 15, 10}, // the brace after it
		{1, 24, 19}, // between
		{1, 25, 20}, // inside the second (at 20+5)
		{1, 30, 22}, // after both
		{2, 30, 30}, // another line
		{3, 8, 6},
	}
	for _, tt := range tests {
		if got := remapColumn(ins, tt.line, tt.col); got != tt.want {
			t.Errorf("remapColumn(%d, %d) = %d, want %d", tt.line, tt.col, got, tt.want)
		}
	}
}

// TestFragmentsExpandedOnce: a fragment spread again under the same conditions is expanded
// once, so fragments that spread each other several times cannot make planning
// exponential. Twelve levels of four spreads (4^12 copies of each field before; planning
// stopped at "selection too large") plan and rewrite like a single chain of spreads.
func TestFragmentsExpandedOnce(t *testing.T) {
	const levels = 12
	query := func(spreads int) string {
		var b strings.Builder
		b.WriteString(`query { cart(cart_id: "x") { ...F0 } }` + "\n")
		for i := range levels {
			fmt.Fprintf(&b, "fragment F%d on Cart { id %s }\n", i, strings.Repeat(fmt.Sprintf("...F%d ", i+1), spreads))
		}
		fmt.Fprintf(&b, "fragment F%d on Cart { items { uid quantity prices { price { value currency } row_total { value } } } "+
			"prices { grand_total { value currency } discounts { label amount { value } } } }\n", levels)
		return b.String()
	}
	rewrite := func(q string) ([]byte, []string) {
		p := mustPlan(t, newPlanner(t), q, "")
		body := execute(t, p.Query(), "", nil, mockCart{lines: 3, coupon: true}.model())
		got, out, err := rewriteChecked(t, p, body, nil, evaluator(testRules(t), "vip"), RewriteOptions{})
		if err != nil || out.Rewritten != 1 {
			t.Fatalf("rewrite: %+v, %v", out, err)
		}
		keys := hiddenKeys(t, body)
		sort.Strings(keys)
		return got, keys
	}
	bomb, bombHidden := rewrite(query(4))
	chain, chainHidden := rewrite(query(1))
	if !jsonEqual(t, bomb, chain) {
		t.Errorf("four spreads per level rewrite to\n%s\none spread per level to\n%s", bomb, chain)
	}
	if fmt.Sprint(bombHidden) != fmt.Sprint(chainHidden) {
		t.Errorf("hidden fields: %v with four spreads per level, %v with one", bombHidden, chainHidden)
	}
}

// TestFragmentSpreadsBounded: spreads under ever new conditions cannot be merged, so each
// is expanded; the spreads met count towards maxOccurrences with the fields, which bounds
// the work of one collect, not only its result.
func TestFragmentSpreadsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`query { cart(cart_id: "x") { ...F0 } }` + "\n")
	const levels = 10
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Cart { id ...F%[2]d @skip(if: false) ...F%[2]d @skip(if: true) ...F%[2]d @include(if: true) ...F%[2]d @include(if: false) }\n", i, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Cart { id }\n", levels)
	doc, err := parser.ParseQuery(&ast.Source{Input: b.String()})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{frags: map[string]*ast.FragmentDefinition{}}
	for _, f := range doc.Fragments {
		c.frags[f.Name] = f
	}
	out := c.collect(doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet)
	if c.err == nil || c.err.Error() != "selection too large" {
		t.Fatalf("error %v, want selection too large", c.err)
	}
	if c.visits == 0 || len(out)+c.visits > maxOccurrences {
		t.Errorf("%d fields and %d spreads collected, want at most %d together", len(out), c.visits, maxOccurrences)
	}
	if _, err := newPlanner(t).Plan(b.String(), ""); err == nil {
		t.Error("the planner accepted a selection over the bound")
	}
}

// TestFragmentDepthBounded: fragments may spread fragments maxFragmentDepth deep; deeper
// chains (each level costs the whole chain above it) are refused as "nested too deep".
func TestFragmentDepthBounded(t *testing.T) {
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString(`query { cart(cart_id: "x") { ...F0 items { uid } } }` + "\n")
		for i := 0; i < n-1; i++ {
			fmt.Fprintf(&b, "fragment F%d on Cart { ...F%d }\n", i, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Cart { id prices { grand_total { value } } }\n", n-1)
		return b.String()
	}
	if _, err := newPlanner(t).Plan(chain(maxFragmentDepth), ""); err != nil {
		t.Errorf("a chain of %d fragments: %v", maxFragmentDepth, err)
	}
	_, err := newPlanner(t).Plan(chain(maxFragmentDepth+1), "")
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("a chain of %d fragments: %v, want nested too deep", maxFragmentDepth+1, err)
	}
}
