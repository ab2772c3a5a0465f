// Shared helpers of the cartql tests: fixture loading, Apollo's query shaping, JSON
// comparison and cart builders, in one file so every test file uses the same ones.

package cartql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// veniaOp is one operation of the shared Venia fixture.
type veniaOp struct {
	Source string `json:"source"`
	Query  string `json:"query"`
}

func veniaOps(t testing.TB) []veniaOp {
	t.Helper()
	b, err := os.ReadFile("../../../shared/fixtures/clients/venia-cart-operations.json")
	if err != nil {
		b, err = os.ReadFile("/work/shared/fixtures/clients/venia-cart-operations.json")
	}
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var ops []veniaOp
	if err := json.Unmarshal(b, &ops); err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	return ops
}

func veniaQuery(t testing.TB, suffix string) string {
	t.Helper()
	for _, op := range veniaOps(t) {
		if strings.HasSuffix(op.Source, suffix) {
			return op.Query
		}
	}
	t.Fatalf("no Venia operation %s", suffix)
	return ""
}

// withTypename adds __typename to every selection set but the operations' own, as Apollo
// Client does, and prints the document the way the formatter does.
func withTypename(t testing.TB, query string) string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var add func(set ast.SelectionSet) ast.SelectionSet
	add = func(set ast.SelectionSet) ast.SelectionSet {
		has := false
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if s.Name == "__typename" {
					has = true
				}
				if len(s.SelectionSet) > 0 {
					s.SelectionSet = add(s.SelectionSet)
				}
			case *ast.InlineFragment:
				s.SelectionSet = add(s.SelectionSet)
			}
		}
		if !has {
			set = append(set, &ast.Field{Alias: "__typename", Name: "__typename"})
		}
		return set
	}
	for _, op := range doc.Operations {
		for _, s := range op.SelectionSet {
			if f, ok := s.(*ast.Field); ok && len(f.SelectionSet) > 0 {
				f.SelectionSet = add(f.SelectionSet)
			}
		}
	}
	for _, f := range doc.Fragments {
		f.SelectionSet = add(f.SelectionSet)
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String()
}

// minify collapses whitespace and drops comments, as PWA Studio does for GET requests.
func minify(query string) string {
	var out []string
	for _, line := range strings.Split(query, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.Fields(line)...)
	}
	return strings.Join(out, " ")
}

func testRules(t testing.TB) *rules.RuleSet {
	t.Helper()
	rs, err := rules.LoadFile("testdata/rules.json")
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	return rs
}

func evaluator(rs *rules.RuleSet, segments ...string) Evaluator {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return func(c *rules.Cart) *rules.Result {
		return rs.EvaluateWith(c, segments, at, rules.EvalOptions{Trace: rules.TraceOff})
	}
}

func newPlanner(t testing.TB) *Planner {
	t.Helper()
	pl, err := NewPlanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func mustPlan(t testing.TB, pl *Planner, query, op string) *Plan {
	t.Helper()
	p, err := pl.Plan(query, op)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// hiddenKeys returns the paths of every object key starting with HiddenPrefix.
func hiddenKeys(t testing.TB, body []byte) []string {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, body)
	}
	var found []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if strings.HasPrefix(k, HiddenPrefix) {
					found = append(found, path+"."+k)
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		}
	}
	walk("", v)
	return found
}

// jsonEqual reports whether two documents are equal as JSON values.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if err := da.Decode(&va); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := db.Decode(&vb); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return fmt.Sprint(normalize(va)) == fmt.Sprint(normalize(vb))
}

// normalize makes numbers comparable by value (34 == 34.0).
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			v[k] = normalize(c)
		}
	case []any:
		for i, c := range v {
			v[i] = normalize(c)
		}
	case json.Number:
		d, err := decimal.Parse(string(v))
		if err == nil {
			return d.Trim(0).String()
		}
	}
	return v
}

