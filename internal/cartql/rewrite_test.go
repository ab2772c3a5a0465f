package cartql

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/rewrite")

// rewriteCase is one file of testdata/rewrite: a query, the backend's response to the
// augmented query and the shopper's segments. The expected output is NAME.golden.json: the
// rewritten body, or Strip's output when the case expects an error.
type rewriteCase struct {
	Description   string          `json:"description"`
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     map[string]any  `json:"variables"`
	Segments      []string        `json:"segments"`
	Options       caseOptions     `json:"options"`
	Response      json.RawMessage `json:"response"`
	ResponseText  string          `json:"response_text"`
	// ResponseReuse is the backend's response to the augmented query of a plan that reads
	// the client's own fields, where reshape cannot derive it from Response (a client field
	// null while the hidden copy is not, a hidden field dropped).
	ResponseReuse json.RawMessage `json:"response_reuse"`
	Error         string          `json:"error"`
	StripError    string          `json:"strip_error"`
}

type caseOptions struct {
	Store            string            `json:"store"`
	TaxAfterDiscount bool              `json:"tax_after_discount"`
	TaxRates         map[string]string `json:"tax_rates"`
	TaxCalculation   string            `json:"tax_calculation"`
}

func (o caseOptions) rewrite(t testing.TB) RewriteOptions {
	opt := RewriteOptions{Store: o.Store, TaxAfterDiscount: o.TaxAfterDiscount, TaxCalculation: rules.TaxCalculation(o.TaxCalculation)}
	for label, pct := range o.TaxRates {
		if opt.TaxRates == nil {
			opt.TaxRates = map[string]decimal.Decimal{}
		}
		opt.TaxRates[label] = decimal.MustParse(pct)
	}
	return opt
}

// augColumn is replaced in responses by the column of a field in the augmented query, for
// error locations that point into it.
var augColumn = regexp.MustCompile(`"@aug-column:(\w+)"`)

