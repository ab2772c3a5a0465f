package demostore

import (
	"net/http"
	"strings"
)

// couponsPath is the demo store's test view of coupon codes; Magento has no such endpoint.
//
//	GET /demo/coupons → {"coupons": {"<CODE>": {"carts": [cart ids], "orders": n}}}
//
// Every code ever applied to a cart or charged by an order, upper case, with the carts it was
// applied to (masked ids, in order) and the orders that used it, so an end-to-end test can
// check that no single-use code served two carts or two orders.
const couponsPath = "/demo/coupons"

// couponRecord is one code of GET /demo/coupons.
type couponRecord struct {
	Carts  []string `json:"carts"`
	Orders int      `json:"orders"`
}

func (s *Store) serveCoupons(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		refuseMethod(w, "GET")
		return
	}
	coupons := map[string]*couponRecord{}
	record := func(code string) *couponRecord {
		key := strings.ToUpper(code)
		if coupons[key] == nil {
			coupons[key] = &couponRecord{Carts: []string{}}
		}
		return coupons[key]
	}
	s.coupons.appliedMu.Lock()
	for code, carts := range s.coupons.applied {
		rec := record(code)
		rec.Carts = append(rec.Carts, carts...)
	}
	s.coupons.appliedMu.Unlock()
	s.mu.Lock()
	for _, o := range s.orders {
		for _, code := range o.cart.coupons {
			record(code).Orders++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"coupons": coupons})
}
