// The coupon gate's end-to-end tests through the binary, with the shop session they share;
// one file because every test walks the same storefront session.

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var gateCodes = []string{"AUD-VIP-7Q2X", "AUD-BAGS-K9"}

// shop is a storefront session through the sidecar, recording every body it sees so a test
// can check no gate code ever reached the shopper.
type shop struct {
	t       *testing.T
	base    string
	store   string // the demo store's host:port, for its clock
	header  map[string]string
	mu      sync.Mutex
	bodies  [][]byte
	cartID  string
	fixture map[string]string // Venia operations by export name
}

func newShop(t *testing.T, base, store string, segments ...string) *shop {
	s := &shop{t: t, base: base, store: store, header: map[string]string{"Store": "default"}, fixture: map[string]string{}}
	s.join(segments...)
	for _, f := range loadFixtures(t) {
		name := f.Source[strings.LastIndex(f.Source, ".")+1:]
		if i := strings.LastIndex(f.Source, "#"); i >= 0 && !strings.Contains(f.Source[i:], ".") {
			name = f.Source[i+1:]
		}
		s.fixture[name] = apolloize(t, f.Query)
	}
	return s
}

// join sets the shopper's audience membership (nil: member of nothing).
func (s *shop) join(segments ...string) {
	s.header["aep-segments-membership"] = strings.Join(segments, "%2C")
}

func (s *shop) send(query string, vars map[string]any) response {
	s.t.Helper()
	r := graphql(s.t, s.base, query, vars, s.header)
	s.mu.Lock()
	s.bodies = append(s.bodies, r.body)
	s.mu.Unlock()
	return r
}

// op runs a Venia operation by name with the cart id and extra variables.
func (s *shop) op(name string, extra map[string]any) map[string]any {
	s.t.Helper()
	q, ok := s.fixture[name]
	if !ok {
		s.t.Fatalf("no Venia operation %s", name)
	}
	vars := map[string]any{"cartId": s.cartID}
	for k, v := range extra {
		vars[k] = v
	}
	var out map[string]any
	r := s.send(q, vars)
	if err := json.Unmarshal(r.body, &out); err != nil {
		s.t.Fatalf("%s: %s", name, r.body)
	}
	return out
}

// grandTotal reads the cart's grand total with Venia's price summary.
func (s *shop) grandTotal() float64 {
	s.t.Helper()
	out := s.op("getPriceSummaryQuery", nil)
	return dig(s.t, out, "data", "cart", "prices", "grand_total", "value").(float64)
}

// checkout sets address, shipping and payment and places the order; it returns the order's
// grand total, or the GraphQL error message.
func (s *shop) checkout() (float64, string) {
	s.t.Helper()
	for _, q := range []string{
		`mutation($c: String!) { setShippingAddressesOnCart(input: {cart_id: $c, shipping_addresses: [{address: {firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"], city: "Calder", region: "MI", region_id: 33, postcode: "49628", country_code: "US", telephone: "5555550100", save_in_address_book: false}}]}) { cart { id } } }`,
		`mutation($c: String!) { setShippingMethodsOnCart(input: {cart_id: $c, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`,
		`mutation($c: String!) { setBillingAddressOnCart(input: {cart_id: $c, billing_address: {same_as_shipping: true}}) { cart { id } } }`,
		`mutation($c: String!) { setGuestEmailOnCart(input: {cart_id: $c, email: "veronica@example.com"}) { cart { id } } }`,
		`mutation($c: String!) { setPaymentMethodOnCart(input: {cart_id: $c, payment_method: {code: "checkmo"}}) { cart { id } } }`,
	} {
		s.send(q, map[string]any{"c": s.cartID})
	}
	r := s.send(`mutation($c: String!) { placeOrder(input: {cart_id: $c}) { orderV2 { number total { grand_total { value } } applied_coupons { code } } } }`, map[string]any{"c": s.cartID})
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		s.t.Fatal(err)
	}
	if errs, ok := out["errors"].([]any); ok && len(errs) > 0 {
		return 0, errs[0].(map[string]any)["message"].(string)
	}
	return dig(s.t, out, "data", "placeOrder", "orderV2", "total", "grand_total", "value").(float64), ""
}

