package gate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// fakeLedger is a Ledger in memory, shared by the Pools that stand for several instances.
type fakeLedger struct {
	mu       sync.Mutex
	claims   map[string]string // upper-case code → cart
	assigned map[string]string // cart → code
	calls    atomic.Int32
	fail     error // every call fails with it when set
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{claims: map[string]string{}, assigned: map[string]string{}}
}

func (l *fakeLedger) Assigned(cartID string) (string, error) {
	l.calls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return "", l.fail
	}
	return l.assigned[cartID], nil
}

func (l *fakeLedger) Claim(code, cartID string) (bool, error) {
	l.calls.Add(1)
	time.Sleep(10 * time.Microsecond) // let claims of several goroutines interleave
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return false, l.fail
	}
	owner, ok := l.claims[strings.ToUpper(code)]
	if ok {
		return owner == cartID, nil
	}
	l.claims[strings.ToUpper(code)] = cartID
	l.assigned[cartID] = code
	return true, nil
}

// fakeLocker counts the locks taken and fails them when told to.
type fakeLocker struct {
	locks *Locks
	taken atomic.Int32
	fail  error
}

func (l *fakeLocker) Lock(cartID string) (func(), error) {
	if l.fail != nil {
		return nil, l.fail
	}
	l.taken.Add(1)
	if l.locks == nil {
		return func() {}, nil
	}
	return l.locks.Lock(cartID)
}

func poolCodesFile(t *testing.T, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	var codes []string
	for i := range n {
		code := fmt.Sprintf("AUDPOOL-%04d", i)
		codes = append(codes, code)
		b.WriteString(code + "\n")
	}
	return writePool(t, b.String()), codes
}

// TestPoolSharedLedger: two instances (two Pools of one file) hand out codes through one
// ledger from many goroutines: no code goes to two carts, a cart has one code whichever
// instance asks, and the pool runs out only when every code is claimed.
func TestPoolSharedLedger(t *testing.T) {
	path, codes := poolCodesFile(t, 60)
	a, _ := loadPool("pool", path)
	b, _ := loadPool("pool", path)
	l := newFakeLedger()
	got := make([]string, 60)
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := a
			if i%2 == 1 {
				p = b
			}
			code, err := p.assign(fmt.Sprintf("cart-%d", i), nil, l, true)
			if err != nil {
				t.Error(err)
			}
			got[i] = code
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i, code := range got {
		if code == "" {
			t.Fatalf("cart %d got no code from a pool as large as the carts", i)
		}
		if j, dup := seen[code]; dup {
			t.Fatalf("carts %d and %d got %s", j, i, code)
		}
		seen[code] = i
		if l.claims[code] != fmt.Sprintf("cart-%d", i) {
			t.Fatalf("%s is claimed by %q, handed to cart-%d", code, l.claims[code], i)
		}
	}
	// Each cart's code is the same on the other instance, without a new claim.
	for i := range 60 {
		other := b
		if i%2 == 1 {
			other = a
		}
		if code, err := other.assign(fmt.Sprintf("cart-%d", i), nil, l, false); err != nil || code != got[i] {
			t.Fatalf("cart-%d: the other instance says %q (%v), want %q", i, code, err, got[i])
		}
	}
	if code, err := a.assign("cart-late", nil, l, true); code != "" || err != nil {
		t.Fatalf("a used-up pool handed out %q (%v)", code, err)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(seen)), codes) {
		t.Fatal("not every code was handed out")
	}
}

func TestPoolSharedAdoptionAndPeek(t *testing.T) {
	path, codes := poolCodesFile(t, 10)
	p, _ := loadPool("pool", path)
	l := newFakeLedger()
	// A cart holding a code of the pool no other cart claimed adopts it, and claims it.
	if code, err := p.assign("cart-a", []string{strings.ToLower(codes[3])}, l, false); err != nil || code != codes[3] || l.claims[codes[3]] != "cart-a" {
		t.Fatalf("adopted %q (%v), claims %v", code, err, l.claims)
	}
	// A code claimed by another cart is not adopted: the cart gets one of its own.
	l.claims[codes[5]] = "cart-x"
	code, err := p.assign("cart-b", []string{codes[5]}, l, true)
	if err != nil || code == "" || code == codes[5] || code == codes[3] {
		t.Fatalf("cart-b holding cart-x's code got %q (%v)", code, err)
	}
	// Without the cart's lock no new code is claimed.
	before := len(l.claims)
	if _, err := p.assign("cart-c", nil, l, false); !errors.Is(err, errClaimNeeded) || len(l.claims) != before {
		t.Fatalf("peek claimed: %v, %d claims", err, len(l.claims))
	}
	// A cart known to this instance costs no ledger call.
	calls := l.calls.Load()
	if code, _ := p.assign("cart-b", nil, l, false); code == "" || l.calls.Load() != calls {
		t.Fatalf("a cached cart called the ledger (%d → %d)", calls, l.calls.Load())
	}
	// A failing ledger is an error, never a code handed out without a claim.
	l.fail = errors.New("storage down")
	if code, err := p.assign("cart-d", nil, l, true); err == nil || code != "" {
		t.Fatalf("with the ledger down: %q, %v", code, err)
	}
}

