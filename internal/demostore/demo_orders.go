package demostore

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/govalues/decimal"
)

// ordersPath is the demo store's test view of placed orders; Magento has no such endpoint.
//
//	GET /demo/orders → {"orders": [{"id", "number", "cart_id", "created_at", "customer_id", "email",
//	                    "coupon_codes", "subtotal", "discount", "shipping", "shipping_discount",
//	                    "tax", "grand_total", "discounts": [{"label", "amount", "applied_to",
//	                    "coupon"}], "items": [{"sku", "qty", "price", "row_total", "discount"}]}]}
//
// Orders are listed oldest first, whichever surface placed them (GraphQL placeOrder, Luma's
// REST payment-information or order). Amounts are JSON numbers with exact decimals;
// discount is positive and includes the shipping discount. An end-to-end test reads what an
// order charged here.
const ordersPath = "/demo/orders"

// orderView is one order of /demo/orders.
type orderView struct {
	ID               int                `json:"id"`
	Number           string             `json:"number"`
	CartID           string             `json:"cart_id"` // the masked id of the ordered cart
	CreatedAt        string             `json:"created_at"`
	CustomerID       int                `json:"customer_id"`
	Email            string             `json:"email"`
	CouponCodes      []string           `json:"coupon_codes"`
	Subtotal         json.Number        `json:"subtotal"`
	Discount         json.Number        `json:"discount"`
	Shipping         json.Number        `json:"shipping"`
	ShippingDiscount json.Number        `json:"shipping_discount"`
	Tax              json.Number        `json:"tax"`
	GrandTotal       json.Number        `json:"grand_total"`
	Discounts        []orderDiscount    `json:"discounts"`
	Items            []orderItemSummary `json:"items"`
}

type orderDiscount struct {
	Label     string      `json:"label"`
	Amount    json.Number `json:"amount"`
	AppliedTo string      `json:"applied_to"`
	Coupon    string      `json:"coupon,omitempty"`
}

type orderItemSummary struct {
	SKU      string      `json:"sku"`
	Qty      json.Number `json:"qty"`
	Price    json.Number `json:"price"`
	RowTotal json.Number `json:"row_total"`
	Discount json.Number `json:"discount"`
}

// jsonAmount is an exact decimal as a JSON number.
func jsonAmount(d decimal.Decimal) json.Number { return json.Number(string(num(d))) }

func (s *Store) serveOrders(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		refuseMethod(w, "GET")
		return
	}
	s.mu.Lock()
	orders := append([]*order(nil), s.orders...)
	s.mu.Unlock()
	views := make([]orderView, 0, len(orders))
	for _, o := range orders {
		views = append(views, viewOrder(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": views})
}

// viewOrder summarizes what an order charged.
func viewOrder(o *order) orderView {
	t := o.totals
	v := orderView{
		ID: o.id, Number: o.number, CartID: o.cart.maskedID, CreatedAt: o.createdAt.Format(time.RFC3339), CustomerID: o.customerID,
		Email: o.email, CouponCodes: append([]string{}, o.cart.coupons...),
		Subtotal: jsonAmount(t.subtotal), Discount: jsonAmount(t.discount), Shipping: jsonAmount(t.shipping),
		ShippingDiscount: jsonAmount(t.shippingDiscount), Tax: jsonAmount(t.tax), GrandTotal: jsonAmount(t.grandTotal),
		Discounts: []orderDiscount{}, Items: []orderItemSummary{},
	}
	for _, d := range t.discounts {
		v.Discounts = append(v.Discounts, orderDiscount{Label: d.label, Amount: jsonAmount(d.amount), AppliedTo: d.appliedTo, Coupon: d.coupon})
	}
	for i, it := range o.cart.items {
		l := t.lines[i]
		v.Items = append(v.Items, orderItemSummary{SKU: it.priced().sku, Qty: jsonAmount(it.qty), Price: jsonAmount(l.price),
			RowTotal: jsonAmount(l.rowTotal), Discount: jsonAmount(l.discount)})
	}
	return v
}
