package rules

import (
	"slices"
	"testing"

	"github.com/govalues/decimal"
)

func TestRowTaxes(t *testing.T) {
	row := func(qty, price, discount string) TaxRow {
		return TaxRow{Qty: decimal.MustParse(qty), Price: decimal.MustParse(price), Discount: decimal.MustParse(discount)}
	}
	tests := []struct {
		name    string
		method  TaxCalculation
		percent string
		rows    []TaxRow
		want    []string
		total   string
	}{
		// 0.825001 → 0.83 leaves −0.004999; the discounted-away row leaves it alone; the third
		// row's 0.825 − 0.004999 rounds down.
		{"total base carries past an untaxed row", TaxTotalBase, "8.25",
			[]TaxRow{row("1", "10", "0"), row("1", "10", "10"), row("1", "10", "0")}, []string{"0.83", "0", "0.82"}, "1.65"},
		{"empty is total base", "", "8.25",
			[]TaxRow{row("1", "10", "0"), row("1", "10", "10"), row("1", "10", "0")}, []string{"0.83", "0", "0.82"}, "1.65"},
		{"row base rounds each row", TaxRowBase, "8.25",
			[]TaxRow{row("1", "10", "0"), row("1", "10", "10"), row("1", "10", "0")}, []string{"0.83", "0", "0.83"}, "1.66"},
		// 0.01 × 49.99 % = 0.004999: Magento's starting remainder of 0.000001 makes it a cent.
		{"the starting remainder tips a near half", TaxRowBase, "49.99",
			[]TaxRow{row("1", "0.01", "0")}, []string{"0.01"}, "0.01"},
		{"a discount beyond the row taxes nothing", TaxTotalBase, "8.25",
			[]TaxRow{row("2", "5", "12")}, []string{"0"}, "0"},
		// The unit keeps 10 − 10/3 = 6.666…; its tax 0.55 times 3.
		{"unit base shares the discount per unit", TaxUnitBase, "8.25",
			[]TaxRow{row("3", "10", "10")}, []string{"1.65"}, "1.65"},
		{"unit base without quantity", TaxUnitBase, "8.25",
			[]TaxRow{row("0", "10", "0")}, []string{"0"}, "0"},
		{"row total given", TaxTotalBase, "10",
			[]TaxRow{{Qty: decimal.One, Price: decimal.MustParse("3"), RowTotal: decimal.MustParse("2.95")}}, []string{"0.3"}, "0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taxes, total, err := RowTaxes(nil, tt.method, decimal.MustParse(tt.percent), tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(taxes))
			for i, d := range taxes {
				got[i] = d.Trim(0).String()
			}
			if !slices.Equal(got, tt.want) || total.Trim(0).String() != tt.total {
				t.Errorf("taxes %q total %s, want %q total %s", got, total, tt.want, tt.total)
			}
		})
	}
}

func TestParseTaxCalculation(t *testing.T) {
	for in, want := range map[string]TaxCalculation{"": TaxTotalBase, "total": TaxTotalBase, "row": TaxRowBase, "unit": TaxUnitBase} {
		if got, err := ParseTaxCalculation(in); err != nil || got != want {
			t.Errorf("ParseTaxCalculation(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"TOTAL_BASE_CALCULATION", "rows", "Total"} {
		if _, err := ParseTaxCalculation(in); err == nil {
			t.Errorf("ParseTaxCalculation(%q) accepted", in)
		}
	}
}
