package trust

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

func TestPinsFirstIdentityWins(t *testing.T) {
	p, err := NewPins(10)
	if err != nil {
		t.Fatal(err)
	}
	var winners atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.Allow("cart", string(rune('a'+i%26))) {
				winners.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := winners.Load(); n < 1 || n > 2 { // the owner's letter appears twice among 50
		t.Fatalf("%d requests were allowed on one cart", n)
	}
	if !p.Allow("", "x") {
		t.Fatal("a request without a cart id is never pinned")
	}
}

func TestResolveModes(t *testing.T) {
	keys, err := signed.ParseKeys("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	mcfg := membership.Config{Source: membership.SourceHeaderThenCookie, HonorDNT: true, MaxSegments: 10, MaxBytes: 1024}
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("aep-segments-membership", "seg-a")
	if got := New(Config{Mode: Client, Membership: mcfg}).Resolve(r, true); len(got.Membership.Segments) != 1 {
		t.Fatalf("client mode: %+v", got)
	}
	var rejected []string
	signedTrust := New(Config{Mode: Signed, OrgID: "ORG@AdobeOrg", Cookie: "aud_m", Keys: keys, Membership: mcfg, OnReject: func(r string) { rejected = append(rejected, r) }})
	if got := signedTrust.Resolve(r, true); len(got.Membership.Segments) != 0 || got.Membership.Origin != membership.OriginNone {
		t.Fatalf("signed mode took the client's claim: %+v", got)
	}
	r.Header.Set("Cookie", "aud_m=forged")
	if got := signedTrust.Resolve(r, true); len(got.Membership.Segments) != 0 || len(rejected) != 1 {
		t.Fatalf("a forged cookie: %+v, rejections %q", got, rejected)
	}
	r.Header.Set("Cookie", "mg_dnt=1")
	if got := signedTrust.Resolve(r, true); got.Membership.Origin != membership.OriginDNT {
		t.Fatalf("do-not-track: %+v", got)
	}
}

// memoryPinStore is a PinStore two instances share, counting its calls.
type memoryPinStore struct {
	mu    sync.Mutex
	pins  map[string]string
	calls atomic.Int32
	fail  error
}

func (m *memoryPinStore) PinFirst(cartID, ecid string) (string, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
	}
	if owner, ok := m.pins[cartID]; ok {
		return owner, nil
	}
	m.pins[cartID] = ecid
	return ecid, nil
}

// TestPinsShared: a cart pinned through one instance is pinned on the other; cached pins
// spare the store; a store that fails prices the cart for nobody.
func TestPinsShared(t *testing.T) {
	store := &memoryPinStore{pins: map[string]string{}}
	var errs []error
	newInstance := func() *Pins {
		p, err := NewPins(2)
		if err != nil {
			t.Fatal(err)
		}
		return p.Shared(store, func(err error) { errs = append(errs, err) })
	}
	a, b := newInstance(), newInstance()
	if !a.Allow("cart-1", "ecid-owner") || !a.Allow("cart-1", "ecid-owner") {
		t.Fatal("the first identity owns the cart")
	}
	// On b another identity asks first: it is refused, and the owner is still let in.
	if b.Allow("cart-1", "ecid-other") || !b.Allow("cart-1", "ecid-owner") || b.Allow("cart-1", "ecid-other") {
		t.Fatal("the pin did not reach the other instance")
	}
	if n := store.calls.Load(); n != 3 {
		t.Fatalf("%d store calls, want one for the owner per instance and one for the intruder seen first", n)
	}
	if !b.Allow("cart-1", "ecid-owner") || store.calls.Load() != 3 {
		t.Fatal("a cached owner asked the store again")
	}
	// The cache is bounded; a cart pushed out is looked up again and is still pinned.
	a.Allow("cart-2", "x")
	a.Allow("cart-3", "y")
	if a.Allow("cart-1", "ecid-other") {
		t.Fatal("a pin pushed out of the cache was forgotten")
	}
	store.fail = errors.New("storage down")
	if a.Allow("cart-4", "ecid-owner") || len(errs) != 1 {
		t.Fatalf("a store failure must price the cart for nobody and be reported: %v", errs)
	}
	if !a.Allow("", "x") {
		t.Fatal("a request without a cart id is never pinned")
	}
}