// noLeak fails when any body the shopper saw holds a gate code.
func (s *shop) noLeak() {
	s.t.Helper()
	for _, b := range s.bodies {
		for _, code := range gateCodes {
			if bytes.Contains(bytes.ToUpper(b), []byte(code)) {
				s.t.Fatalf("gate code %s leaked: %s", code, b)
			}
		}
	}
}

func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %q in %v", k, v)
		}
		v = m[k]
	}
	return v
}

// backendCoupons reads the coupons on the cart directly from the demo store.
func backendCoupons(t *testing.T, store, cartID string) []string {
	t.Helper()
	d := data(t, graphql(t, "http://"+store, `query($c: String!) { cart(cart_id: $c) { applied_coupons { code } } }`, map[string]any{"c": cartID}, nil))
	var codes []string
	list, _ := dig(t, d, "cart", "applied_coupons").([]any)
	for _, c := range list {
		codes = append(codes, c.(map[string]any)["code"].(string))
	}
	return codes
}

func startGate(t *testing.T, policy string) (sidecarBase, store string) {
	t.Helper()
	sc, store := launchGate(t, policy)
	return sc.base, store
}

func launchGate(t *testing.T, policy string) (sc sidecar, store string) {
	t.Helper()
	store = startStore(t, "-coupon-rules", "testdata/coupon_rules.json")
	block := "audiences {\n\t\trules testdata/gate_rules.json\n\t\ttax_rate \"US-CA-*-Rate 1\" 8.25\n"
	if policy != "" {
		block += "\t\tgate_policy " + policy + "\n"
	}
	return launchSidecar(t, store, block+"\t}"), store
}

// TestGateQualifyingShopperPaysWhatTheySaw: a VIP sees the discount from the first cart
// answer on, and the order charges the last grand total shown.
func TestGateQualifyingShopperPaysWhatTheySaw(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := launchGate(t, "")
	base := sc.base
	s := newShop(t, base, store, segVIP)
	s.cartID = newCart(t, base)
	added := s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	discount := dig(t, added, "data", "addProductsToCart", "cart", "items").([]any)[0]
	if v := dig(t, discount, "prices", "total_item_discount", "value").(float64); v != 13.8 {
		t.Fatalf("the first answer must show the gate discount (15%% of 92 = 13.80), got %v", v)
	}
	if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != "AUD-VIP-7Q2X" {
		t.Fatalf("backend coupons %q", got)
	}
	summary := s.op("getPriceSummaryQuery", nil)
	if label := dig(t, summary, "data", "cart", "prices", "discounts").([]any)[0].(map[string]any)["label"]; label != "VIP price" {
		t.Fatalf("discount label %v", label)
	}
	shown := s.grandTotal()
	charged, errMsg := s.checkout()
	if errMsg != "" {
		t.Fatalf("order refused: %s", errMsg)
	}
	// The last total shown was before shipping was chosen; the order adds 5.00 shipping.
	if charged != round2(shown+5) {
		t.Fatalf("charged %v, last shown %v (+5 shipping)", charged, shown)
	}
	s.noLeak()
	if m := adminGet(t, sc.admin, "/metrics"); !strings.Contains(m, `caddy_audiences_gate_total{action="applied"} 1`) {
		t.Fatalf("gate metric missing:\n%s", grepLines(m, "gate"))
	}
	if r := adminGet(t, sc.admin, "/audiences/rules"); !regexp.MustCompile(`"gate": \{\s*"applied": 1,`).MatchString(r) {
		t.Fatalf("gate state missing from /audiences/rules: %s", r)
	}
}

// TestGateUnlabelledMagentoRule: Magento shows a coupon code as the discount label when its
// rule has no store label; the shopper sees the sidecar rule's label instead.
func TestGateUnlabelledMagentoRule(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store := startGate(t, "")
	s := newShop(t, base, store, segBOGO)
	s.cartID = newCart(t, base, line{"24-MB01", 2})
	for _, name := range []string{"getCartDetailsQuery", "getPriceSummaryQuery", "MINI_CART_QUERY"} {
		out := s.op(name, nil)
		if errs, ok := out["errors"]; ok {
			t.Fatalf("%s: %v", name, errs)
		}
	}
	summary := s.op("getPriceSummaryQuery", nil)
	discounts := dig(t, summary, "data", "cart", "prices", "discounts").([]any)
	if label := discounts[0].(map[string]any)["label"]; label != "Bag club" {
		t.Fatalf("label %v, want the sidecar rule's label", label)
	}
	if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != "AUD-BAGS-K9" {
		t.Fatalf("backend coupons %q", got)
	}
	s.noLeak()
}