// TestPoolSharedLostClaimsBounded: an instance whose walk meets only codes other instances
// claimed gives up after maxClaimsPerAssign claims, and goes on from there next time.
func TestPoolSharedLostClaimsBounded(t *testing.T) {
	path, codes := poolCodesFile(t, 2*maxClaimsPerAssign+1)
	p, _ := loadPool("pool", path)
	l := newFakeLedger()
	for _, c := range codes[:2*maxClaimsPerAssign] {
		l.claims[c] = "elsewhere"
	}
	p.offset, p.spread = 0, true
	if _, err := p.assign("cart", nil, l, true); err == nil {
		t.Fatal("want an error after a run of lost claims")
	}
	if _, err := p.assign("cart", nil, l, true); err == nil {
		t.Fatal("want an error after a second run of lost claims")
	}
	if code, err := p.assign("cart", nil, l, true); err != nil || code != codes[len(codes)-1] {
		t.Fatalf("the last free code: %q %v", code, err)
	}
}

// sharedSession is a session over a pool rule with a shared ledger and a counting locker.
func sharedSession(t *testing.T, up Upstream, l Ledger, locker Locker, segments ...string) (*Session, *Rules, *[]string) {
	t.Helper()
	g := gateRules(t, writePool(t, "AUDPOOL-0001\nAUDPOOL-0002\nAUDPOOL-0003\n"))
	s, actions := session(g, up, false, ShopperWins, segments...)
	s.Options.Locker = locker
	s.Options.PoolLedger = func(string) Ledger { return l }
	s.Options.ReadFirst = true
	return s, g, actions
}

func TestSyncIfNeededLocksOnlyCartsOutOfLine(t *testing.T) {
	up := newFake(false, "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003")
	up.carts["c"] = nil
	locker := &fakeLocker{}
	s, _, _ := sharedSession(t, up, newFakeLedger(), locker, "pool")
	if changed, err := s.SyncIfNeeded("c"); err != nil || !changed || locker.taken.Load() != 1 || len(up.carts["c"]) != 1 {
		t.Fatalf("first read: changed %v, err %v, locks %d, cart %q", changed, err, locker.taken.Load(), up.carts["c"])
	}
	for range 3 {
		if changed, err := s.SyncIfNeeded("c"); err != nil || changed {
			t.Fatalf("a cart in line: changed %v, err %v", changed, err)
		}
	}
	if n := locker.taken.Load(); n != 1 {
		t.Fatalf("a cart in line was locked: %d locks", n)
	}
	// CheckOrder always locks.
	if err := s.CheckOrder([]string{"c"}); err != nil || locker.taken.Load() != 2 {
		t.Fatalf("check order: %v, %d locks", err, locker.taken.Load())
	}
}