func loadCases(t testing.TB) map[string]*rewriteCase {
	t.Helper()
	files, err := filepath.Glob("testdata/rewrite/*.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]*rewriteCase{}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &rewriteCase{}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		d.DisallowUnknownFields()
		if err := d.Decode(c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return cases
}

// body returns the backend's response: compact, as Magento sends it.
func (c *rewriteCase) body(t testing.TB, p *Plan) []byte {
	t.Helper()
	if c.ResponseText != "" {
		return []byte(c.ResponseText)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, c.Response); err != nil {
		t.Fatal(err)
	}
	return augColumn.ReplaceAllFunc(b.Bytes(), func(m []byte) []byte {
		field := string(augColumn.FindSubmatch(m)[1])
		return []byte(strconv.Itoa(strings.Index(p.Query(), field) + 1))
	})
}

// TestRewriteGolden rewrites every case of testdata/rewrite twice: with a hidden-only plan
// on the response as written (every fact read from hidden fields), and with the default
// plan, which reads what the client selects itself, on the same backend data answered to its
// augmented query. Both must give the golden output byte for byte.
func TestRewriteGolden(t *testing.T) {
	pl := newPlanner(t)
	hiddenOnly, err := NewPlanner(Options{HiddenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rs := testRules(t)
	for name, c := range loadCases(t) {
		t.Run(name, func(t *testing.T) {
			old := mustPlan(t, hiddenOnly, c.Query, c.OperationName)
			body := c.body(t, old)
			p, reused := c.reused(t, pl)
			t.Run("hidden-only", func(t *testing.T) { checkCase(t, c, name, old, body, rs) })
			t.Run("default", func(t *testing.T) { checkCase(t, c, name, p, reused, rs) })
		})
	}
}

// reused plans the case with pl (a planner that reads the client's own fields) and returns
// the backend's response to that plan's augmented query: ResponseReuse, or Response
// reshaped.
func (c *rewriteCase) reused(t testing.TB, pl *Planner) (*Plan, []byte) {
	t.Helper()
	hiddenOnly, err := NewPlanner(Options{HiddenOnly: true, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	old := mustPlan(t, hiddenOnly, c.Query, c.OperationName)
	p := mustPlan(t, pl, c.Query, c.OperationName)
	switch {
	case c.ResponseReuse != nil:
		var b bytes.Buffer
		if err := json.Compact(&b, c.ResponseReuse); err != nil {
			t.Fatal(err)
		}
		return p, b.Bytes()
	case c.ResponseText != "":
		return p, []byte(c.ResponseText)
	}
	return p, reshape(t, old, p, c.Variables, c.body(t, old))
}

func checkCase(t *testing.T, c *rewriteCase, name string, p *Plan, body []byte, rs *rules.RuleSet) {
	got, out, err := rewriteChecked(t, p, body, c.Variables, evaluator(rs, c.Segments...), c.Options.rewrite(t))
	if c.Error != "" {
		if err == nil || !strings.Contains(err.Error(), c.Error) {
			t.Fatalf("err = %v, want %q", err, c.Error)
		}
		got, err = p.Strip(body)
		if c.StripError != "" {
			if err == nil || !strings.Contains(err.Error(), c.StripError) {
				t.Fatalf("strip err = %v, want %q", err, c.StripError)
			}
			return
		}
		if err != nil {
			t.Fatalf("strip: %v", err)
		}
	} else if err != nil {
		t.Fatalf("rewrite: %v\n%s", err, body)
	}
	if keys := hiddenKeys(t, got); len(keys) > 0 {
		t.Errorf("hidden keys left: %v", keys)
	}
	checkGolden(t, "testdata/rewrite/"+name+".golden.json", got)
	if c.Error != "" {
		return
	}
	if len(c.Segments) == 0 && out.Rewritten != 0 {
		t.Errorf("outcome %+v without segments", out)
	}
	// Without audiences: exactly the body without the hidden fields.
	same, _, err := p.Rewrite(body, c.Variables, evaluator(rs), c.Options.rewrite(t))
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := p.Strip(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, stripped) {
		t.Errorf("no audience: rewrite differs from strip:\n%s\n%s", same, stripped)
	}
	if !jsonEqual(t, stripped, withoutHidden(t, body)) && !strings.Contains(string(body), `"errors"`) {
		t.Errorf("strip differs from the reference:\n%s", stripped)
	}
}

// checkGolden compares got with the indented golden file, or writes it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err != nil {
			t.Fatalf("indent: %v\n%s", err, got)
		}
		b.WriteByte('\n')
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, compact.Bytes()) {
		t.Errorf("output differs from %s:\n got %s\nwant %s", path, got, compact.Bytes())
	}
}

func TestRewriteOutcome(t *testing.T) {
	pl := newPlanner(t)
	c := loadCases(t)["partial_errors"]
	p := mustPlan(t, pl, c.Query, "")
	_, out, err := p.Rewrite(c.body(t, p), nil, evaluator(testRules(t), "vip"), RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Carts != 1 || out.Rewritten != 1 || out.Incomplete != 0 || out.Discount.Cmp(decimal.MustNew(10, 0)) != 0 {
		t.Errorf("outcome %+v", out)
	}
	c = loadCases(t)["hidden_error_dropped"]
	_, out, err = p.Rewrite(c.body(t, p), nil, evaluator(testRules(t), "vip"), RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Carts != 1 || out.Rewritten != 0 || out.Incomplete != 1 {
		t.Errorf("outcome %+v", out)
	}
}

func TestRewriteErrors(t *testing.T) {
	pl := newPlanner(t)
	p := mustPlan(t, pl, `{ cart(cart_id: "x") { prices { grand_total { value } } } }`, "")
	eval := evaluator(testRules(t), "vip")
	tests := []struct {
		name, body, err string
	}{
		{"not an object", `[1]`, "not an object"},
		{"no data", `{}`, ""},
		{"null data with errors", `{"errors":[{"message":"x"}],"data":null}`, ""},
		{"data not an object", `{"data":[]}`, "data is not an object"},
		{"cart missing", `{"data":{}}`, `missing "cart"`},
		{"cart a string", `{"data":{"cart":"x"}}`, "unexpected value"},
		{"trailing garbage", `{"data":null} x`, "invalid json"},
		{"deep", strings.Repeat("[", 600) + strings.Repeat("]", 600), "too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := p.Rewrite([]byte(tt.body), nil, eval, RewriteOptions{})
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.err != "" && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
	_, _, err := p.Rewrite([]byte(`{"errors":[{"message":"x"}],"data":null}`), nil, eval, RewriteOptions{})
	if !errors.Is(err, ErrNullData) {
		t.Errorf("err = %v, want ErrNullData", err)
	}
	_, _, err = p.Rewrite([]byte(`{"data":null}`), nil, eval, RewriteOptions{})
	if !errors.Is(err, ErrNoData) {
		t.Errorf("err = %v, want ErrNoData", err)
	}
	// Without an evaluator nothing changes.
	body := []byte(`{"data":{"cart":{"prices":{"grand_total":{"value":1}},"_aud_items":[],"_aud_prices":{},"_aud_coupons":null,"_aud_ship":[]}}}`)
	if got, _, err := p.Rewrite(body, nil, nil, RewriteOptions{}); err != nil || string(got) != `{"data":{"cart":{"prices":{"grand_total":{"value":1}}}}}` {
		t.Errorf("nil evaluator: %s %v", got, err)
	}
	// A cart that is null is not an error: there is nothing to rewrite.
	got, out, err := p.Rewrite([]byte(`{"data":{"cart":null}}`), nil, eval, RewriteOptions{})
	if err != nil || out.Carts != 0 || string(got) != `{"data":{"cart":null}}` {
		t.Errorf("null cart: %s %+v %v", got, out, err)
	}
}

// TestRewriteListSite covers a configured entry point that returns a list of carts.
func TestRewriteListSite(t *testing.T) {
	pl, err := NewPlanner(Options{CartFields: []string{"Query.carts"}})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, pl, `{ carts { prices { grand_total { value } } } }`, "")
	cart := mockCart{lines: 2}.model()
	model := map[string]any{"carts": []any{cart, nil, cart}}
	body := executeRoot(t, p.Query(), model)
	got, out, err := p.Rewrite(body, nil, evaluator(testRules(t), "vip"), RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Carts != 2 || out.Rewritten != 2 {
		t.Errorf("outcome %+v", out)
	}
	if keys := hiddenKeys(t, got); len(keys) > 0 {
		t.Errorf("hidden keys left: %v\n%s", keys, got)
	}
}

func TestDeriveRate(t *testing.T) {
	items := func(rows ...string) []rules.Item {
		var out []rules.Item
		for _, r := range rows {
			out = append(out, rules.Item{Qty: decimal.One, Price: decimal.MustParse(r), RowTotal: decimal.MustParse(r)})
		}
		return out
	}
	units := func(qty, price string) rules.Item {
		q, p := decimal.MustParse(qty), decimal.MustParse(price)
		row, _ := q.Mul(p)
		return rules.Item{Qty: q, Price: p, RowTotal: row}
	}
	tests := []struct {
		name   string
		method rules.TaxCalculation
		items  []rules.Item
		amount string
		want   string // percent
		ok     bool
	}{
		{"one item", "", items("100"), "8.25", "8.25", true},
		{"fewest decimals win", "", items("68", "32"), "8.25", "8.25", true},
		{"not the nearest 2-decimal neighbour", "", items("61.2", "28.8"), "7.43", "8.25", true},
		{"three decimals", "", items("1000", "3000"), "275.04", "6.876", true},
		{"fewest decimals first", "", items("200", "300"), "34.38", "6.875", true},
		{"ambiguous small row takes the simplest", "", items("10"), "0.83", "8.3", true},
		{"a rate ending in 5 beats a closer one", "", items("34"), "2.81", "8.25", true},
		{"three decimals ending in 5", "", items("400", "240"), "56.8", "8.875", true},
		// Issue 12's rows: total base prints 10.60, row base 10.61, both at 8.25 %.
		{"total base carries the remainder", rules.TaxTotalBase, items("78.03", "34.42", "16.07"), "10.6", "8.25", true},
		{"row base rounds each row", rules.TaxRowBase, items("78.03", "34.42", "16.07"), "10.61", "8.25", true},
		// Unit base: 2.81 per unit of 34.00, times 3 (row base would find 8.26 % for 8.43).
		{"unit base", rules.TaxUnitBase, []rules.Item{units("3", "34")}, "8.43", "8.25", true},
		{"the same amount with row base", rules.TaxRowBase, []rules.Item{units("3", "34")}, "8.43", "8.26", true},
		{"no taxable amount", "", items("0"), "1", "", false},
		{"no tax", "", items("10"), "0", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calc
			rw := getRewriter()
			defer putRewriter(rw)
			pct, ok := rw.deriveRate(decimal.MustParse(tt.amount), &rules.Cart{Items: tt.items}, tt.method, &c)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if got := pct.Trim(0).String(); got != tt.want {
				t.Errorf("rate = %s %%, want %s %%", got, tt.want)
			}
		})
	}
}

func TestAppendMoney(t *testing.T) {
	tests := map[string]string{
		"34": "34", "34.00": "34", "34.50": "34.5", "0.005": "0.01", "-0.005": "-0.01",
		"2.675": "2.68", "-10": "-10", "0": "0", "-0.001": "0", "1234567.891": "1234567.89",
	}
	for in, want := range tests {
		if got := string(appendMoney(nil, decimal.MustParse(in))); got != want {
			t.Errorf("appendMoney(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"plain", `q"uote\`, "tab\tnl\ncr\r\x01", "ünï / <b>", ""} {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%q → %s → %q %v", s, b, back, err)
		}
	}
}

func TestSnapshots(t *testing.T) {
	pl := newPlanner(t)
	hiddenOnly, err := NewPlanner(Options{HiddenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cases := loadCases(t)
	c := cases["mutation_configurable"]
	old := mustPlan(t, hiddenOnly, c.Query, "")
	p, body := c.reused(t, pl)
	for _, tt := range []struct {
		p      *Plan
		body   []byte
		cartID string
	}{
		{old, c.body(t, old), "Q2FydDE="}, // _aud_id, escaped in the body
		{p, body, "abc"},                  // the client's id
	} {
		snaps, err := tt.p.Snapshots(tt.body, RewriteOptions{Store: "fr", Website: "base"})
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 1 {
			t.Fatalf("%d snapshots", len(snaps))
		}
		got := snaps[0].Cart
		if got.Store != "fr" || got.Website != "base" || got.Currency != "USD" || len(got.Items) != 1 ||
			got.Items[0].SKU != "MH01" || got.Items[0].ProductType != "configurable" ||
			got.Items[0].Price.Cmp(decimal.MustNew(52, 0)) != 0 || len(got.Coupons) != 0 {
			t.Errorf("snapshot %+v", got)
		}
		if snaps[0].CartID != tt.cartID {
			t.Errorf("CartID = %q, want %q", snaps[0].CartID, tt.cartID)
		}
	}

	c = cases["coupon_plus_audience"]
	p, body = c.reused(t, pl)
	snaps, err := p.Snapshots(body, RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := snaps[0].Cart
	if len(got.Coupons) != 1 || got.Coupons[0] != "WELCOME10" || got.ShippingAmount.Cmp(decimal.MustNew(10, 0)) != 0 ||
		got.Items[1].Discount.Cmp(decimal.MustParse("3.2")) != 0 || got.Items[0].Qty.Cmp(decimal.MustNew(2, 0)) != 0 {
		t.Errorf("snapshot %+v", got)
	}
	if snaps[0].CartID != "abc" {
		t.Errorf("CartID = %q", snaps[0].CartID)
	}

	c = cases["hidden_error_dropped"]
	p, body = c.reused(t, pl)
	if snaps, err = p.Snapshots(body, RewriteOptions{}); err != nil || len(snaps) != 0 {
		t.Errorf("incomplete cart: %v %v", snaps, err)
	}
}

// TestConcurrent shares planner and plans between goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	pl := newPlanner(t)
	rs := testRules(t)
	cases := loadCases(t)
	bodies := map[string][]byte{}
	for _, name := range []string{"coupon_plus_audience", "include_default_true", "itemsv2_paging"} {
		_, bodies[name] = cases[name].reused(t, pl)
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 20; i++ {
				for _, name := range []string{"coupon_plus_audience", "include_default_true", "itemsv2_paging"} {
					c := cases[name]
					p, err := pl.Plan(c.Query, c.OperationName)
					if err != nil {
						t.Error(err)
						return
					}
					if _, _, err := p.Rewrite(bodies[name], c.Variables, evaluator(rs, c.Segments...), c.Options.rewrite(t)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestNewLabels: the deprecated label list gets each rule once, not a label the backend
// already shows, and labels split on ", " as Magento explodes its joined description.
func TestNewLabels(t *testing.T) {
	rw := getRewriter()
	defer putRewriter(rw)
	if err := rw.t.parse([]byte(`["Welcome 10%","A"]`)); err != nil {
		t.Fatal(err)
	}
	one := decimal.One
	res := &rules.Result{Applied: []rules.RuleDiscount{
		{RuleID: "r1", Label: "A", Amount: one},
		{RuleID: "r2", Label: "Summer, VIP", Amount: one},
		{RuleID: "r3", Label: "Summer, VIP", Amount: one},
		{RuleID: "r4", Label: "", Amount: one},
		{RuleID: "r5", Label: "Welcome 10%", Amount: one},
		{RuleID: "r6", Label: "Nothing", Amount: decimal.Zero},
	}}
	if got, want := rw.newLabels(res, 0), []string{"Summer", "VIP", "Discount"}; !slices.Equal(got, want) {
		t.Errorf("after the backend's labels: %q, want %q", got, want)
	}
	if got, want := rw.newLabels(res, -1), []string{"A", "Summer", "VIP", "Discount", "Welcome 10%"}; !slices.Equal(got, want) {
		t.Errorf("alone: %q, want %q", got, want)
	}
}

// TestRewriteBuffer: the rewritten body goes into RewriteOptions.Buffer when it fits, with
// the same bytes as without it.
func TestRewriteBuffer(t *testing.T) {
	c := loadCases(t)["coupon_plus_audience"]
	p, body := c.reused(t, newPlanner(t))
	eval := evaluator(testRules(t), c.Segments...)
	want, _, err := p.Rewrite(body, c.Variables, eval, c.Options.rewrite(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, len(want) - 1, len(want), 2 * len(want)} {
		opt := c.Options.rewrite(t)
		opt.Buffer = make([]byte, 0, size)
		got, _, err := p.Rewrite(body, c.Variables, eval, opt)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("buffer of %d: %v\n%s", size, err, got)
		}
		if shared := size >= len(want) && len(got) > 0 && &got[0] == &opt.Buffer[:1][0]; shared != (size >= len(want)) {
			t.Errorf("buffer of %d for %d bytes: used %v", size, len(want), shared)
		}
	}
}
