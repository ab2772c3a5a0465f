package caddymodule

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/report"
)

const testRules = `{"timezone": "America/Los_Angeles", "rules": [
  {"id": "vip-20", "label": "VIP 20%", "priority": 1, "audiences": {"any": ["6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"]},
   "action": {"type": "by_percent", "amount": 20}},
  {"id": "bags-bogo", "label": "Bags", "priority": 2, "audiences": {"any": ["0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5"]},
   "items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "action": {"type": "buy_x_get_y", "step": 1, "amount": 1}},
  {"id": "black-friday", "label": "Black Friday", "labels": {"fr": "Vendredi noir"}, "priority": 3, "from": "2026-11-27", "to": "2026-11-27",
   "action": {"type": "by_fixed", "amount": 1}}
]}`

const testCart = `{"currency": "USD", "store": "default", "coupons": ["WELCOME10"], "shipping_amount": 10,
 "items": [{"sku": "24-MB01", "qty": 2, "price": 34, "row_total": 68, "discount": 6.8, "product_type": "simple"}]}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateCommand(t *testing.T) {
	good := writeFile(t, "rules.json", testRules)
	var out, errOut bytes.Buffer
	if code := report.Validate(&out, &errOut, good); code != 0 {
		t.Fatalf("valid file: exit %d, stderr %s", code, errOut.String())
	}
	line := out.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, ": valid: 3 rules (3 active, 0 enforced), 2 audiences, time zone America/Los_Angeles, version ") {
		t.Errorf("summary = %q", line)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr = %q", errOut.String())
	}

	bad := writeFile(t, "bad.json", `{"rules": [
	  {"id": "vip-50", "action": {"type": "by_percnt", "amount": 50}},
	  {"id": "vip-50", "action": {"type": "by_percent", "amount": 150}}]}`)
	out.Reset()
	errOut.Reset()
	if code := report.Validate(&out, &errOut, bad); code != 1 {
		t.Fatalf("invalid file: exit %d", code)
	}
	for _, want := range []string{
		bad + `: rules[0] "vip-50": action.type: unknown value "by_percnt"`,
		bad + `: rules[1] "vip-50": action.amount: a percentage must be at most 100, got 150`,
		bad + `: rules[1] "vip-50": id: duplicate of rules[0]`,
		bad + `: 3 problem(s); the rule file is not valid`,
	} {
		if !strings.Contains(errOut.String(), want+"\n") {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out.String())
	}

	for _, path := range []string{"", filepath.Join(t.TempDir(), "missing.json")} {
		errOut.Reset()
		if code := report.Validate(&out, &errOut, path); code != 1 || errOut.Len() == 0 || strings.Contains(errOut.String(), "goroutine") {
			t.Errorf("validate %q: exit %d, stderr %q", path, code, errOut.String())
		}
	}
}

func TestValidateExampleRules(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := report.Validate(&out, &errOut, filepath.Join("..", "examples", "rules.json")); code != 0 {
		t.Fatalf("examples/rules.json: exit %d: %s", code, errOut.String())
	}
}

func TestSimulateCommand(t *testing.T) {
	rulesPath := writeFile(t, "rules.json", testRules)
	cartPath := writeFile(t, "cart.json", testCart)
	var out, errOut bytes.Buffer
	code := report.Simulate(nil, &out, &errOut, report.SimulateOptions{
		Rules: rulesPath, Cart: cartPath, Segments: " 6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01, ,",
		At: "2026-11-20T10:00:00-08:00",
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `{"total_discount": 12.24,
	 "items": [{"sku": "24-MB01", "discount": 12.24, "discounts": [{"rule_id": "vip-20", "label": "VIP 20%", "amount": 12.24}]}],
	 "discounts": [{"rule_id": "vip-20", "label": "VIP 20%", "amount": 12.24, "applied_to": "ITEM"}],
	 "shipping_discount": 0,
	 "trace": [{"rule_id": "vip-20", "applied": true}, {"rule_id": "bags-bogo", "applied": false, "reason": "audience_mismatch"},
	           {"rule_id": "black-friday", "applied": false, "reason": "not_started"}]}`
	assertJSON(t, out.Bytes(), want)

	// Cart from stdin, a date for --at (midnight in the rule file's zone) and --store.
	out.Reset()
	code = report.Simulate(strings.NewReader(testCart), &out, &errOut, report.SimulateOptions{
		Rules: rulesPath, Cart: "-", Segments: "0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5", At: "2026-11-27", Store: "fr",
	})
	if code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, errOut.String())
	}
	want = `{"total_discount": 36,
	 "items": [{"sku": "24-MB01", "discount": 36, "discounts": [
	   {"rule_id": "bags-bogo", "label": "Bags", "amount": 34},
	   {"rule_id": "black-friday", "label": "Vendredi noir", "amount": 2}]}],
	 "discounts": [{"rule_id": "bags-bogo", "label": "Bags", "amount": 34, "applied_to": "ITEM"},
	               {"rule_id": "black-friday", "label": "Vendredi noir", "amount": 2, "applied_to": "ITEM"}],
	 "shipping_discount": 0,
	 "trace": [{"rule_id": "vip-20", "applied": false, "reason": "audience_mismatch"}, {"rule_id": "bags-bogo", "applied": true},
	           {"rule_id": "black-friday", "applied": true}]}`
	assertJSON(t, out.Bytes(), want)
}

func TestSimulateBadInput(t *testing.T) {
	rulesPath := writeFile(t, "rules.json", testRules)
	cartPath := writeFile(t, "cart.json", testCart)
	badRules := writeFile(t, "bad.json", `{"rules": [{"id": "x"}]}`)
	badCart := writeFile(t, "badcart.json", `{"items": [{"sku": "a", "qty": -1, "price": 1}], "colour": 1}`)
	tests := []struct {
		name string
		o    report.SimulateOptions
		want string
	}{
		{"no rules", report.SimulateOptions{Cart: cartPath}, "--rules is required"},
		{"no cart", report.SimulateOptions{Rules: rulesPath}, "--cart is required"},
		{"bad rules", report.SimulateOptions{Rules: badRules, Cart: cartPath}, `rules[0] "x": action: required (or enforce)`},
		{"missing cart", report.SimulateOptions{Rules: rulesPath, Cart: cartPath + ".nope"}, "reading the cart"},
		{"bad cart", report.SimulateOptions{Rules: rulesPath, Cart: badCart}, "items[0].qty: must not be negative, got -1"},
		{"cart not JSON", report.SimulateOptions{Rules: rulesPath, Cart: "-"}, "cart (stdin): invalid JSON"},
		{"bad time", report.SimulateOptions{Rules: rulesPath, Cart: cartPath, At: "tomorrow"}, `--at: "tomorrow" is neither RFC 3339`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := report.Simulate(strings.NewReader("{not json"), &out, &errOut, tt.o)
		if code != 1 {
			t.Errorf("%s: exit %d", tt.name, code)
		}
		if !strings.Contains(errOut.String(), tt.want) || strings.Contains(errOut.String(), "goroutine") {
			t.Errorf("%s: stderr %q, want %q", tt.name, errOut.String(), tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: stdout %q", tt.name, out.String())
		}
	}
}

// TestCobraWiring runs the subcommands through cobra, as caddy's main would.
func TestCobraWiring(t *testing.T) {
	rulesPath := writeFile(t, "rules.json", testRules)
	if out, _, err := runAudiences(t, "validate", "--rules", rulesPath); err != nil || !strings.Contains(out, "valid: 3 rules") {
		t.Errorf("validate: %v %q", err, out)
	}
	if _, errOut, err := runAudiences(t, "validate", "-r", writeFile(t, "bad.json", `{}`)); err == nil || !strings.Contains(errOut, "rules: required") || strings.Contains(errOut, "Error:") {
		t.Errorf("validate bad: %v %q", err, errOut)
	}
	out, _, err := runAudiencesIn(t, testCart, "simulate", "--rules", rulesPath, "--cart", "-", "--segments", "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01", "--at", "2026-11-20T00:00:00Z", "--store", "default")
	if err != nil || !strings.Contains(out, `"total_discount": 12.24`) {
		t.Errorf("simulate: %v %q", err, out)
	}
	if _, _, err := runAudiences(t, "simulate", "--bogus"); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, _, err := runAudiences(t, "frobnicate"); err == nil {
		t.Error("unknown subcommand accepted")
	}
	if out, _, err := runAudiences(t); err != nil || !strings.Contains(out, "simulate") {
		t.Errorf("help: %v %q", err, out)
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("output\n got %s\nwant %s", gb, wb)
	}
}
