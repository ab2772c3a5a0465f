package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const merchRules = `{"rules": [{"id": "vip-10", "audiences": {"any": ["vip"]}, "action": {"type": "by_percent", "amount": 10}}],
  "merchandising": [
    {"id": "vip-related", "audiences": {"any": ["vip"]}, "lists": ["related"], "add": ["24-MB05"], "first": ["24-MB05"]},
    {"id": "vip-hero", "audiences": {"any": ["vip"]}, "active": false, "blocks": {"show": ["vip-hero"]}},
    {"id": "fr-footer", "stores": ["fr"], "blocks": {"replace": {"footer": "footer-fr"}}}
  ]}`

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateCountsMerchandising(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Validate(&out, &errOut, writeFile(t, "rules.json", merchRules)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), ": valid: 1 rules (1 active, 0 enforced), 3 merchandising rules (2 active), 1 audiences, time zone UTC") {
		t.Errorf("summary %q", out.String())
	}
	out.Reset()
	code := Validate(&out, &errOut, writeFile(t, "rules.json", `{"rules": []}`))
	if code != 0 || !strings.Contains(out.String(), ": valid: 0 rules") || strings.Contains(out.String(), "merchandising") {
		t.Errorf("summary without merchandising rules mentions them: %q", out.String())
	}
}

func TestSimulateMerchandising(t *testing.T) {
	rulesPath := writeFile(t, "rules.json", merchRules)
	cart := `{"store": "default", "items": [{"sku": "24-MB01", "qty": 1, "price": 10}],
	  "products": [{"sku": "24-MB01", "type": "simple", "related": ["24-MB02"]}], "blocks": ["footer", "vip-hero"]}`
	var out, errOut bytes.Buffer
	code := Simulate(strings.NewReader(cart), &out, &errOut, SimulateOptions{Rules: rulesPath, Cart: "-", Segments: "vip", Store: "fr", At: "2026-06-01"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		TotalDiscount json.Number `json:"total_discount"`
		Merchandising struct {
			Products []struct {
				Items []string `json:"items"`
				Added []string `json:"added"`
			} `json:"products"`
			Blocks []struct {
				ID, Action, With string
			} `json:"blocks"`
			BlocksTrace []struct {
				RuleID string `json:"rule_id"`
				Reason string `json:"reason"`
			} `json:"blocks_trace"`
		} `json:"merchandising"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	m := got.Merchandising
	if got.TotalDiscount != "1" || len(m.Products) != 1 || strings.Join(m.Products[0].Items, ",") != "24-MB05,24-MB02" ||
		strings.Join(m.Products[0].Added, ",") != "24-MB05" || len(m.Blocks) != 2 ||
		m.Blocks[0].Action != "replace" || m.Blocks[0].With != "footer-fr" || m.Blocks[1].Action != "keep" ||
		len(m.BlocksTrace) != 2 || m.BlocksTrace[1].Reason != "inactive" {
		t.Errorf("simulate output:\n%s", out.String())
	}

	// Without products and blocks the output is the cart result alone.
	out.Reset()
	Simulate(strings.NewReader(`{"items": [{"sku": "A", "qty": 1, "price": 10}]}`), &out, &errOut, SimulateOptions{Rules: rulesPath, Cart: "-", Segments: "vip"})
	if strings.Contains(out.String(), "merchandising") || !strings.Contains(out.String(), `"total_discount": 1`) {
		t.Errorf("cart-only output:\n%s", out.String())
	}

	// Problems in products and blocks are reported like the cart's.
	out.Reset()
	errOut.Reset()
	code = Simulate(strings.NewReader(`{"products": [{"sku": "A", "related": "B"}]}`), &out, &errOut, SimulateOptions{Rules: rulesPath, Cart: "-"})
	if code != 1 || !strings.Contains(errOut.String(), "cart (stdin): products[0].related: must be an array of strings, got string") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