// withoutHidden removes every HiddenPrefix key from a JSON document: the reference for Strip.
func withoutHidden(t testing.TB, body []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if strings.HasPrefix(k, HiddenPrefix) {
					delete(v, k)
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mockCart is a Magento cart for the mock executor.
type mockCart struct {
	lines    int
	coupon   bool // the backend's WELCOME10 coupon: 10 % off every item
	shipping bool // a flat-rate method is selected ($5 per unit)
	vip      bool // the backend itself applied testdata/rules.json's vip-10 after the coupon
}

var (
	taxRate  = decimal.MustParse("0.0825")
	ten      = decimal.MustNew(10, 0)
	shipFlat = decimal.MustNew(5, 0)
)

func num(d decimal.Decimal) json.Number { return json.Number(round2(d).Trim(0).String()) }

func mulD(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Mul(b)
	if err != nil {
		panic(err)
	}
	return r
}

func addD(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Add(b)
	if err != nil {
		panic(err)
	}
	return r
}

func subD(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Sub(b)
	if err != nil {
		panic(err)
	}
	return r
}

func money(d decimal.Decimal) map[string]any {
	return map[string]any{"__typename": "Money", "value": num(d), "currency": "USD"}
}

// model returns the cart as nested maps keyed by field name, with Magento's totals.
func (c mockCart) model() map[string]any {
	var items []any
	subtotal, inclTax, discount, tax, qtyTotal, vipTotal, delta := zero, zero, zero, zero, zero, zero, zero
	for i := 0; i < c.lines; i++ {
		price := decimal.MustNew(int64(1000+i*137%9000), 2) // 10.00 … 99.99
		qty := decimal.MustNew(int64(1+i%3), 0)
		row := round2(mulD(price, qty))
		disc := zero
		var discounts any
		if c.coupon {
			disc = round2(mulD(row, decimal.MustParse("0.1")))
			discounts = []any{map[string]any{"__typename": "Discount", "label": "WELCOME10", "applied_to": "ITEM", "amount": money(disc)}}
		}
		if c.vip {
			raw := addD(mulD(subD(row, disc), decimal.MustParse("0.1")), delta)
			a := round2(raw)
			delta = subD(raw, a)
			disc, vipTotal = addD(disc, a), addD(vipTotal, a)
			d, _ := discounts.([]any)
			discounts = append(d, map[string]any{"__typename": "Discount", "label": "VIP 10% off", "applied_to": "ITEM", "amount": money(a)})
		}
		itemTax := round2(mulD(subD(row, disc), taxRate))
		subtotal, discount, tax, qtyTotal = addD(subtotal, row), addD(discount, disc), addD(tax, itemTax), addD(qtyTotal, qty)
		inclTax = addD(inclTax, addD(row, round2(mulD(row, taxRate))))
		typename, sku := "SimpleCartItem", fmt.Sprintf("24-MB%02d", i)
		product := map[string]any{"__typename": "SimpleProduct", "uid": "UHJvZA==", "sku": sku, "name": "Bag " + sku,
			"url_key": "bag", "stock_status": "IN_STOCK", "thumbnail": map[string]any{"__typename": "ProductImage", "url": "https://example.test/media/" + sku + ".jpg"},
			"small_image": map[string]any{"__typename": "ProductImage", "url": "https://example.test/media/s/" + sku + ".jpg"}}
		item := map[string]any{"__typename": typename, "uid": strconv.Itoa(i + 1), "quantity": num(qty), "product": product,
			"errors": nil, "prices": map[string]any{"__typename": "CartItemPrices", "price": money(price), "row_total": money(row),
				"total_item_discount": money(disc), "discounts": discounts}}
		if i%4 == 3 {
			item["__typename"] = "ConfigurableCartItem"
			product["__typename"] = "ConfigurableProduct"
			item["configured_variant"] = map[string]any{"__typename": "SimpleProduct", "sku": sku + "-M", "uid": "Q2hpbGQ="}
			item["configurable_options"] = []any{map[string]any{"__typename": "SelectedConfigurableOption", "id": 93,
				"configurable_product_option_uid": "Y29u", "option_label": "Size", "configurable_product_option_value_uid": "dmFs",
				"value_label": "M", "value_id": 5}}
		}
		items = append(items, item)
	}
	ship := zero
	addresses := []any{}
	if c.shipping {
		ship = mulD(qtyTotal, shipFlat)
		addresses = []any{map[string]any{"__typename": "ShippingCartAddress", "street": []any{"1 Main St"}, "city": "Austin",
			"selected_shipping_method": map[string]any{"__typename": "SelectedShippingMethod", "amount": money(ship),
				"carrier_code": "flatrate", "method_code": "flatrate", "method_title": "Fixed"}}}
	}
	grand := addD(addD(subD(subtotal, discount), tax), ship)
	prices := map[string]any{
		"__typename":                           "CartPrices",
		"grand_total":                          money(grand),
		"grand_total_excluding_tax":            money(subD(grand, tax)),
		"subtotal_excluding_tax":               money(subtotal),
		"subtotal_including_tax":               money(inclTax),
		"subtotal_with_discount_excluding_tax": money(subD(subtotal, discount)),
		"applied_taxes":                        []any{},
		"discounts":                            nil,
		"discount":                             nil,
		"gift_options":                         map[string]any{"__typename": "GiftOptionsPrices", "printed_card": money(zero)},
	}
	if tax.IsPos() {
		prices["applied_taxes"] = []any{map[string]any{"__typename": "CartTaxItem", "label": "US-CA-*-Rate 1", "amount": money(tax)}}
	}
	var coupons any
	var list, labels []any
	if c.coupon {
		list = append(list, map[string]any{"__typename": "Discount", "label": "WELCOME10", "applied_to": "ITEM", "amount": money(subD(discount, vipTotal))})
		labels = append(labels, "WELCOME10")
		coupons = []any{map[string]any{"__typename": "AppliedCoupon", "code": "WELCOME10"}}
	}
	if c.vip {
		list = append(list, map[string]any{"__typename": "Discount", "label": "VIP 10% off", "applied_to": "ITEM", "amount": money(vipTotal)})
		labels = append(labels, "VIP 10% off")
	}
	if len(list) > 0 {
		prices["discounts"] = list
		prices["discount"] = map[string]any{"__typename": "CartDiscount", "label": labels, "amount": money(discount.Neg())}
	}
	return map[string]any{
		"__typename":                "Cart",
		"id":                        "cart-1",
		"email":                     nil,
		"total_quantity":            num(qtyTotal),
		"items":                     items,
		"prices":                    prices,
		"applied_coupons":           coupons,
		"shipping_addresses":        addresses,
		"available_payment_methods": []any{map[string]any{"__typename": "AvailablePaymentMethod", "code": "checkmo", "title": "Check"}},
		"selected_payment_method":   map[string]any{"__typename": "SelectedPaymentMethod", "code": "", "title": ""},
		"applied_gift_cards":        []any{},
		"total_summary_quantity_including_config": num(qtyTotal),
	}
}

// execute answers the plan's augmented query from the model, like a GraphQL server: keys in
// collection order, aliases honoured, @skip/@include and itemsV2 paging applied.
func execute(t testing.TB, query, opName string, variables map[string]any, cart map[string]any) []byte {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("execute: parse: %v", err)
	}
	op, err := operation(doc, opName)
	if err != nil {
		t.Fatal(err)
	}
	root := map[string]any{}
	for _, name := range []string{"cart", "customerCart", "mergeCarts", "assignCustomerToGuestCart"} {
		root[name] = cart
	}
	for _, f := range defaultCartFields {
		if parts := strings.Split(f, "."); len(parts) == 3 {
			root[parts[1]] = map[string]any{"__typename": "Output", "cart": cart}
		}
	}
	return executeModel(t, doc, op, variables, root)
}

// executeRoot answers a single-operation query from a root model.
func executeRoot(t testing.TB, query string, root map[string]any) []byte {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("execute: parse: %v", err)
	}
	op, err := operation(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	return executeModel(t, doc, op, nil, root)
}

func executeModel(t testing.TB, doc *ast.QueryDocument, op *ast.OperationDefinition, variables map[string]any, root map[string]any) []byte {
	t.Helper()
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	x := &executor{col: &collector{frags: frags}, v: &vars{values: variables, defaults: booleanDefaults(op)}, vars: variables}
	var b bytes.Buffer
	b.WriteString(`{"data":`)
	x.object(&b, []occ{{f: &ast.Field{SelectionSet: op.SelectionSet}}}, root)
	b.WriteString(`}`)
	if x.err != nil {
		t.Fatal(x.err)
	}
	return b.Bytes()
}

type executor struct {
	col  *collector
	v    *vars
	vars map[string]any
	err  error
}

func (x *executor) object(b *bytes.Buffer, fields []occ, obj map[string]any) {
	typename, _ := obj["__typename"].(string)
	keep := func(o occ) bool {
		if !x.v.included(o.conds) {
			return false
		}
		if typename == "" {
			return true // a model rebuilt from a response may not know its types (reshape)
		}
		for _, tc := range o.types {
			if tc != typename && !strings.HasSuffix(tc, "Interface") && tc != "Query" && tc != "Mutation" {
				return false
			}
		}
		return true
	}
	b.WriteByte('{')
	for i, g := range groupBy(x.col.collectAll(fields), keep) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "%q:", g.key)
		if g.name == "__typename" {
			fmt.Fprintf(b, "%q", typename)
			continue
		}
		val, ok := obj[g.name+printArgs(g.occs[0].f.Arguments)]
		if !ok {
			val = obj[g.name]
		}
		if g.name == "itemsV2" {
			val = x.page(g.occs[0].f, obj)
		}
		x.value(b, g.occs, val)
	}
	b.WriteByte('}')
	if x.col.err != nil {
		x.err = x.col.err
	}
}

