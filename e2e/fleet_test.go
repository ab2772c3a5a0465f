// A fleet: three sidecars sharing one file_system storage behind a fourth Caddy balancing
// between them, in front of the demo store with a pool of single-use codes.

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

// fleetLockTimeout is above the file_system storage's 10 s stale-lock age, so a cart lock
// left by the killed instance is broken by the next instance instead of refusing its cart.
const fleetLockTimeout = "15s"

// fleet is a running fleet: the balancer's base URL, the sidecars and what they share.
type fleet struct {
	base     string
	sidecars []*fleetSidecar
	store    string // the demo store's host:port
	storage  string // the shared storage directory
	codes    []string
}

// fleetSidecar is one instance of the fleet.
type fleetSidecar struct {
	base string
	cmd  *exec.Cmd
}

// startFleet runs the demo store with a pool of n single-use codes, three sidecars with
// shared_state and trust signed on one storage directory, and a Caddy load balancer in front
// of them (round robin, retrying on another instance for lb_try_duration).
func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	dir := t.TempDir()
	var codes []string
	for i := range n {
		codes = append(codes, fmt.Sprintf("AUDFLEET-%04d", i))
	}
	pool := filepath.Join(dir, "pool.txt")
	rulesFile := filepath.Join(dir, "rules.json")
	writeFile(t, pool, "# Magento rule magento-pool, uses per coupon 1\n"+strings.Join(codes, "\n")+"\n")
	writeFile(t, rulesFile, fmt.Sprintf(`{"rules": [{"id": "pool-gate", "label": "Members' price",
		"audiences": {"any": [%q]}, "enforce": {"coupons_file": %q}}]}`, segPool, pool))
	f := &fleet{store: startStore(t, "-coupon-rules", "testdata/coupon_pool_rules.json", "-coupon-pool", "magento-pool="+pool),
		storage: filepath.Join(dir, "storage"), codes: codes}
	var upstreams []string
	for i := range 3 {
		addr := freeAddr(t)
		sc := &fleetSidecar{base: "http://" + addr}
		sc.cmd = startCaddy(t, filepath.Join(dir, fmt.Sprintf("sidecar%d", i)), fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	storage file_system %s
}

http://%s {
	audiences {
		name shop
		rules %s
		shared_state
		lock_timeout %s
		trust signed
		org_id %s
		membership_keys %s
	}
	reverse_proxy %s
}
`, freeAddr(t), f.storage, addr, rulesFile, fleetLockTimeout, trustOrg, membershipKey, f.store))
		waitReady(t, sc.base+"/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D")
		f.sidecars = append(f.sidecars, sc)
		upstreams = append(upstreams, addr)
	}
	addr := freeAddr(t)
	startCaddy(t, filepath.Join(dir, "balancer"), fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
}

http://%s {
	reverse_proxy %s {
		lb_policy round_robin
		lb_try_duration 10s
		lb_try_interval 100ms
		fail_duration 30s
	}
}
`, freeAddr(t), addr, strings.Join(upstreams, " ")))
	f.base = "http://" + addr
	waitReady(t, f.base+"/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D")
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startCaddy runs bin/caddy with a Caddyfile in dir and returns the process, killed when the
// test ends; its output is shown when the test fails.
func startCaddy(t *testing.T, dir, caddyfile string) *exec.Cmd {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Caddyfile")
	writeFile(t, path, caddyfile)
	var out syncBuffer
	cmd := exec.Command(caddyBin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("output of caddy in %s:\n%s", filepath.Base(dir), lastLines(out.String(), 40))
		}
	})
	return cmd
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a process's two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fleetShopper is one shopper of the fleet, signed into the pool audience with an ECID of
// its own; it talks to one base URL and tells transport failures (a 502 from the balancer,
// a reset connection) from answers.
type fleetShopper struct {
	base   string
	cookie string
	cartID string
	client *http.Client
}

