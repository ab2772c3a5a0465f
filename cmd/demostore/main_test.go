package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

func TestParseCouponUses(t *testing.T) {
	got, err := parseCouponUses(" SPRING-25=1, welcome10=0 ")
	if err != nil || !reflect.DeepEqual(got, map[string]int{"SPRING-25": 1, "welcome10": 0}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := parseCouponUses(""); got != nil || err != nil {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"SPRING", "=1", "A=x", "A=-1", "A=1,"} {
		if _, err := parseCouponUses(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coupons.json")
	if err := os.WriteFile(path, []byte(`{"rules": [{"id": "s", "coupon": "SPRING", "action": {"type": "by_percent", "amount": 25}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := config{couponRules: path, multiCoupon: 2, couponUses: "spring=3,WELCOME10=1"}.options()
	if err != nil || opts.CouponRules == nil || opts.MaxCoupons != 2 || opts.CouponUses["spring"] != 3 {
		t.Fatalf("options: %+v, %v", opts, err)
	}
	opts, err = config{multiCoupon: 1, taxCalc: "row", edition: "open-source"}.options()
	if err != nil || opts.TaxCalculation != rules.TaxRowBase || opts.Edition != demostore.EditionOpenSource {
		t.Fatalf("tax and edition options: %+v, %v", opts, err)
	}
	opts, err = config{multiCoupon: 1}.options()
	if err != nil || opts.TaxCalculation != rules.TaxTotalBase || opts.Edition != demostore.EditionCommerce || opts.LumaCSP != demostore.LumaCSPHash {
		t.Fatalf("default options: %+v, %v", opts, err)
	}
	opts, err = config{multiCoupon: 1, lumaCSP: "nonce"}.options()
	if err != nil || opts.LumaCSP != demostore.LumaCSPNonce {
		t.Fatalf("luma-csp option: %+v, %v", opts, err)
	}
	pool := filepath.Join(t.TempDir(), "pool.txt")
	if err := os.WriteFile(pool, []byte("# codes\nPOOL-AAAA1\n\n  POOL-AAAA2  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err = config{couponRules: path, multiCoupon: 1, couponPools: []string{"s=" + pool}}.options()
	if err != nil || !reflect.DeepEqual(opts.CouponPools, map[string][]string{"s": {"POOL-AAAA1", "POOL-AAAA2"}}) {
		t.Fatalf("pool options: %+v, %v", opts.CouponPools, err)
	}
	for name, cfg := range map[string]config{
		"pool of unknown rule": {multiCoupon: 1, couponRules: path, couponPools: []string{"nope=" + pool}},
		"pool not RULE=FILE":   {multiCoupon: 1, couponRules: path, couponPools: []string{pool}},
		"pool file missing":    {multiCoupon: 1, couponRules: path, couponPools: []string{"s=" + pool + ".missing"}},
		"pool code twice":      {multiCoupon: 1, couponRules: path, couponPools: []string{"s=" + pool, "s=" + pool}},
		"multi-coupon 0":       {multiCoupon: 0},
		"unknown code":         {multiCoupon: 1, couponUses: "NOPE=1"},
		"missing rule file":    {multiCoupon: 1, couponRules: path + ".missing"},
		"audience rule file":   {multiCoupon: 1, audienceRules: path + ".missing"},
		"tax calculation":      {multiCoupon: 1, taxCalc: "TOTAL_BASE_CALCULATION"},
		"edition":              {multiCoupon: 1, edition: "enterprise"},
		"open source, 2 slots": {multiCoupon: 2, edition: "open-source"},
		"luma csp":             {multiCoupon: 1, lumaCSP: "unsafe-inline"},
	} {
		if _, err := cfg.options(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
