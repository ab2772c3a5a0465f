package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// goldenCase is one file under testdata/golden: a rule file, a cart, a shopper and the
// result Magento prints for them.
type goldenCase struct {
	Description string          `json:"description"`
	Source      string          `json:"source"`
	Rules       json.RawMessage `json:"rules"`
	Cart        json.RawMessage `json:"cart"`
	Segments    []string        `json:"segments"`
	At          string          `json:"at"`
	Expected    json.RawMessage `json:"expected"`
	// Applied, when given, is the expected Result.Applied: the rules Magento names in the
	// cart's discount description, once each.
	Applied json.RawMessage `json:"applied"`
	// Totals, when given, are the cart totals Magento prints with the result, each for one
	// tax rate and calculation method.
	Totals []goldenTotals `json:"totals"`
}

// goldenTotals is a tax rate applied after discount with a calculation method, and the
// totals Magento prints: each row's tax in cart order, the tax, the discount (positive, the
// backend's item discounts included), the subtotal with discount and the grand total
// (shipping included).
type goldenTotals struct {
	TaxCalculation string          `json:"tax_calculation"`
	TaxPercent     json.Number     `json:"tax_percent"`
	Expected       json.RawMessage `json:"expected"`
}

// computeTotals derives the cart totals from a result the way Magento's totals collectors do.
func computeTotals(t *testing.T, cart *Cart, res *Result, gt goldenTotals) []byte {
	t.Helper()
	method, err := ParseTaxCalculation(gt.TaxCalculation)
	if err != nil {
		t.Fatal(err)
	}
	subtotal, discount := decimal.Zero, res.TotalDiscount
	rows := make([]TaxRow, len(cart.Items))
	for i, it := range cart.Items {
		row := it.RowTotal
		if row.IsZero() {
			row = mul(it.Qty, it.Price)
		}
		subtotal = add(subtotal, row)
		discount = add(discount, it.Discount)
		rows[i] = TaxRow{Qty: it.Qty, Price: it.Price, RowTotal: row, Discount: add(it.Discount, res.Items[i].Discount)}
	}
	taxes, tax, err := RowTaxes(nil, method, decimal.MustParse(gt.TaxPercent.String()), rows)
	if err != nil {
		t.Fatal(err)
	}
	withDiscount := sub(subtotal, discount)
	out := map[string]any{
		"row_taxes":              taxes,
		"tax":                    tax,
		"discount":               discount,
		"subtotal_with_discount": withDiscount,
		"grand_total":            add(add(withDiscount, tax), cart.ShippingAmount),
	}
	b, err := json.Marshal(numbers(out))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// numbers turns decimals (alone or in slices) into JSON numbers.
func numbers(m map[string]any) map[string]any {
	num := func(d decimal.Decimal) json.Number { return json.Number(d.Trim(0).String()) }
	for k, v := range m {
		switch v := v.(type) {
		case decimal.Decimal:
			m[k] = num(v)
		case []decimal.Decimal:
			ns := make([]json.Number, len(v))
			for i, d := range v {
				ns[i] = num(d)
			}
			m[k] = ns
		}
	}
	return m
}

func mul(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Mul(b)
	if err != nil {
		panic(err)
	}
	return r
}

// loadJSONFiles reads every JSON file under testdata/dir, by file name.
func loadJSONFiles[T any](t testing.TB, dir string) map[string]T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JSON files in testdata/%s: %v", dir, err)
	}
	out := make(map[string]T, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = v
	}
	return out
}

func TestGolden(t *testing.T) {
	reused := &Result{} // evaluated into by every case in turn: the same answers as fresh results
	for name, gc := range loadJSONFiles[goldenCase](t, "golden") {
		t.Run(name, func(t *testing.T) {
			rs, err := Decode(gc.Rules)
			if err != nil {
				t.Fatalf("rules: %v", err)
			}
			cart, err := DecodeCart(gc.Cart)
			if err != nil {
				t.Fatalf("cart: %v", err)
			}
			at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			if gc.At != "" {
				if at, err = time.Parse(time.RFC3339, gc.At); err != nil {
					t.Fatal(err)
				}
			}
			res := rs.Evaluate(cart, gc.Segments, at)
			got, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			into := rs.EvaluateWith(cart, gc.Segments, at, EvalOptions{Into: reused})
			if again, _ := json.Marshal(into); string(again) != string(got) || !reflect.DeepEqual(into.Applied, res.Applied) {
				t.Errorf("evaluated into a used result:\n%s\nfresh:\n%s", again, got)
			}
			if !jsonEqual(t, got, gc.Expected) {
				t.Errorf("%s\nsource: %s\ngot:  %s\nwant: %s", gc.Description, gc.Source, got, compactJSON(t, gc.Expected))
			}
			if gc.Applied != nil {
				applied := make([]map[string]any, len(res.Applied))
				for i, a := range res.Applied {
					applied[i] = numbers(map[string]any{"rule_id": a.RuleID, "label": a.Label, "amount": a.Amount})
				}
				got, _ := json.Marshal(applied)
				if !jsonEqual(t, got, gc.Applied) {
					t.Errorf("applied rules\ngot:  %s\nwant: %s", got, compactJSON(t, gc.Applied))
				}
			}
			for _, gt := range gc.Totals {
				if got := computeTotals(t, cart, res, gt); !jsonEqual(t, got, gt.Expected) {
					t.Errorf("totals with %s%% tax, %s calculation\ngot:  %s\nwant: %s", gt.TaxPercent, gt.TaxCalculation, got, compactJSON(t, gt.Expected))
				}
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
