package demostore

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestInspectCoupons: /demo/coupons names every cart a code was applied to and how many
// orders used it; /demo/orders names each order's cart.
func TestInspectCoupons(t *testing.T) {
	c := couponClient(t, Options{CouponPools: map[string][]string{"spring": {"SPRPOOL-A1", "SPRPOOL-B2"}}})
	first, second := c.cartWith("24-MB01", 1), c.cartWith("24-MB01", 1)
	c.applyCoupon(first, "sprpool-a1").must(t)
	c.applyCoupon(second, "SPRPOOL-A1").must(t)
	c.removeCoupon(second).must(t)
	c.applyCoupon(second, "SPRPOOL-B2").must(t)
	c.readyToOrder(first)
	c.placeOrder(first).must(t)

	var orders struct {
		Orders []orderView `json:"orders"`
	}
	inspect(t, c, "/demo/orders", &orders)
	if len(orders.Orders) != 1 || orders.Orders[0].CartID != first || !slices.Equal(orders.Orders[0].CouponCodes, []string{"SPRPOOL-A1"}) {
		t.Fatalf("orders %+v", orders)
	}
	var coupons struct {
		Coupons map[string]couponRecord `json:"coupons"`
	}
	inspect(t, c, "/demo/coupons", &coupons)
	a1, b2 := coupons.Coupons["SPRPOOL-A1"], coupons.Coupons["SPRPOOL-B2"]
	if !slices.Equal(a1.Carts, []string{first, second}) || a1.Orders != 1 || !slices.Equal(b2.Carts, []string{second}) || b2.Orders != 0 {
		t.Fatalf("coupons %+v", coupons)
	}
	rec := httptest.NewRecorder()
	c.store.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/demo/coupons", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /demo/coupons: %d", rec.Code)
	}
}

func inspect(t *testing.T, c *client, path string, into any) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.store.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.Bytes())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