// TestGateShopperLeavesAudience: the coupon goes with the membership, and the order is at
// full price.
func TestGateShopperLeavesAudience(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store := startGate(t, "")
	s := newShop(t, base, store, segVIP)
	s.cartID = newCart(t, base)
	s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	vipTotal := s.grandTotal()
	s.join()
	full := s.grandTotal()
	if full <= vipTotal || len(backendCoupons(t, store, s.cartID)) != 0 {
		t.Fatalf("after leaving: total %v (VIP %v), backend coupons %q", full, vipTotal, backendCoupons(t, store, s.cartID))
	}
	charged, errMsg := s.checkout()
	if errMsg != "" || charged != round2(full+5) {
		t.Fatalf("charged %v (%s), want full price %v + 5", charged, errMsg, full)
	}
	s.noLeak()
}

// TestGateTypedCodeRefused: a non-member typing a gate code gets Magento's own answer and the
// code never reaches Magento.
func TestGateTypedCodeRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store := startGate(t, "")
	s := newShop(t, base, store)
	s.cartID = newCart(t, base, line{"24-MB01", 1})
	for _, code := range []string{"AUD-VIP-7Q2X", "aud-vip-7q2x", " AUD-BAGS-K9 "} {
		out := s.op("applyCouponMutation", map[string]any{"couponCode": code})
		errs, _ := out["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["message"] != "The coupon code isn't valid. Verify the code and try again." {
			t.Fatalf("typed %q: %v", code, out)
		}
	}
	if got := backendCoupons(t, store, s.cartID); len(got) != 0 {
		t.Fatalf("a typed gate code reached Magento: %q", got)
	}
	s.noLeak()
}

// TestGateShopperCoupon checks a shopper's own coupon under each policy.
func TestGateShopperCoupon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, tc := range []struct {
		policy string
		want   string
	}{{"shopper_wins", "SPRING5"}, {"audience_wins", "AUD-VIP-7Q2X"}} {
		t.Run(tc.policy, func(t *testing.T) {
			base, store := startGate(t, tc.policy)
			s := newShop(t, base, store)
			s.cartID = newCart(t, base, line{"24-WG02", 1})
			s.op("applyCouponMutation", map[string]any{"couponCode": "SPRING5"})
			s.join(segVIP)
			s.grandTotal()
			if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("coupons %q, want %s", got, tc.want)
			}
			s.noLeak()
		})
	}
}

// TestGateMemberTypesOwnCoupon: a VIP holding the gate coupon types their own coupon; with
// shopper_wins it replaces the gate coupon, with audience_wins Magento's "already applied"
// answer stands.
func TestGateMemberTypesOwnCoupon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, tc := range []struct {
		policy string
		want   string
		errMsg string
	}{{"shopper_wins", "SPRING5", ""}, {"audience_wins", "AUD-VIP-7Q2X", "A coupon is already applied to the cart. Please remove it to apply another"}} {
		t.Run(tc.policy, func(t *testing.T) {
			base, store := startGate(t, tc.policy)
			s := newShop(t, base, store, segVIP)
			s.cartID = newCart(t, base, line{"24-WG02", 1})
			s.grandTotal()
			out := s.op("applyCouponMutation", map[string]any{"couponCode": "spring5"})
			msg := ""
			if errs, ok := out["errors"].([]any); ok && len(errs) > 0 {
				msg = errs[0].(map[string]any)["message"].(string)
			}
			if msg != tc.errMsg {
				t.Fatalf("apply: error %q, want %q", msg, tc.errMsg)
			}
			s.grandTotal()
			if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("coupons %q, want %s", got, tc.want)
			}
			s.noLeak()
		})
	}
}