func (x *executor) value(b *bytes.Buffer, occs []occ, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case map[string]any:
		x.object(b, occs, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			x.value(b, occs, e)
		}
		b.WriteByte(']')
	default:
		e := json.NewEncoder(b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			x.err = err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
}

// printArgs prints field arguments compactly, "" when there are none: a model field with
// arguments may be keyed by its name and them.
func printArgs(args ast.ArgumentList) string {
	if len(args) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Name + ":" + a.Value.String())
	}
	b.WriteByte(')')
	return b.String()
}

// page answers Cart.itemsV2(pageSize, currentPage).
func (x *executor) page(f *ast.Field, cart map[string]any) map[string]any {
	size, page := 20, 1
	for _, a := range f.Arguments {
		v, _ := a.Value.Value(x.vars)
		n := 0
		switch v := v.(type) {
		case int64:
			n = int(v)
		case float64:
			n = int(v)
		case json.Number:
			i, _ := v.Int64()
			n = int(i)
		}
		switch a.Name {
		case "pageSize":
			size = n
		case "currentPage":
			page = n
		}
	}
	items, _ := cart["items"].([]any)
	lo := min(len(items), (page-1)*size)
	hi := min(len(items), lo+size)
	return map[string]any{"__typename": "CartItems", "items": slices.Clone(items[lo:hi]), "total_count": len(items),
		"page_info": map[string]any{"__typename": "SearchResultPageInfo", "current_page": page, "page_size": size, "total_pages": (len(items) + size - 1) / size}}
}