func newFleetShopper(t *testing.T, base string, ecid string) *fleetShopper {
	t.Helper()
	keys, err := signed.ParseKeys(membershipKey)
	if err != nil {
		t.Fatal(err)
	}
	value, err := keys.Encode(signed.Membership{Segments: []string{segPool}, ECID: ecid, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return &fleetShopper{base: base, cookie: identityKey + "=" + identityCookie(ecid) + "; aud_m=" + value,
		client: &http.Client{Timeout: 60 * time.Second}}
}

// errTransport is a request that did not get an answer from an instance.
var errTransport = errors.New("no answer from the fleet")

// call sends one operation (queries as GET, mutations as POST, as Venia does) and returns
// its decoded answer; errTransport when the balancer or the connection failed.
func (s *fleetShopper) call(query string, vars map[string]any) (map[string]any, error) {
	rawVars, _ := json.Marshal(vars)
	var req *http.Request
	var err error
	if strings.HasPrefix(strings.TrimSpace(query), "mutation") {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(rawVars)})
		req, err = http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequest(http.MethodGet, s.base+"/graphql?"+url.Values{"query": {query}, "variables": {string(rawVars)}}.Encode(), nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cookie", s.cookie)
	req.Header.Set("Store", "default")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTransport, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTransport, err)
	}
	if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable {
		return nil, fmt.Errorf("%w: HTTP %d", errTransport, resp.StatusCode)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	if errs, ok := out["errors"].([]any); ok && len(errs) > 0 {
		msg, _ := errs[0].(map[string]any)["message"].(string)
		return out, errors.New(msg)
	}
	return out, nil
}

// retry runs an idempotent operation until it gets an answer: a shopper whose request hit
// the instance that died presses the button again.
func (s *fleetShopper) retry(query string, vars map[string]any) (map[string]any, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.call(query, vars)
		if !errors.Is(err, errTransport) || attempt == 5 {
			return out, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const (
	fleetCartQuery = `query($c: String!) { cart(cart_id: $c) { total_quantity prices { grand_total { value } discounts { label amount { value } } } } }`
	fleetAdd       = `mutation($c: String!) { addProductsToCart(cartId: $c, cartItems: [{sku: "24-WG02", quantity: 1}]) { cart { items { prices { total_item_discount { value } } } } } }`
	fleetPlace     = `mutation($c: String!) { placeOrder(input: {cart_id: $c}) { orderV2 { number total { grand_total { value } } } } }`
)

// cart reads the shopper's cart: item count, grand total and discount labels.
func (s *fleetShopper) cart() (qty, total float64, labels []string, err error) {
	out, err := s.retry(fleetCartQuery, map[string]any{"c": s.cartID})
	if err != nil {
		return 0, 0, nil, err
	}
	cart, _ := digAny(out, "data", "cart").(map[string]any)
	if cart == nil {
		return 0, 0, nil, fmt.Errorf("no cart in %v", out)
	}
	qty, _ = cart["total_quantity"].(float64)
	total, _ = digAny(cart, "prices", "grand_total", "value").(float64)
	list, _ := digAny(cart, "prices", "discounts").([]any)
	for _, d := range list {
		label, _ := d.(map[string]any)["label"].(string)
		labels = append(labels, label)
	}
	return qty, total, labels, nil
}

func digAny(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// shop fills a cart with one 92.00 bag and returns the grand total shown, which must carry
// the members' discount (20% off: 18.40).
func (s *fleetShopper) shop() (float64, error) {
	out, err := s.retry(`mutation { createEmptyCart }`, nil)
	if err != nil {
		return 0, err
	}
	s.cartID, _ = digAny(out, "data", "createEmptyCart").(string)
	if s.cartID == "" {
		return 0, fmt.Errorf("no cart id: %v", out)
	}
	out, err = s.call(fleetAdd, map[string]any{"c": s.cartID})
	if errors.Is(err, errTransport) {
		// The request may or may not have reached Magento: look before adding again.
		out = nil
		qty, _, _, readErr := s.cart()
		if err = readErr; err == nil && qty == 0 {
			out, err = s.retry(fleetAdd, map[string]any{"c": s.cartID})
		}
	}
	if err != nil {
		return 0, fmt.Errorf("add to cart: %w", err)
	}
	if out != nil {
		items, _ := digAny(out, "data", "addProductsToCart", "cart", "items").([]any)
		if len(items) != 1 || digAny(items[0], "prices", "total_item_discount", "value") != 18.4 {
			return 0, fmt.Errorf("the first answer must show the members' discount (18.40): %v", out)
		}
	}
	qty, total, labels, err := s.cart()
	if err != nil || qty != 1 || len(labels) != 1 || labels[0] != "Members' price" {
		return 0, fmt.Errorf("cart: qty %v, discounts %q, %v", qty, labels, err)
	}
	return total, nil
}

// checkout sets address, shipping and payment and places the order; it returns the order's
// grand total. A placeOrder that got no answer is looked up at the store before it is sent
// again, and after: the store may commit the unanswered one only after the lookup, and then
// refuses the one sent again (the cart is ordered).
func (s *fleetShopper) checkout(t *testing.T, store string) (float64, error) {
	for _, q := range []string{
		`mutation($c: String!) { setShippingAddressesOnCart(input: {cart_id: $c, shipping_addresses: [{address: {firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"], city: "Calder", region: "MI", region_id: 33, postcode: "49628", country_code: "US", telephone: "5555550100", save_in_address_book: false}}]}) { cart { id } } }`,
		`mutation($c: String!) { setShippingMethodsOnCart(input: {cart_id: $c, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`,
		`mutation($c: String!) { setBillingAddressOnCart(input: {cart_id: $c, billing_address: {same_as_shipping: true}}) { cart { id } } }`,
		`mutation($c: String!) { setGuestEmailOnCart(input: {cart_id: $c, email: "veronica@example.com"}) { cart { id } } }`,
		`mutation($c: String!) { setPaymentMethodOnCart(input: {cart_id: $c, payment_method: {code: "checkmo"}}) { cart { id } } }`,
	} {
		if _, err := s.retry(q, map[string]any{"c": s.cartID}); err != nil {
			return 0, fmt.Errorf("checkout step: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		out, err := s.call(fleetPlace, map[string]any{"c": s.cartID})
		if err == nil {
			total, _ := digAny(out, "data", "placeOrder", "orderV2", "total", "grand_total", "value").(float64)
			return total, nil
		}
		if attempt > 0 {
			if o, ok := storeOrders(t, store)[s.cartID]; ok {
				return o.GrandTotal, nil // an unanswered attempt was placed meanwhile
			}
		}
		if !errors.Is(err, errTransport) || attempt == 5 {
			return 0, fmt.Errorf("place order: %w", err)
		}
		if o, ok := storeOrders(t, store)[s.cartID]; ok {
			return o.GrandTotal, nil // placed before the instance died
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// storeOrder is what the fleet test reads of an order of the demo store's GET /demo/orders.
type storeOrder struct {
	Number     string   `json:"number"`
	CartID     string   `json:"cart_id"`
	GrandTotal float64  `json:"grand_total"`
	Coupons    []string `json:"coupon_codes"`
}

// storeOrders reads the demo store's orders by cart; a cart ordered twice fails the test.
func storeOrders(t *testing.T, store string) map[string]storeOrder {
	t.Helper()
	var out struct {
		Orders []storeOrder `json:"orders"`
	}
	getJSON(t, "http://"+store+"/demo/orders", &out)
	byCart := map[string]storeOrder{}
	for _, o := range out.Orders {
		if _, dup := byCart[o.CartID]; dup {
			t.Errorf("cart %s was ordered twice", o.CartID)
		}
		byCart[o.CartID] = o
	}
	return byCart
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// fleetECID is the ECID of shopper i.
func fleetECID(i int) string { return fmt.Sprintf("%038d", 1000+i) }

// TestFleetSharedState: 30 qualifying shoppers check out at once through a balancer over
// three sidecars sharing one storage, and one sidecar is killed in the middle. Every order
// goes through at the price its shopper was shown; no pool code is applied to two carts or
// charged twice, and every charged code is claimed, in the storage, by its own cart. Before
// the run, a cart pinned to one ECID through one instance is refused to another ECID through
// the others.
func TestFleetSharedState(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const shoppers = 30
	f := startFleet(t, 100)

	t.Run("pins", func(t *testing.T) {
		owner := newFleetShopper(t, f.sidecars[0].base, fleetECID(-1))
		if _, err := owner.shop(); err != nil {
			t.Fatal(err)
		}
		held := backendCoupons(t, f.store, owner.cartID)
		for _, sc := range f.sidecars[1:] {
			intruder := newFleetShopper(t, sc.base, fleetECID(-2))
			intruder.cartID = owner.cartID
			if _, _, labels, err := intruder.cart(); err != nil || len(labels) != 0 {
				t.Fatalf("another ECID through %s: discounts %q, %v", sc.base, labels, err)
			}
		}
		owner.base = f.sidecars[2].base
		if _, _, labels, err := owner.cart(); err != nil || len(labels) != 1 {
			t.Fatalf("the owner through another instance: discounts %q, %v", labels, err)
		}
		if again := backendCoupons(t, f.store, owner.cartID); len(held) != 1 || len(again) != 1 || again[0] != held[0] {
			t.Fatalf("the owner's cart held %q, now %q: its pool code must stay its own", held, again)
		}
	})

	var ordered atomic.Int32
	killed := make(chan int32, 1)
	go func() {
		for ordered.Load() < shoppers/6 {
			time.Sleep(5 * time.Millisecond)
		}
		_ = f.sidecars[1].cmd.Process.Kill()
		killed <- ordered.Load()
	}()
	type outcome struct {
		cartID          string
		shown, charged  float64
		shopErr, payErr error
	}
	results := make([]outcome, shoppers)
	var wg sync.WaitGroup
	for i := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newFleetShopper(t, f.base, fleetECID(i))
			shown, err := s.shop()
			results[i] = outcome{cartID: s.cartID, shown: shown, shopErr: err}
			if err != nil {
				return
			}
			results[i].charged, results[i].payErr = s.checkout(t, f.store)
			ordered.Add(1)
		}()
	}
	wg.Wait()
	select {
	case n := <-killed:
		if n == shoppers {
			t.Fatal("the sidecar was killed after every order: not in the middle of the run")
		}
		t.Logf("sidecar killed with %d of %d orders placed", n, shoppers)
	default:
		t.Fatal("the sidecar was never killed")
	}

	t.Cleanup(func() {
		if t.Failed() {
			logLocks(t, f.storage)
		}
	})
	orders := storeOrders(t, f.store)
	claims := readClaims(t, f.storage)
	used := map[string]string{} // code → cart
	for i, r := range results {
		if r.shopErr != nil || r.payErr != nil {
			t.Errorf("shopper %d (cart %s): shop %v, order %v", i, r.cartID, r.shopErr, r.payErr)
			continue
		}
		if r.charged != round2(r.shown+5) {
			t.Errorf("shopper %d: charged %v, shown %v (+5 shipping)", i, r.charged, r.shown)
		}
		o, ok := orders[r.cartID]
		if !ok || len(o.Coupons) != 1 {
			t.Errorf("shopper %d: the store's order %+v", i, o)
			continue
		}
		code := strings.ToUpper(o.Coupons[0])
		if other, dup := used[code]; dup {
			t.Errorf("%s charged to carts %s and %s", code, other, r.cartID)
		}
		used[code] = r.cartID
		if claims[code] != hashHex(r.cartID) {
			t.Errorf("%s was charged to cart %s but claimed for %q", code, r.cartID, claims[code])
		}
	}
	if len(orders) != shoppers { // one each; the pin check's owner never ordered
		t.Errorf("the store has %d orders for %d shoppers", len(orders), shoppers)
	}
	var coupons struct {
		Coupons map[string]struct {
			Carts  []string `json:"carts"`
			Orders int      `json:"orders"`
		} `json:"coupons"`
	}
	getJSON(t, "http://"+f.store+"/demo/coupons", &coupons)
	for code, c := range coupons.Coupons {
		if len(c.Carts) > 1 || c.Orders > 1 {
			t.Errorf("%s was applied to carts %q and used by %d orders", code, c.Carts, c.Orders)
		}
	}
	t.Logf("%d orders, %d codes applied to carts, %d claimed in the storage (of %d)", len(used), len(coupons.Coupons), len(claims), len(f.codes))
}

// readClaims reads the pool claims of handler "shop" from the file_system storage: code →
// the SHA-256 of the cart that claimed it.
func readClaims(t *testing.T, storage string) map[string]string {
	t.Helper()
	dir := filepath.Join(storage, "audiences", "shop", "claims")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("claims: %v", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(raw)
	}
	return out
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// logLocks shows the storage's lock files, for a failed run.
func logLocks(t *testing.T, storage string) {
	entries, _ := os.ReadDir(filepath.Join(storage, "locks"))
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(storage, "locks", e.Name()))
		t.Logf("lock %s: %s", e.Name(), raw)
	}
}
