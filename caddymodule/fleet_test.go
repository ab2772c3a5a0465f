package caddymodule

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

const (
	fleetSeg  = "5d0b7c1e-2a4f-4b8e-9c3d-6e1f0a2b3c4d"
	otherECID = "11111111111111111111111111111111111111" // a shopper other than testECID
)

// countingStorage is a FileStorage that counts the calls made to it.
type countingStorage struct {
	certmagic.FileStorage
	loads, stores, locks atomic.Int64
}

func (s *countingStorage) Load(ctx context.Context, key string) ([]byte, error) {
	s.loads.Add(1)
	return s.FileStorage.Load(ctx, key)
}

func (s *countingStorage) Store(ctx context.Context, key string, value []byte) error {
	s.stores.Add(1)
	return s.FileStorage.Store(ctx, key, value)
}

func (s *countingStorage) Lock(ctx context.Context, name string) error {
	s.locks.Add(1)
	return s.FileStorage.Lock(ctx, name)
}

// calls is how many storage calls were made so far.
func (s *countingStorage) calls() int64 { return s.loads.Load() + s.stores.Load() + s.locks.Load() }

// fleetShop is a pool-gated store: the demo store in process with n single-use codes, and
// the rules, pool file and storage directory the sidecar instances share.
type fleetShop struct {
	dir   string
	rules string
	codes []string
	store *demostore.Store
	next  caddyhttp.Handler
}