// rewriteChecked is Rewrite, checked against a rewrite that indexes the whole body (the
// plan's shape must not change the outcome) and against Snapshots then Rewrite on one
// Indexed (reading the carts first must not change it either; an answer that cannot be
// read fails both alike).
func rewriteChecked(t testing.TB, p *Plan, body []byte, vars map[string]any, eval Evaluator, opt RewriteOptions) ([]byte, Outcome, error) {
	t.Helper()
	got, out, err := p.Rewrite(body, vars, eval, opt)
	noBuffer := opt
	noBuffer.Buffer = nil // got may live in opt.Buffer
	full, fullOut, fullErr := p.rewrite(body, vars, eval, noBuffer, wholeShapes)
	if (err == nil) != (fullErr == nil) || !bytes.Equal(got, full) || out != fullOut {
		t.Errorf("the shaped rewrite differs from the full one:\n got %s %+v %v\nfull %s %+v %v\nbody %s", got, out, err, full, fullOut, fullErr, body)
	}
	if !p.HasCart() {
		return got, out, err
	}
	snaps, snapErr := p.Snapshots(body, opt)
	ix := p.Index(body)
	defer ix.Release()
	ixSnaps, ixSnapErr := ix.Snapshots(opt)
	if fmt.Sprint(snapErr) != fmt.Sprint(ixSnapErr) || !reflect.DeepEqual(snaps, ixSnaps) {
		t.Errorf("Indexed.Snapshots differs from Plan.Snapshots:\n got %+v %v\nwant %+v %v", ixSnaps, ixSnapErr, snaps, snapErr)
	}
	ixGot, ixOut, ixRewriteErr := ix.Rewrite(vars, eval, noBuffer)
	if fmt.Sprint(err) != fmt.Sprint(ixRewriteErr) || !bytes.Equal(got, ixGot) || out != ixOut {
		t.Errorf("Indexed.Rewrite after Snapshots differs from Plan.Rewrite:\n got %s %+v %v\nwant %s %+v %v", ixGot, ixOut, ixRewriteErr, got, out, err)
	}
	return got, out, err
}