func TestSyncFailsCleanlyWithoutLockOrLedger(t *testing.T) {
	up := newFake(false, "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003")
	up.carts["c"] = nil
	locker := &fakeLocker{fail: errors.New("cart lock not obtained within 5s")}
	s, _, actions := sharedSession(t, up, newFakeLedger(), locker, "pool")
	if _, err := s.SyncIfNeeded("c"); err == nil || len(up.carts["c"]) != 0 || slices.ContainsFunc(up.calls, func(c string) bool { return strings.HasPrefix(c, "apply") }) {
		t.Fatalf("without the lock: err %v, cart %q, calls %q", err, up.carts["c"], up.calls)
	}
	if err := s.CheckOrder([]string{"c"}); err == nil || !slices.Contains(*actions, ActionRefusedOrder) {
		t.Fatalf("an order without the cart's lock must be refused: %v %q", err, *actions)
	}
	ledger := newFakeLedger()
	ledger.fail = errors.New("storage down")
	s2, _, actions2 := sharedSession(t, up, ledger, &fakeLocker{}, "pool")
	if err := s2.CheckOrder([]string{"c"}); err == nil || len(up.carts["c"]) != 0 || !slices.Contains(*actions2, ActionFailed) {
		t.Fatalf("an order with the ledger down must be refused: %v, cart %q, actions %q", err, up.carts["c"], *actions2)
	}
	// A cart already holding its code keeps it when the ledger fails: nothing is removed.
	up.carts["held"] = []string{"AUDPOOL-0002"}
	if _, err := s2.SyncIfNeeded("held"); err == nil || !slices.Equal(up.carts["held"], []string{"AUDPOOL-0002"}) {
		t.Fatalf("ledger down: err %v, cart %q", err, up.carts["held"])
	}
}

// TestNeedsSyncClaimsNothing: deciding from an answer, without the cart's lock, never claims
// a new pool code; the sync under the lock does.
func TestNeedsSyncClaimsNothing(t *testing.T) {
	up := newFake(false, "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003")
	up.carts["c"] = nil
	l := newFakeLedger()
	s, _, _ := sharedSession(t, up, l, &fakeLocker{}, "pool")
	if !s.NeedsSync("c", &rules.Cart{Currency: "USD"}) || len(l.claims) != 0 {
		t.Fatalf("NeedsSync: claims %v", l.claims)
	}
	if _, err := s.Sync("c"); err != nil || len(l.claims) != 1 {
		t.Fatalf("sync: %v, claims %v", err, l.claims)
	}
}

// TestOrderRefusedSharedGetsFreshCode: with a shared ledger a cart whose order Magento
// refused for its pool code gets its fresh code at once, so another instance that still
// believes in the spent code never shows its price.
func TestOrderRefusedSharedGetsFreshCode(t *testing.T) {
	up := newFake(false, "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003")
	up.carts["c"] = nil
	l := newFakeLedger()
	s, g, _ := sharedSession(t, up, l, &fakeLocker{}, "pool")
	if _, err := s.Sync("c"); err != nil {
		t.Fatal(err)
	}
	first := up.carts["c"][0]
	up.usedUp[first] = true
	s.OrderAnswered([]string{"c"}, []byte(`{"errors":[{"message":"`+first+` coupon exceeds usage limit."}]}`))
	if held := up.carts["c"]; len(held) != 1 || held[0] == first {
		t.Fatalf("after the refused order the cart holds %q", held)
	}
	// Another instance adopts the fresh code from the cart.
	other, _ := loadPool("pool", g.pools["pool"].path)
	if code, err := other.assign("c", up.carts["c"], l, false); err != nil || code != up.carts["c"][0] {
		t.Fatalf("the other instance: %q %v", code, err)
	}
}

// TestSharedPoolClaimsOnlyWhatIsApplied: a qualifying cart whose shopper's own coupon keeps
// the single slot claims no pool code and takes no lock; with audience_wins it claims one.
func TestSharedPoolClaimsOnlyWhatIsApplied(t *testing.T) {
	up := newFake(false, "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003", "WELCOME10")
	up.carts["c"] = []string{"WELCOME10"}
	l := newFakeLedger()
	locker := &fakeLocker{}
	s, _, _ := sharedSession(t, up, l, locker, "pool")
	if changed, err := s.SyncIfNeeded("c"); err != nil || changed || len(l.claims) != 0 || locker.taken.Load() != 0 {
		t.Fatalf("shopper_wins: changed %v, err %v, claims %v, locks %d", changed, err, l.claims, locker.taken.Load())
	}
	if _, err := s.Sync("c"); err != nil || len(l.claims) != 0 {
		t.Fatalf("shopper_wins under the lock: %v, claims %v", err, l.claims)
	}
	s.Options.Policy = AudienceWins
	if changed, err := s.SyncIfNeeded("c"); err != nil || !changed || len(l.claims) != 1 || len(up.carts["c"]) != 1 || up.carts["c"][0] == "WELCOME10" {
		t.Fatalf("audience_wins: changed %v, err %v, claims %v, cart %q", changed, err, l.claims, up.carts["c"])
	}
}
