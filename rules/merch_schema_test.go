package rules

import "testing"

// TestSchemaAgreesWithDecoderMerchandising feeds merchandising samples to the schema and the
// decoder: they must agree on what is valid.
func TestSchemaAgreesWithDecoderMerchandising(t *testing.T) {
	sch := compileSchema(t)
	m := func(body string) string { return merchFile(`{"id": "m", ` + body + `}`) }
	checkAgreement(t, sch, []schemaSample{
		{"only merchandising", `{"merchandising": []}`, true},
		{"both arrays", `{"rules": [], "merchandising": []}`, true},
		{"full product lists", `{"$schema": "x", "timezone": "Europe/Paris", "merchandising": [{"id": "vip-related", "name": "n", "label": "l",
		  "active": true, "from": "2026-01-01", "to": "2026-12-31T23:59:59+01:00", "priority": -3, "stop_further_rules": true,
		  "audiences": {"none": ["6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"]}, "stores": ["default"], "websites": ["base"],
		  "products": {"all": [{"field": "sku", "op": "matches", "value": "24-MB*"}, {"not": {"field": "type", "op": "in", "value": ["bundle", "grouped"]}},
		    {"any": [{"field": "sku", "op": "contains", "value": "MB"}, {"field": "type", "op": "!=", "value": "virtual"}]}]},
		  "lists": ["related", "crosssell"], "add": ["24-MB05", "24-MB06"], "limit": 1, "remove": ["24-WB*", "24-UG0?"], "first": ["24-MB02"]}]}`, true},
		{"full blocks", m(`"audiences": {"any": ["vip"]}, "blocks": {"show": ["vip-hero"], "hide": ["home-hero"], "replace": {"footer": "footer-vip", "MQ==": "Mg=="}}`), true},
		{"only remove", m(`"remove": ["A"]`), true},
		{"only first", m(`"first": ["A"]`), true},
		{"products with add", m(`"products": {"field": "type", "op": "==", "value": "configurable"}, "add": ["A"]`), true},
		{"only replace", m(`"blocks": {"replace": {"a": "b"}}`), true},

		{"neither array", `{"timezone": "UTC"}`, false},
		{"merchandising object", `{"merchandising": {}}`, false},
		{"no kind", m(`"name": "x"`), false},
		{"only products", m(`"products": {"field": "sku", "op": "==", "value": "A"}`), false},
		{"only lists", m(`"lists": ["related"]`), false},
		{"both kinds", m(`"add": ["A"], "blocks": {"hide": ["x"]}`), false},
		{"lists with blocks", m(`"lists": ["related"], "blocks": {"hide": ["x"]}`), false},
		{"cart field", m(`"add": ["A"], "currencies": ["USD"]`), false},
		{"action", m(`"add": ["A"], "action": {"type": "by_percent", "amount": 1}`), false},
		{"labels", m(`"add": ["A"], "labels": {"fr": "x"}`), false},
		{"unknown list", m(`"add": ["A"], "lists": ["related_products"]`), false},
		{"list twice", m(`"add": ["A"], "lists": ["related", "related"]`), false},
		{"empty lists", m(`"add": ["A"], "lists": []`), false},
		{"empty add", m(`"add": []`), false},
		{"empty sku", m(`"add": [""]`), false},
		{"sku with spaces", m(`"add": ["A "]`), false},
		{"sku twice", m(`"remove": ["A", "A"]`), false},
		{"limit without add", m(`"remove": ["A"], "limit": 1`), false},
		{"limit 0", m(`"add": ["A"], "limit": 0`), false},
		{"limit fraction", m(`"add": ["A"], "limit": 1.5`), false},
		{"product cart field", m(`"add": ["A"], "products": {"field": "qty", "op": "==", "value": 1}`), false},
		{"product_type", m(`"add": ["A"], "products": {"field": "product_type", "op": "==", "value": "simple"}`), false},
		{"product numeric op", m(`"add": ["A"], "products": {"field": "sku", "op": ">", "value": "A"}`), false},
		{"product found", m(`"add": ["A"], "products": {"found": {"field": "sku", "op": "==", "value": "A"}}`), false},
		{"product in without array", m(`"add": ["A"], "products": {"field": "sku", "op": "in", "value": "A"}`), false},
		{"product empty glob", m(`"add": ["A"], "products": {"field": "sku", "op": "matches", "value": ""}`), false},
		{"blocks empty", m(`"blocks": {}`), false},
		{"blocks unknown", m(`"blocks": {"swap": {"a": "b"}}`), false},
		{"blocks show empty", m(`"blocks": {"show": []}`), false},
		{"blocks hide twice", m(`"blocks": {"hide": ["a", "a"]}`), false},
		{"blocks empty id", m(`"blocks": {"hide": [""]}`), false},
		{"blocks replace empty", m(`"blocks": {"replace": {}}`), false},
		{"blocks replace by nothing", m(`"blocks": {"replace": {"a": ""}}`), false},
		{"blocks replace number", m(`"blocks": {"replace": {"a": 1}}`), false},
		{"bad audience", m(`"add": ["A"], "audiences": {"any": ["-x"]}`), false},
		{"priority float", m(`"add": ["A"], "priority": 1.5`), false},
	})
}

// TestDecoderOnlyChecksMerchandising documents what the schema cannot express.
func TestDecoderOnlyChecksMerchandising(t *testing.T) {
	sch := compileSchema(t)
	checkDecoderOnly(t, sch, map[string]string{
		"duplicate ids":          merchFile(`{"id": "a", "add": ["A"]}`, `{"id": "a", "remove": ["A"]}`),
		"id of a cart rule":      `{"rules": [{"id": "a", "action": {"type": "by_percent", "amount": 1}}], "merchandising": [{"id": "a", "add": ["A"]}]}`,
		"skus differ in case":    merchFile(`{"id": "a", "add": ["A", "a"]}`),
		"block in show and hide": merchFile(`{"id": "a", "blocks": {"show": ["x"], "hide": ["x"]}}`),
		"block replaced too":     merchFile(`{"id": "a", "blocks": {"hide": ["x"], "replace": {"x": "y"}}}`),
		"replaced by itself":     merchFile(`{"id": "a", "blocks": {"replace": {"x": "x"}}}`),
		"to before from":         merchFile(`{"id": "a", "from": "2026-05-02", "to": "2026-05-01", "add": ["A"]}`),
	})
}
