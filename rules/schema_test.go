package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The rule file schema is checked with github.com/santhosh-tekuri/jsonschema/v6 (already a
// dependency of Caddy).

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "rules.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("rules.schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("rules.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("rules.schema.json")
	if err != nil {
		t.Fatalf("rules.schema.json does not compile: %v", err)
	}
	return sch
}

func schemaValid(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSchemaAcceptsExamplesAndGoldens(t *testing.T) {
	sch := compileSchema(t)
	files := map[string][]byte{}
	data, err := os.ReadFile(filepath.Join("..", "examples", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	files["examples/rules.json"] = data
	for name, gc := range loadJSONFiles[goldenCase](t, "golden") {
		files["golden/"+name] = gc.Rules
	}
	for name, data := range files {
		if err := schemaValid(t, sch, data); err != nil {
			t.Errorf("%s: schema: %v", name, err)
		}
		if _, err := Decode(data); err != nil {
			t.Errorf("%s: decoder: %v", name, err)
		}
	}
}

// schemaSample is a rule file and whether it is valid.
type schemaSample struct {
	name  string
	file  string
	valid bool
}

// checkAgreement checks that the schema and the decoder both find each sample valid or not,
// as it says.
func checkAgreement(t *testing.T, sch *jsonschema.Schema, samples []schemaSample) {
	t.Helper()
	for _, s := range samples {
		schemaErr := schemaValid(t, sch, []byte(s.file))
		_, decodeErr := Decode([]byte(s.file))
		if (schemaErr == nil) != s.valid {
			t.Errorf("%s: schema says valid=%v, want %v: %v", s.name, schemaErr == nil, s.valid, schemaErr)
		}
		if (decodeErr == nil) != s.valid {
			t.Errorf("%s: decoder says valid=%v, want %v: %v", s.name, decodeErr == nil, s.valid, decodeErr)
		}
	}
}

// checkDecoderOnly checks that the schema accepts each file and the decoder rejects it.
func checkDecoderOnly(t *testing.T, sch *jsonschema.Schema, files map[string]string) {
	t.Helper()
	for name, file := range files {
		if err := schemaValid(t, sch, []byte(file)); err != nil {
			t.Errorf("%s: schema rejects: %v", name, err)
		}
		if _, err := Decode([]byte(file)); err == nil {
			t.Errorf("%s: decoder accepts", name)
		}
	}
}

// TestSchemaAgreesWithDecoder feeds the same samples to both: they must agree on what is a
// valid rule file.
func TestSchemaAgreesWithDecoder(t *testing.T) {
	sch := compileSchema(t)
	rule := func(body string) string { return `{"rules": [{"id": "r", ` + body + `}]}` }
	pct := `"action": {"type": "by_percent", "amount": 10}`
	checkAgreement(t, sch, []schemaSample{
		{"empty", `{"rules": []}`, true},
		{"full", `{"$schema": "x", "timezone": "Europe/Paris", "rules": [{"id": "vip-20", "name": "n", "label": "l", "labels": {"fr": "x"},
		  "active": true, "from": "2026-01-01", "to": "2026-12-31T23:59:59+01:00", "priority": -3, "stop_further_rules": true,
		  "audiences": {"any": ["6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"]}, "stores": ["default"], "websites": ["base"], "currencies": ["EUR"],
		  "conditions": {"all": [{"field": "subtotal", "op": ">=", "value": 50}, {"not": {"field": "coupon", "op": "in", "value": ["A"]}},
		    {"found": {"field": "sku", "op": "matches", "value": "24-*"}}, {"not_found": {"any": []}},
		    {"subselect": {"items": {"field": "product_type", "op": "==", "value": "simple"}, "field": "row_total", "op": "not_in", "value": [1, 2]}}]},
		  "items": {"any": [{"field": "price", "op": "<", "value": 100}, {"field": "qty", "op": "in", "value": [1, 2]}]},
		  "action": {"type": "by_percent", "amount": 20, "max_qty": 2.5, "step": 2, "apply_to_shipping": true}}]}`, true},
		{"enforce coupon", rule(`"enforce": {"coupon": "VIP-7F3A"}`), true},
		{"enforce file", rule(`"enforce": {"coupons_file": "coupons.txt"}`), true},
		{"coupon", rule(`"coupon": "SPRING-25", ` + pct), true},
		{"buy_x_get_y", rule(`"action": {"type": "buy_x_get_y", "amount": 1, "step": 2}`), true},
		{"amount 4 decimals", rule(`"action": {"type": "by_fixed", "amount": 1.2345}`), true},
		{"percent 100", rule(`"action": {"type": "by_percent", "amount": 100}`), true},
		{"priority 2.0", rule(`"priority": 2.0, ` + pct), true},
		{"step 2.0", rule(`"action": {"type": "by_fixed", "amount": 1, "step": 2.0}`), true},

		{"missing rules", `{}`, false},
		{"unknown top field", `{"rules": [], "version": 1}`, false},
		{"unknown rule field", rule(`"colour": "red", ` + pct), false},
		{"missing id", `{"rules": [{` + pct + `}]}`, false},
		{"bad id", `{"rules": [{"id": "a b", ` + pct + `}]}`, false},
		{"no action", rule(`"name": "x"`), false},
		{"action and enforce", rule(pct + `, "enforce": {"coupon": "X"}`), false},
		{"unknown action type", rule(`"action": {"type": "by_percnt", "amount": 10}`), false},
		{"unknown action field", rule(`"action": {"type": "by_percent", "amount": 10, "maxqty": 1}`), false},
		{"missing amount", rule(`"action": {"type": "by_percent"}`), false},
		{"negative amount", rule(`"action": {"type": "by_fixed", "amount": -1}`), false},
		{"percent over 100", rule(`"action": {"type": "by_percent", "amount": 100.5}`), false},
		{"5 decimals", rule(`"action": {"type": "by_fixed", "amount": 1.23456}`), false},
		{"buy_x_get_y without step", rule(`"action": {"type": "buy_x_get_y", "amount": 1}`), false},
		{"buy_x_get_y step 0", rule(`"action": {"type": "buy_x_get_y", "amount": 1, "step": 0}`), false},
		{"fractional step", rule(`"action": {"type": "by_fixed", "amount": 1, "step": 1.5}`), false},
		{"negative max_qty", rule(`"action": {"type": "by_fixed", "amount": 1, "max_qty": -1}`), false},
		{"shipping flag type", rule(`"action": {"type": "by_fixed", "amount": 1, "apply_to_shipping": "yes"}`), false},
		{"priority float", rule(`"priority": 1.5, ` + pct), false},
		{"active string", rule(`"active": "yes", ` + pct), false},
		{"two audience modes", rule(`"audiences": {"any": ["a"], "none": ["b"]}, ` + pct), false},
		{"empty audience", rule(`"audiences": {"any": []}, ` + pct), false},
		{"bad segment id", rule(`"audiences": {"any": ["-x"]}, ` + pct), false},
		{"lower-case currency", rule(`"currencies": ["usd"], ` + pct), false},
		{"empty stores", rule(`"stores": [], ` + pct), false},
		{"empty store code", rule(`"stores": [""], ` + pct), false},
		{"date format", rule(`"from": "27/11/2026", ` + pct), false},
		{"bad operator", rule(`"conditions": {"field": "subtotal", "op": "=~", "value": 1}, ` + pct), false},
		{"text op on number", rule(`"conditions": {"field": "subtotal", "op": "contains", "value": "1"}, ` + pct), false},
		{"number op on text", rule(`"items": {"field": "sku", "op": ">", "value": "a"}, ` + pct), false},
		{"in without array", rule(`"items": {"field": "sku", "op": "in", "value": "a"}, ` + pct), false},
		{"scalar op with array", rule(`"items": {"field": "sku", "op": "==", "value": ["a"]}, ` + pct), false},
		{"empty in", rule(`"items": {"field": "qty", "op": "in", "value": []}, ` + pct), false},
		{"number as string", rule(`"items": {"field": "qty", "op": "==", "value": "1"}, ` + pct), false},
		{"empty glob", rule(`"items": {"field": "sku", "op": "matches", "value": ""}, ` + pct), false},
		{"item field in cart", rule(`"conditions": {"field": "sku", "op": "==", "value": "a"}, ` + pct), false},
		{"cart field in items", rule(`"items": {"field": "subtotal", "op": ">", "value": 1}, ` + pct), false},
		{"found in items", rule(`"items": {"found": {"field": "sku", "op": "==", "value": "a"}}, ` + pct), false},
		{"leaf with extra key", rule(`"items": {"field": "sku", "op": "==", "value": "a", "x": 1}, ` + pct), false},
		{"leaf without value", rule(`"items": {"field": "sku", "op": "=="}, ` + pct), false},
		{"two combinators", rule(`"conditions": {"all": [], "any": []}, ` + pct), false},
		{"subselect price", rule(`"conditions": {"subselect": {"field": "price", "op": ">", "value": 1}}, ` + pct), false},
		{"enforce empty", rule(`"enforce": {}`), false},
		{"enforce both", rule(`"enforce": {"coupon": "A", "coupons_file": "f"}`), false},
		{"enforce blank coupon", rule(`"enforce": {"coupon": "  "}`), false},
		{"labels not strings", rule(`"labels": {"fr": 1}, ` + pct), false},
		{"coupon not a string", rule(`"coupon": 25, ` + pct), false},
		{"coupon blank", rule(`"coupon": "  ", ` + pct), false},
		{"coupon without action", rule(`"coupon": "SPRING"`), false},
		{"coupon on an enforced rule", rule(`"coupon": "SPRING", "enforce": {"coupon": "VIP"}`), false},
		{"coupon with action and enforce", rule(`"coupon": "SPRING", "enforce": {"coupon": "VIP"}, ` + pct), false},
	})
}

// TestDecoderOnlyChecks documents what the schema cannot express; the decoder rejects these
// files although they are valid against the schema.
func TestDecoderOnlyChecks(t *testing.T) {
	sch := compileSchema(t)
	pct := `"action": {"type": "by_percent", "amount": 10}`
	checkDecoderOnly(t, sch, map[string]string{
		"duplicate ids":       `{"rules": [{"id": "a", ` + pct + `}, {"id": "a", ` + pct + `}]}`,
		"shared coupon codes": `{"rules": [{"id": "a", "enforce": {"coupon": "VIP"}}, {"id": "b", "enforce": {"coupon": "vip"}}]}`,
		"shared rule coupons": `{"rules": [{"id": "a", "coupon": "SPRING", ` + pct + `}, {"id": "b", "coupon": "spring", ` + pct + `}]}`,
		"coupon = enforced":   `{"rules": [{"id": "a", "coupon": "VIP", ` + pct + `}, {"id": "b", "enforce": {"coupon": "Vip"}}]}`,
		"unknown time zone":   `{"timezone": "Mars/Olympus", "rules": []}`,
		"impossible date":     `{"rules": [{"id": "a", "from": "2026-02-30", ` + pct + `}]}`,
		"to before from":      `{"rules": [{"id": "a", "from": "2026-05-02", "to": "2026-05-01", ` + pct + `}]}`,
		"nesting too deep":    `{"rules": [{"id": "a", "items": ` + strings.Repeat(`{"not": `, 30) + `{"field": "sku", "op": "==", "value": "x"}` + strings.Repeat(`}`, 30) + `, ` + pct + `}]}`,
	})
}