// TestGateConcurrentMutations: many mutations at once on one VIP cart leave exactly one gate
// coupon and a consistent cart.
func TestGateConcurrentMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store := startGate(t, "")
	s := newShop(t, base, store, segVIP, segBOGO)
	s.cartID = newCart(t, base)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sku := []string{"24-MB01", "24-UG06", "24-WG02"}[i%3]
			s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": sku, "quantity": 1}})
		}()
	}
	wg.Wait()
	if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != "AUD-VIP-7Q2X" {
		t.Fatalf("after concurrent mutations the backend holds %q", got)
	}
	shown := s.grandTotal()
	charged, errMsg := s.checkout()
	if errMsg != "" || charged != round2(shown+5*12) {
		t.Fatalf("charged %v (%s), shown %v + shipping", charged, errMsg, shown)
	}
	s.noLeak()
}

// TestGateMagentoRefuses: when Magento stops honouring the gate coupon (its rule expired), the
// shopper is never charged a price silently different from the one shown: the order is
// refused with a clear error.
func TestGateMagentoRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store := startGate(t, "")
	s := newShop(t, base, store, segVIP)
	s.cartID = newCart(t, base)
	s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	setClock(t, store, "2031-01-02T12:00:00Z")
	_, errMsg := s.checkout()
	if errMsg == "" {
		t.Fatal("an order at a price the shopper did not see was placed")
	}
	// A fresh cart: Magento refuses to apply the coupon at all.
	s.cartID = newCart(t, base)
	s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	if _, errMsg := s.checkout(); !strings.Contains(errMsg, "could not be confirmed") {
		t.Fatalf("want the sidecar's refusal, got %q", errMsg)
	}
	s.noLeak()
}

func setClock(t *testing.T, store, at string) {
	t.Helper()
	resp, err := http.Post("http://"+store+"/demo/clock?at="+at, "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("set clock: %v %v", resp, err)
	}
	resp.Body.Close()
}

func round2(f float64) float64 {
	var r float64
	fmt.Sscanf(fmt.Sprintf("%.2f", f), "%g", &r)
	return r
}

// segPool is the audience of the pool-gated rule in testdata/gate_pool_rules.json.
const segPool = "5d0b7c1e-2a4f-4b8e-9c3d-6e1f0a2b3c4d"

// poolCodes reads testdata/pool_codes.txt.
func poolCodes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("testdata/pool_codes.txt")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			codes = append(codes, l)
		}
	}
	return codes
}

// noLeakOf fails when any body the shopper saw holds one of codes.
func (s *shop) noLeakOf(codes []string) {
	s.t.Helper()
	for _, b := range s.bodies {
		for _, code := range codes {
			if bytes.Contains(bytes.ToUpper(b), []byte(strings.ToUpper(code))) {
				s.t.Fatalf("pool code %s leaked: %s", code, b)
			}
		}
	}
}