func newFleetShop(t testing.TB, n int) *fleetShop {
	t.Helper()
	dir := t.TempDir()
	var codes []string
	for i := range n {
		codes = append(codes, fmt.Sprintf("AUDPOOL-%06d", i))
	}
	pool := filepath.Join(dir, "pool.txt")
	rulesFile := filepath.Join(dir, "rules.json")
	doc := fmt.Sprintf(`{"rules": [{"id": "pool-gate", "label": "Members' price", "audiences": {"any": [%q]}, "enforce": {"coupons_file": %q}}]}`, fleetSeg, pool)
	if err := os.WriteFile(pool, []byte(strings.Join(codes, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rulesFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	coupons, err := rules.Decode([]byte(`{"rules": [{"id": "magento-pool", "coupon": "MAGENTO-POOL-RULE", "action": {"type": "by_percent", "amount": 20}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	store := demostore.New(demostore.Options{CouponRules: coupons, CouponPools: map[string][]string{"magento-pool": codes}})
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		store.ServeHTTP(w, r)
		return nil
	})
	return &fleetShop{dir: dir, rules: rulesFile, codes: codes, store: store, next: next}
}

// instance provisions one sidecar of the fleet on the shop's storage; instances differ by
// planCache so each has its own state, as separate processes would.
func (f *fleetShop) instance(t testing.TB, planCache int) (*Handler, *countingStorage) {
	t.Helper()
	storage := f.storage()
	h := &Handler{
		Name: "shop", Rules: f.rules, SharedState: true, PlanCacheSize: planCache,
		Trust: TrustSigned, OrgID: testOrg, MembershipKeys: []string{testKey},
		storage: storage,
	}
	provisioned(t, h)
	return h, storage
}

// storage is the fleet's shared storage, counting the calls made through this value.
func (f *fleetShop) storage() *countingStorage {
	return &countingStorage{FileStorage: certmagic.FileStorage{Path: filepath.Join(f.dir, "storage")}}
}

// graphql runs an operation straight at the demo store and returns its data.
func (f *fleetShop) graphql(t testing.TB, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.store.ServeHTTP(w, r)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("demo store: %s", w.Body.Bytes())
	}
	return out.Data
}

// newCart creates a cart with one 92.00 bag at the demo store.
func (f *fleetShop) newCart(t testing.TB) string {
	t.Helper()
	id := f.graphql(t, `mutation { createEmptyCart }`, nil)["createEmptyCart"].(string)
	f.graphql(t, `mutation($c: String!) { addProductsToCart(cartId: $c, cartItems: [{sku: "24-WG02", quantity: 1}]) { cart { id } } }`, map[string]any{"c": id})
	return id
}

// coupons reads a cart's coupons at the demo store.
func (f *fleetShop) coupons(t testing.TB, cartID string) []any {
	t.Helper()
	cart := f.graphql(t, `query($c: String!) { cart(cart_id: $c) { applied_coupons { code } } }`, map[string]any{"c": cartID})["cart"].(map[string]any)
	list, _ := cart["applied_coupons"].([]any)
	return list
}

// cartQuery is the cart read a shopper's page sends.
const cartQuery = `query Cart($cartId: String!) { cart(cart_id: $cartId) { id prices { grand_total { value currency } discounts { label amount { value } } } } }`

// shopperRequest is a signed-in-the-audience shopper's GET of cartQuery.
func shopperRequest(t testing.TB, cartID, ecid string) *http.Request {
	t.Helper()
	keys, err := signed.ParseKeys(testKey)
	if err != nil {
		t.Fatal(err)
	}
	value, err := keys.Encode(signed.Membership{Segments: []string{fleetSeg}, ECID: ecid, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := json.Marshal(map[string]string{"cartId": cartID})
	r := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {cartQuery}, "variables": {string(vars)}}.Encode(), nil)
	identity := base64.URLEncoding.EncodeToString(append([]byte{0x0a, byte(len(ecid))}, ecid...))
	r.Header.Set("Cookie", edge.IdentityCookieName(testOrg)+"="+identity+"; aud_m="+value)
	r.Header.Set("Store", "default")
	return r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
}

// serveBody runs r through h in front of the shop and returns the answer.
func (f *fleetShop) serveBody(t testing.TB, h *Handler, r *http.Request) string {
	t.Helper()
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, f.next); err != nil {
		t.Fatal(err)
	}
	return w.Body.String()
}

// TestSharedStateStorageOnlyWhenNeeded: with shared_state a gated cart read touches the
// storage on a cart's first sight (pin, claim, the cart's lock) and never again on that
// instance; another instance reads what the first stored without a lock or a write;
// pass-through requests never touch it; a cart pinned on one instance is refused to another
// identity on the other.
func TestSharedStateStorageOnlyWhenNeeded(t *testing.T) {
	shop := newFleetShop(t, 20)
	a, sa := shop.instance(t, 100)
	b, sb := shop.instance(t, 101)
	if a.state == b.state || a.gateOptions.PoolLedger == nil || !a.gateOptions.ReadFirst || a.LockTimeout != caddy.Duration(DefaultLockTimeout) {
		t.Fatal("shared state not provisioned")
	}
	cart := shop.newCart(t)

	if body := shop.serveBody(t, a, shopperRequest(t, cart, testECID)); !strings.Contains(body, "Members' price") {
		t.Fatalf("first read: %s", body)
	}
	held := shop.coupons(t, cart)
	if len(held) != 1 || sa.locks.Load() == 0 || sa.stores.Load() == 0 {
		t.Fatalf("first read: coupons %v, %d locks, %d stores", held, sa.locks.Load(), sa.stores.Load())
	}
	t.Logf("first sight on a: %d loads, %d stores, %d locks", sa.loads.Load(), sa.stores.Load(), sa.locks.Load())
	before := sa.calls()
	if body := shop.serveBody(t, a, shopperRequest(t, cart, testECID)); !strings.Contains(body, "Members' price") || sa.calls() != before {
		t.Fatalf("a cart in line, known to this instance: %d storage calls: %s", sa.calls()-before, body)
	}

	if body := shop.serveBody(t, b, shopperRequest(t, cart, testECID)); !strings.Contains(body, "Members' price") {
		t.Fatalf("the other instance: %s", body)
	}
	if sb.locks.Load() != 0 || sb.stores.Load() != 0 || sb.loads.Load() == 0 {
		t.Fatalf("the other instance's first sight: %d loads, %d locks, %d stores", sb.loads.Load(), sb.locks.Load(), sb.stores.Load())
	}
	t.Logf("first sight on b: %d loads, %d stores, %d locks", sb.loads.Load(), sb.stores.Load(), sb.locks.Load())
	before = sb.calls()
	shop.serveBody(t, b, shopperRequest(t, cart, testECID))
	if sb.calls() != before {
		t.Fatalf("a cart known to the other instance: %d storage calls", sb.calls()-before)
	}

	before = sa.calls() + sb.calls()
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ storeConfig { store_code } }`), nil),
		httptest.NewRequest(http.MethodGet, "/customer/account/", nil),
		httptest.NewRequest(http.MethodGet, "/static/frontend/Magento/luma/en_US/mage/calendar.css", nil),
	} {
		for _, h := range []*Handler{a, b} {
			shop.serveBody(t, h, r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())))
		}
	}
	if n := sa.calls() + sb.calls() - before; n != 0 {
		t.Fatalf("pass-through requests made %d storage calls", n)
	}

	// Pinned through a to testECID: another identity gets no audience on b.
	if body := shop.serveBody(t, b, shopperRequest(t, cart, otherECID)); strings.Contains(body, "Members' price") {
		t.Fatalf("another identity priced a cart pinned on another instance: %s", body)
	}
}
