package gate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

func writePool(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pool.txt")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPool(t *testing.T) {
	p, err := loadPool("r", writePool(t, "# Magento export\n  AUDPOOL-7K2Q  \n\naudpool-9x1z\n#AUDPOOL-COMMENT\nAUDPOOL-AB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.codes, []string{"AUDPOOL-7K2Q", "audpool-9x1z", "AUDPOOL-AB"}) || p.prefix != "AUDPOOL-" || p.minLen != 10 || p.maxLen != 12 {
		t.Fatalf("pool %q prefix %q lengths %d..%d", p.codes, p.prefix, p.minLen, p.maxLen)
	}
	if !p.has("AudPool-9X1Z") || p.has("AUDPOOL-COMMENT") || !p.fastScrub() {
		t.Fatal("membership")
	}
	for name, text := range map[string]string{
		"empty":     "# nothing\n\n",
		"duplicate": "AUDPOOL-1\naudpool-1\n",
		"odd char":  "AUDPOOL 1\n",
		"quote":     "AUD\"POOL\n",
		"non-ASCII": "AUDPOOL-É\n",
	} {
		if _, err := loadPool("r", writePool(t, text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := loadPool("r", filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Error("missing file accepted")
	}
	if p, _ := loadPool("r", writePool(t, "XA-1111\nYB-2222\n")); p.fastScrub() {
		t.Error("a pool without a common prefix scrubs by prefix")
	}
}

func TestPoolAssignment(t *testing.T) {
	p, err := loadPool("r", writePool(t, "AUDPOOL-0001\nAUDPOOL-0002\nAUDPOOL-0003\nAUDPOOL-0004\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.assignLocal("", nil); got != "" {
		t.Fatalf("a cart without id got %q", got)
	}
	a := p.assignLocal("cart-a", nil)
	b := p.assignLocal("cart-b", []string{"WELCOME10"})
	if a != "AUDPOOL-0001" || b != "AUDPOOL-0002" || p.assignLocal("cart-a", nil) != a {
		t.Fatalf("one code per cart: a=%q b=%q", a, b)
	}
	// After a restart a cart keeps the code it holds, and nobody else gets it.
	q, _ := loadPool("r", writePool(t, "AUDPOOL-0001\nAUDPOOL-0002\nAUDPOOL-0003\nAUDPOOL-0004\n"))
	if got := q.assignLocal("cart-b", []string{"audpool-0002"}); got != "AUDPOOL-0002" {
		t.Fatalf("adopted %q", got)
	}
	if got := q.assignLocal("cart-c", nil); got != "AUDPOOL-0001" {
		t.Fatalf("next after adoption %q", got)
	}
	if got := q.assignLocal("cart-d", nil); got != "AUDPOOL-0003" {
		t.Fatalf("adopted code handed out again: %q", got)
	}
	// A refused code is replaced by the next free one; a spent code on the cart is not adopted.
	q.spend("audpool-0003")
	if got := q.assignLocal("cart-d", []string{"AUDPOOL-0003"}); got != "AUDPOOL-0004" {
		t.Fatalf("after spend %q", got)
	}
	q.spendAssigned("cart-d")
	if got := q.assignLocal("cart-d", nil); got != "" || q.Left() != 0 {
		t.Fatalf("used up pool gave %q, %d left", got, q.Left())
	}
}

func TestPoolFound(t *testing.T) {
	var codes strings.Builder
	for i := range 50 {
		fmt.Fprintf(&codes, "AUDPOOL-%04d\n", i)
	}
	codes.WriteString("AUDPOOL-0001-LONG\n")
	p, err := loadPool("r", writePool(t, codes.String()))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		body string
		want []string
	}{
		"none":         {`{"data":{"cart":{"applied_coupons":null}}}`, nil},
		"prefix only":  {`{"data":{"x":"AUDPOOL-"}}`, nil},
		"not in pool":  {`{"data":{"x":"AUDPOOL-9999"}}`, nil},
		"code":         {`{"data":{"cart":{"applied_coupons":[{"code":"AUDPOOL-0007"}]}}}`, []string{"AUDPOOL-0007"}},
		"lower case":   {`{"errors":[{"message":"audpool-0012 coupon exceeds usage limit."}]}`, []string{"AUDPOOL-0012"}},
		"in a word":    {`{"x":"xAUDPOOL-0003_suffix"}`, []string{"AUDPOOL-0003"}},
		"nested codes": {`{"x":"AUDPOOL-0001-LONG"}`, []string{"AUDPOOL-0001", "AUDPOOL-0001-LONG"}},
		"twice":        {`{"a":"AUDPOOL-0004","b":"AUDPOOL-0004","c":"AUDPOOL-0005"}`, []string{"AUDPOOL-0004", "AUDPOOL-0005"}},
		"escaped":      {`{"x":"\u0041UDPOOL-0020"}`, []string{"AUDPOOL-0020"}},
		"not JSON":     {`AUDPOOL-0030 <html>`, []string{"AUDPOOL-0030"}},
	} {
		if got := p.found([]byte(tc.body), nil); !slices.Equal(got, tc.want) {
			t.Errorf("%s: found %q, want %q", name, got, tc.want)
		}
	}
	kp, _ := loadPool("r", writePool(t, "KPOOL-0001\nKPOOL-0002\n"))
	if got := kp.found([]byte("{\"x\":\"\u212aPOOL-0002\"}"), nil); !slices.Equal(got, []string{"KPOOL-0002"}) {
		t.Errorf("Kelvin sign: found %q", got)
	}
}

// poolGate builds the gate of a rule set with one single-code rule and one pool rule.
func poolGate(t *testing.T, poolFile string) *Rules {
	t.Helper()
	rs, err := rules.Decode([]byte(`{"rules": [
		{"id": "vip", "label": "VIP price", "audiences": {"any": ["vip"]}, "enforce": {"coupon": "AUD-VIP-7Q2X"}},
		{"id": "pool", "label": "Pool price", "audiences": {"any": ["pool"]}, "enforce": {"coupons_file": ` + fmt.Sprintf("%q", poolFile) + `}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	g := NewRules(rs, &PoolCache{}, zap.NewNop())
	if g == nil {
		t.Fatal("no gate")
	}
	return g
}

func TestGatePool(t *testing.T) {
	path := writePool(t, "AUDPOOL-0001\nAUDPOOL-0002\nAUDPOOL-0003\n")
	g := poolGate(t, path)
	if !g.codes.Has("audpool-0002") || !g.codes.Has("AUD-VIP-7Q2X") {
		t.Fatal("pool codes are gate codes: typed ones are refused")
	}
	cart := &rules.Cart{Currency: "USD"}
	now := time.Now()
	a, _ := g.wanted("cart-a", cart, []string{"pool"}, now, nil)
	b, _ := g.wanted("cart-b", cart, []string{"pool", "vip"}, now, nil)
	if !slices.Equal(a, []string{"AUDPOOL-0001"}) || len(b) != 2 || !slices.Contains(b, "AUDPOOL-0002") || !slices.Contains(b, "AUD-VIP-7Q2X") {
		t.Fatalf("wanted a=%q b=%q", a, b)
	}
	if g.ruleOf("audpool-0003") != "pool" || g.ruleOf("AUD-VIP-7Q2X") != "vip" {
		t.Fatal("ruleOf")
	}
	body := []byte(`{"data":{"cart":{"applied_coupons":[{"code":"AUDPOOL-0002"}],"prices":{"discounts":[{"label":"audpool-0002","amount":{"value":5}}]}}},"errors":[{"message":"The coupon code \"AUDPOOL-0001\" isn't valid."}]}`)
	out := g.Scrub(body)
	if strings.Contains(strings.ToUpper(string(out)), "AUDPOOL-") || !strings.Contains(string(out), `"label":"Pool price"`) {
		t.Fatalf("scrubbed: %s", out)
	}
	plain := []byte(`{"data":{"cart":{"id":"x"}}}`)
	if codes, _ := g.scrubCodes(plain); len(codes) != 1 {
		t.Fatalf("a body without pool codes is scrubbed of %q", codes)
	}
	// A reload with the same file keeps the assignments; a broken file leaves the rule out.
	pools := &PoolCache{}
	p1, _ := pools.Load("pool", path)
	p1.assignLocal("cart-z", nil)
	if p2, _ := pools.Load("pool", path); p2 != p1 {
		t.Fatal("pool state lost on reload")
	}
	if g := poolGate(t, filepath.Join(t.TempDir(), "missing.txt")); len(g.pools) != 0 || g.byRule["vip"] == "" {
		t.Fatal("a missing pool file must leave only its rule out")
	}
}

func TestRefusedPoolCode(t *testing.T) {
	g := poolGate(t, writePool(t, "AUDPOOL-0001\n"))
	for msg, want := range map[string]string{
		"The coupon code isn't valid. Verify the code and try again.":   "AUDPOOL-0001",
		"AUDPOOL-0001 coupon exceeds usage limit.":                      "AUDPOOL-0001",
		"A coupon is already applied to the cart. Please remove it ...": "",
	} {
		err := &ApplyError{Code: "AUDPOOL-0001", Rule: "pool", Err: &MagentoError{msg}}
		if got := g.refusedPoolCode(err); got != want {
			t.Errorf("%q: %q", msg, got)
		}
	}
	if got := g.refusedPoolCode(&ApplyError{Code: "AUD-VIP-7Q2X", Err: &MagentoError{"The coupon code isn't valid."}}); got != "" {
		t.Errorf("a single code is never rotated: %q", got)
	}
}