// TestGatePoolOneCodePerCart: a rule enforced by a pool of single-use codes gives every
// qualifying cart a code of its own; a code used up elsewhere is replaced by the next one;
// every order charges what its shopper saw, and no pool code reaches a shopper.
func TestGatePoolOneCodePerCart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	codes := poolCodes(t)
	store := startStore(t, "-coupon-rules", "testdata/coupon_pool_rules.json", "-coupon-pool", "magento-pool=testdata/pool_codes.txt")
	sc := launchSidecar(t, store, "audiences {\n\t\trules testdata/gate_pool_rules.json\n\t\ttax_rate \"US-CA-*-Rate 1\" 8.25\n\t}")

	// Someone orders with the pool's first code straight at the store: it is used up.
	direct := newShop(t, "http://"+store, store)
	direct.cartID = newCart(t, "http://"+store, line{"24-WG02", 1})
	direct.op("applyCouponMutation", map[string]any{"couponCode": codes[0]})
	if _, msg := direct.checkout(); msg != "" {
		t.Fatalf("direct order: %s", msg)
	}

	held := map[string]string{} // cart → its pool code in Magento
	var shops []*shop
	for i := range 2 {
		s := newShop(t, sc.base, store, segPool)
		s.cartID = newCart(t, sc.base)
		added := s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
		item := dig(t, added, "data", "addProductsToCart", "cart", "items").([]any)[0]
		if v := dig(t, item, "prices", "total_item_discount", "value").(float64); v != 18.4 {
			t.Fatalf("shopper %d: the first answer must show the pool discount (20%% of 92 = 18.40), got %v", i, v)
		}
		got := backendCoupons(t, store, s.cartID)
		if len(got) != 1 || !slices.Contains(codes, got[0]) || got[0] == codes[0] {
			t.Fatalf("shopper %d: backend coupons %q, want one fresh pool code", i, got)
		}
		for cart, code := range held {
			if code == got[0] {
				t.Fatalf("carts %s and %s share the pool code", cart, s.cartID)
			}
		}
		held[s.cartID] = got[0]
		summary := s.op("getPriceSummaryQuery", nil)
		if label := dig(t, summary, "data", "cart", "prices", "discounts").([]any)[0].(map[string]any)["label"]; label != "Members' price" {
			t.Fatalf("discount label %v", label)
		}
		shops = append(shops, s)
	}
	for i, s := range shops {
		shown := s.grandTotal()
		charged, msg := s.checkout()
		if msg != "" {
			t.Fatalf("shopper %d: order refused: %s", i, msg)
		}
		if charged != round2(shown+5) {
			t.Fatalf("shopper %d: charged %v, last shown %v (+5 shipping)", i, charged, shown)
		}
	}

	// A third cart gets a code nobody has used.
	third := newShop(t, sc.base, store, segPool)
	third.cartID = newCart(t, sc.base)
	third.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	got := backendCoupons(t, store, third.cartID)
	if len(got) != 1 || !slices.Contains(codes, got[0]) || got[0] == codes[0] || slices.Contains(slices.Collect(maps.Values(held)), got[0]) {
		t.Fatalf("third cart: backend coupons %q, used %q and %q", got, codes[0], held)
	}
	shown := third.grandTotal()
	if charged, msg := third.checkout(); msg != "" || charged != round2(shown+5) {
		t.Fatalf("third order: charged %v (%s), last shown %v (+5 shipping)", charged, msg, shown)
	}

	// A shopper typing a pool code gets Magento's invalid-code answer; the code never
	// reached the shopper in any body.
	typer := newShop(t, sc.base, store)
	typer.cartID = newCart(t, sc.base, line{"24-WG02", 1})
	out := typer.op("applyCouponMutation", map[string]any{"couponCode": strings.ToLower(codes[5])})
	if msg := firstErrorOf(out); msg != "The coupon code isn't valid. Verify the code and try again." {
		t.Fatalf("typed pool code: %v", out)
	}
	for _, s := range append(shops, third, typer) {
		s.noLeakOf(codes)
		s.noLeak()
	}
}

// firstErrorOf returns the first GraphQL error message of a response, or "".
func firstErrorOf(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	msg, _ := errs[0].(map[string]any)["message"].(string)
	return msg
}

// TestGatePoolCodeUsedElsewhere: a cart's pool code used up by another order (as after a
// restart, when the sidecar no longer knows it handed the code out) makes Magento refuse the
// order; the cart's next read brings a fresh code and the order goes through at the price shown.
func TestGatePoolCodeUsedElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	codes := poolCodes(t)
	store := startStore(t, "-coupon-rules", "testdata/coupon_pool_rules.json", "-coupon-pool", "magento-pool=testdata/pool_codes.txt")
	sc := launchSidecar(t, store, "audiences {\n\t\trules testdata/gate_pool_rules.json\n\t}")

	other := newShop(t, "http://"+store, store)
	other.cartID = newCart(t, "http://"+store, line{"24-WG02", 1})
	other.op("applyCouponMutation", map[string]any{"couponCode": codes[0]})

	s := newShop(t, sc.base, store, segPool)
	s.cartID = newCart(t, sc.base)
	s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] != codes[0] {
		t.Fatalf("backend coupons %q", got)
	}
	if _, msg := other.checkout(); msg != "" {
		t.Fatalf("other order: %s", msg)
	}
	if _, msg := s.checkout(); msg != "The coupon code isn't valid. Verify the code and try again." {
		t.Fatalf("order with a used-up code: %q", msg)
	}
	shown := s.grandTotal()
	if got := backendCoupons(t, store, s.cartID); len(got) != 1 || got[0] == codes[0] || !slices.Contains(codes, got[0]) {
		t.Fatalf("after the refused order: backend coupons %q", got)
	}
	charged, msg := s.checkout()
	if msg != "" || charged != shown {
		t.Fatalf("charged %v (%s), last shown %v", charged, msg, shown)
	}
	s.noLeakOf(codes)
}
