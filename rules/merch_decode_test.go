package rules

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// merchFile wraps merchandising rule objects into a rule file without cart rules.
func merchFile(rules ...string) string {
	return `{"merchandising": [` + strings.Join(rules, ",") + `]}`
}

func TestDecodeMerchandisingFiles(t *testing.T) {
	list := `{"id": "m", "add": ["A"]}`
	pct := `{"id": "c", "action": {"type": "by_percent", "amount": 10}}`
	for name, file := range map[string]string{
		"only merchandising":       merchFile(list),
		"empty rules":              `{"rules": [], "merchandising": [` + list + `]}`,
		"both":                     `{"rules": [` + pct + `], "merchandising": [` + list + `]}`,
		"empty merchandising":      `{"rules": [], "merchandising": []}`,
		"only empty merchandising": `{"merchandising": []}`,
	} {
		rs, err := Decode([]byte(file))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got, want := rs.HasMerchandising(), strings.Contains(file, `"m"`); got != want {
			t.Errorf("%s: HasMerchandising = %v", name, got)
		}
	}
}

func TestDecodeMerchandisingErrors(t *testing.T) {
	tests := []struct {
		name string
		rule string // the body of merchandising[0] "m" (after the id)
		want []string
	}{
		{"neither kind", ``, []string{`merchandising[0] "m": needs blocks, or add, remove or first for product lists`}},
		{"only products", `, "products": {"field": "sku", "op": "==", "value": "A"}`, []string{`merchandising[0] "m": needs add, remove or first`}},
		{"both kinds", `, "add": ["A"], "lists": ["related"], "blocks": {"hide": ["x"]}`,
			[]string{`merchandising[0] "m": has both blocks and product-list fields (lists, add); a rule changes one or the other`}},
		{"cart field", `, "add": ["A"], "currencies": ["USD"], "labels": 1, "action": {}`,
			[]string{`merchandising[0] "m": action: unknown field`, `merchandising[0] "m": currencies: unknown field`, `merchandising[0] "m": labels: unknown field`}},
		{"common fields", `, "add": ["A"], "priority": 1.5, "active": "yes", "from": "2026-02-30", "audiences": {"any": []}, "stores": [""]`, []string{
			`merchandising[0] "m": active: must be a boolean, got string`,
			`merchandising[0] "m": priority: must be a 32-bit integer, got 1.5`,
			`merchandising[0] "m": from: invalid date "2026-02-30" (want 2006-01-02 or RFC 3339)`,
			`merchandising[0] "m": audiences.any: must be a non-empty array of strings`,
			`merchandising[0] "m": stores[0]: must not be empty`,
		}},
		{"to before from", `, "add": ["A"], "from": "2026-05-02", "to": "2026-05-01"`, []string{`merchandising[0] "m": to: "2026-05-01" is before from "2026-05-02"`}},
		{"product cart field", `, "add": ["A"], "products": {"field": "qty", "op": "==", "value": 1}`,
			[]string{`merchandising[0] "m": products.field: unknown value "qty" (want sku or type)`}},
		{"product_type is type here", `, "add": ["A"], "products": {"field": "product_type", "op": "==", "value": "simple"}`,
			[]string{`merchandising[0] "m": products.field: unknown value "product_type" (want sku or type)`}},
		{"product numeric op", `, "add": ["A"], "products": {"field": "type", "op": ">", "value": "a"}`,
			[]string{`merchandising[0] "m": products.op: operator ">" does not apply to text field "type"`}},
		{"product found", `, "add": ["A"], "products": {"found": {"field": "sku", "op": "==", "value": "A"}}`,
			[]string{`merchandising[0] "m": products.found: not allowed in a product condition`}},
		{"product nested", `, "add": ["A"], "products": {"all": [{"not": {"field": "sku", "op": "in", "value": "A"}}]}`,
			[]string{`merchandising[0] "m": products.all[0].not.value: operator "in" needs a non-empty array`}},
		{"lists", `, "add": ["A"], "lists": ["related", "related_products", "related", 3]`, []string{
			`merchandising[0] "m": lists[1]: unknown value "related_products" (want related, upsell or crosssell)`,
			`merchandising[0] "m": lists[2]: "related" is listed twice`,
			`merchandising[0] "m": lists[3]: must be a string, got number`,
		}},
		{"empty lists", `, "add": ["A"], "lists": []`, []string{`merchandising[0] "m": lists: must be a non-empty array of related, upsell, crosssell`}},
		{"add", `, "add": ["A", "", "a", " B", 7]`, []string{
			`merchandising[0] "m": add[1]: must not be empty`,
			`merchandising[0] "m": add[4]: must be a string, got number`,
			`merchandising[0] "m": add[2]: "a" is a duplicate of add[0] (SKUs ignore case)`,
			`merchandising[0] "m": add[3]: " B" has leading or trailing spaces`,
		}},
		{"empty add", `, "add": []`, []string{`merchandising[0] "m": add: must be a non-empty array of strings`}},
		{"remove duplicate glob", `, "remove": ["24-*", "24-*"]`, []string{`merchandising[0] "m": remove[1]: "24-*" is a duplicate of remove[0] (SKUs ignore case)`}},
		{"first not array", `, "first": "A"`, []string{`merchandising[0] "m": first: must be a non-empty array of strings`}},
		{"limit without add", `, "remove": ["A"], "limit": 2`, []string{`merchandising[0] "m": limit: needs add (limit is the most SKUs the rule adds)`}},
		{"limit zero", `, "add": ["A"], "limit": 0`, []string{`merchandising[0] "m": limit: must be an integer from 1 to 2147483647, got 0`}},
		{"limit fraction", `, "add": ["A"], "limit": 1.5`, []string{`merchandising[0] "m": limit: must be an integer from 1 to 2147483647, got 1.5`}},
		{"limit string", `, "add": ["A"], "limit": "2"`, []string{`merchandising[0] "m": limit: must be an integer, got string`}},
		{"blocks not object", `, "blocks": ["x"]`, []string{`merchandising[0] "m": blocks: must be an object, got array`}},
		{"blocks empty", `, "blocks": {}`, []string{`merchandising[0] "m": blocks: needs show, hide or replace`}},
		{"blocks unknown", `, "blocks": {"hide": ["x"], "swap": {}}`, []string{`merchandising[0] "m": blocks.swap: unknown field`}},
		{"blocks show twice", `, "blocks": {"show": ["x", "x"]}`, []string{`merchandising[0] "m": blocks.show[1]: "x" is listed twice`}},
		{"blocks hide and show", `, "blocks": {"show": ["x"], "hide": ["y", "x"]}`,
			[]string{`merchandising[0] "m": blocks.hide[1]: "x" is also in blocks.show; a rule does one thing with a block`}},
		{"blocks replace and hide", `, "blocks": {"hide": ["x"], "replace": {"x": "y"}}`,
			[]string{`merchandising[0] "m": blocks.replace.x: "x" is also in blocks.hide; a rule does one thing with a block`}},
		{"blocks replace", `, "blocks": {"replace": {"a": "a", "b": "", "c": 1, "": "d"}}`, []string{
			`merchandising[0] "m": blocks.replace: block id must not be empty`,
			`merchandising[0] "m": blocks.replace.a: replaces the block by itself`,
			`merchandising[0] "m": blocks.replace.b: must not be empty`,
			`merchandising[0] "m": blocks.replace.c: must be a string, got number`,
		}},
		{"blocks replace empty", `, "blocks": {"replace": {}}`, []string{`merchandising[0] "m": blocks.replace: must be a non-empty object of block id → block id`}},
		{"blocks hide empty id", `, "blocks": {"hide": [""]}`, []string{`merchandising[0] "m": blocks.hide[0]: must not be empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeProblems(t, merchFile(`{"id": "m"`+tt.rule+`}`))
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDecodeMerchandisingFileErrors(t *testing.T) {
	pct := `"action": {"type": "by_percent", "amount": 10}`
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"neither array", `{"timezone": "UTC"}`, []string{`rules: required`}},
		{"merchandising not an array", `{"merchandising": {}}`, []string{`merchandising: must be an array`}},
		{"merchandising null", `{"rules": [], "merchandising": null}`, []string{`merchandising: must be an array`}},
		{"not an object", merchFile(`"x"`), []string{`merchandising[0]: must be an object`}},
		{"missing id", merchFile(`{"add": ["A"]}`), []string{`merchandising[0]: id: required`}},
		{"bad id", merchFile(`{"id": "a b", "add": ["A"]}`), []string{`merchandising[0] "a b": id: must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`}},
		{"duplicate id", merchFile(`{"id": "a", "add": ["A"]}`, `{"id": "a", "blocks": {"hide": ["x"]}}`),
			[]string{`merchandising[1] "a": id: duplicate of merchandising[0]`}},
		{"id of a cart rule", `{"rules": [{"id": "a", ` + pct + `}], "merchandising": [{"id": "b", "add": ["A"]}, {"id": "a", "add": ["A"]}]}`,
			[]string{`merchandising[1] "a": id: duplicate of rules[0]`}},
		{"issue example", merchFile(`{"id": "x", "add": ["A"]}`, `{"id": "y", "add": ["A"]}`, `{"id": "vip-hero", "blocks": {"replace": {"home-hero": "home-hero"}}}`),
			[]string{`merchandising[2] "vip-hero": blocks.replace.home-hero: replaces the block by itself`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeProblems(t, tt.file)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMerchandisingAccessors(t *testing.T) {
	rs := mustDecode(t, `{"timezone": "Europe/Paris", "rules": [{"id": "c", "audiences": {"any": ["vip"]}, "action": {"type": "by_percent", "amount": 10}}],
	  "merchandising": [
	    {"id": "up", "priority": 5, "audiences": {"all": ["vip", "gold"]}, "lists": ["crosssell", "upsell"], "add": ["A", "B"], "limit": 1},
	    {"id": "hero", "priority": 1, "audiences": {"none": ["vip"]}, "blocks": {"show": ["s"], "hide": ["h"], "replace": {"r": "r2"}}},
	    {"id": "all-lists", "priority": 5, "name": "n", "label": "l", "active": false, "from": "2026-01-01", "to": "2026-01-31",
	     "stop_further_rules": true, "stores": ["default"], "websites": ["base"], "products": {"field": "type", "op": "==", "value": "bundle"},
	     "remove": ["x*"], "first": ["F"]}
	  ]}`)
	if !rs.HasMerchandising() || !rs.HasProductLists() || !rs.HasBlocks() || rs.Len() != 1 {
		t.Errorf("HasMerchandising %v, HasProductLists %v, HasBlocks %v, Len %d", rs.HasMerchandising(), rs.HasProductLists(), rs.HasBlocks(), rs.Len())
	}
	for list, want := range map[string]bool{ListRelated: true, ListUpsell: true, ListCrosssell: true, "related_products": false, "": false} {
		if rs.TargetsList(list) != want {
			t.Errorf("TargetsList(%q) = %v", list, !want)
		}
	}
	for id, want := range map[string]bool{"s": true, "h": true, "r": true, "r2": false, "x": false} {
		if rs.NamesBlock(id) != want {
			t.Errorf("NamesBlock(%q) = %v", id, !want)
		}
	}
	ms := rs.Merchandising()
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID+":"+string(m.Kind()))
	}
	if want := []string{"hero:blocks", "all-lists:product_lists", "up:product_lists"}; !slices.Equal(ids, want) {
		t.Errorf("Merchandising() = %v, want %v (priority, then id)", ids, want)
	}
	up := ms[2]
	if !slices.Equal(up.Lists, []string{ListUpsell, ListCrosssell}) || !slices.Equal(up.Add, []string{"A", "B"}) || up.Limit != 1 ||
		up.Audiences.Mode != "all" || !slices.Equal(up.Audiences.IDs, []string{"gold", "vip"}) || !up.Active {
		t.Errorf("up = %+v", up)
	}
	all := ms[1]
	if !slices.Equal(all.Lists, productLists) || all.Active || all.Name != "n" || all.Label != "l" || all.From != "2026-01-01" ||
		!all.StopFurtherRules || !slices.Equal(all.Remove, []string{"x*"}) || !slices.Equal(all.First, []string{"F"}) {
		t.Errorf("all-lists = %+v", all)
	}
	hero := ms[0].Blocks
	if hero == nil || !slices.Equal(hero.Show, []string{"s"}) || !slices.Equal(hero.Hide, []string{"h"}) || hero.Replace["r"] != "r2" {
		t.Errorf("hero blocks = %+v", hero)
	}
	// As written, and copies: changing them does not change the set.
	out, _ := json.Marshal(ms[0])
	if string(out) != `{"id":"hero","priority":1,"audiences":{"none":["vip"]},"blocks":{"show":["s"],"hide":["h"],"replace":{"r":"r2"}}}` {
		t.Errorf("as written: %s", out)
	}
	ms[0].Blocks.Show[0], ms[2].Add[0] = "changed", "changed"
	if again := rs.Merchandising(); again[0].Blocks.Show[0] != "s" || again[2].Add[0] != "A" {
		t.Error("Merchandising() shares memory with the set")
	}
	// Audiences name merchandising rules after cart rules.
	if got := rs.Audiences(); !slices.Equal(got["vip"], []string{"c", "hero", "up"}) || !slices.Equal(got["gold"], []string{"up"}) {
		t.Errorf("Audiences() = %v", got)
	}
	if !rs.UsesAudience("gold") {
		t.Error("UsesAudience(gold) = false")
	}
}

func TestNoMerchandising(t *testing.T) {
	rs := mustDecode(t, rulesFile(`{"id": "c", "action": {"type": "by_percent", "amount": 10}}`))
	if rs.HasMerchandising() || rs.HasProductLists() || rs.HasBlocks() || rs.TargetsList(ListRelated) || rs.NamesBlock("x") || len(rs.Merchandising()) != 0 {
		t.Error("a set without merchandising rules claims some")
	}
	if res := rs.ProductList(Product{SKU: "A"}, ListRelated, []string{"B"}, []string{"vip"}, noon, Scope{}, EvalOptions{}); res != nil {
		t.Errorf("ProductList = %+v, want nil", res)
	}
	if res := rs.Blocks([]string{"x"}, []string{"vip"}, noon, Scope{}, EvalOptions{}); res != nil {
		t.Errorf("Blocks = %+v, want nil", res)
	}
}
