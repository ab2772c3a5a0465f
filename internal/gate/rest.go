package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// RESTDoer sends one request to Magento's REST API with the shopper's credentials (the
// session cookie of a Luma shopper) and returns the answer's status and body.
type RESTDoer interface {
	DoREST(method, path string) (status int, answer []byte, err error)
}

// REST is the gate's Upstream over the REST routes Luma's own checkout uses: guest carts by
// their masked id (/V1/guest-carts/{id}), a signed-in customer's cart through the session
// (/V1/carts/mine, whatever cart id the Session is keyed by). It reads a cart with GET items
// and GET totals, applies with PUT coupons/{code} and removes with DELETE coupons; Magento's
// REST coupon routes replace the coupon in place, one coupon per cart.
type REST struct {
	Doer  RESTDoer
	Store string // the store view code of the REST path; "" for the default
	Mine  bool   // the session customer's cart
}

// base is the REST path of a cart.
func (g REST) base(cartID string) string {
	p := "/rest/"
	if g.Store != "" {
		p += url.PathEscape(g.Store) + "/"
	}
	if g.Mine {
		return p + "V1/carts/mine"
	}
	return p + "V1/guest-carts/" + url.PathEscape(cartID)
}

// restItem is an item of GET …/items.
type restItem struct {
	ItemID      json.Number     `json:"item_id"`
	SKU         string          `json:"sku"`
	Qty         decimal.Decimal `json:"qty"`
	Price       decimal.Decimal `json:"price"`
	ProductType string          `json:"product_type"`
}

// restTotals is what the gate reads of GET …/totals.
type restTotals struct {
	ShippingAmount decimal.Decimal `json:"shipping_amount"`
	Currency       string          `json:"quote_currency_code"`
	CouponCode     *string         `json:"coupon_code"`
	Items          []struct {
		ItemID         json.Number     `json:"item_id"`
		RowTotal       decimal.Decimal `json:"row_total"`
		DiscountAmount decimal.Decimal `json:"discount_amount"`
	} `json:"items"`
}

// ReadCart implements Upstream.
func (g REST) ReadCart(cartID string) (*rules.Cart, error) {
	var items []restItem
	if err := g.get(g.base(cartID)+"/items", &items); err != nil {
		return nil, fmt.Errorf("read cart items: %w", err)
	}
	var totals restTotals
	if err := g.get(g.base(cartID)+"/totals", &totals); err != nil {
		return nil, fmt.Errorf("read cart totals: %w", err)
	}
	rows := map[string]int{}
	for i, t := range totals.Items {
		rows[t.ItemID.String()] = i
	}
	store := g.Store
	if store == "" {
		store = "default"
	}
	cart := &rules.Cart{Currency: totals.Currency, Store: store, ShippingAmount: totals.ShippingAmount}
	if totals.CouponCode != nil && *totals.CouponCode != "" {
		cart.Coupons = []string{*totals.CouponCode}
	}
	for _, it := range items {
		item := rules.Item{SKU: it.SKU, Qty: it.Qty, Price: it.Price, ProductType: it.ProductType}
		if i, ok := rows[it.ItemID.String()]; ok {
			item.RowTotal, item.Discount = totals.Items[i].RowTotal, totals.Items[i].DiscountAmount
		}
		cart.Items = append(cart.Items, item)
	}
	return cart, nil
}

// Apply implements Upstream.
func (g REST) Apply(cartID, code string) error {
	return g.call(http.MethodPut, g.base(cartID)+"/coupons/"+url.PathEscape(code))
}

// Remove implements Upstream: DELETE coupons takes off the cart's one coupon.
func (g REST) Remove(cartID string, _ []string) error {
	return g.call(http.MethodDelete, g.base(cartID)+"/coupons")
}

func (g REST) get(path string, into any) error {
	status, body, err := g.Doer.DoREST(http.MethodGet, path)
	if err != nil {
		return err
	}
	if err := restError(status, body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("upstream answer: %w", err)
	}
	return nil
}

func (g REST) call(method, path string) error {
	status, body, err := g.Doer.DoREST(method, path)
	if err != nil {
		return err
	}
	return restError(status, body)
}

// restError turns a REST error answer ({"message": …}) into a *MagentoError.
func restError(status int, body []byte) error {
	if status >= 200 && status <= 299 {
		return nil
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return &MagentoError{Message: e.Message}
	}
	return errors.New("upstream answered HTTP " + fmt.Sprint(status))
}
