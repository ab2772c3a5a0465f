package gate

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// fakeMagento is an Upstream over in-memory carts that answers like Magento: one coupon per
// cart unless multi, codes compared case-insensitively, unknown or used-up codes refused.
type fakeMagento struct {
	mu      sync.Mutex
	multi   bool
	carts   map[string][]string // cart id → applied codes
	valid   map[string]bool     // upper-case codes Magento knows
	usedUp  map[string]bool     // upper-case codes whose uses are exhausted
	calls   []string
	inApply atomic.Int32 // concurrent calls on carts, to catch missing locks
	overlap atomic.Bool
}

func newFake(multi bool, valid ...string) *fakeMagento {
	f := &fakeMagento{multi: multi, carts: map[string][]string{}, valid: map[string]bool{}, usedUp: map[string]bool{}}
	for _, c := range valid {
		f.valid[strings.ToUpper(c)] = true
	}
	return f
}

func (f *fakeMagento) enter() func() {
	if f.inApply.Add(1) > 1 {
		f.overlap.Store(true)
	}
	time.Sleep(time.Millisecond)
	return func() { f.inApply.Add(-1) }
}

func (f *fakeMagento) ReadCart(cartID string) (*rules.Cart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "read")
	codes, ok := f.carts[cartID]
	if !ok {
		return nil, fmt.Errorf("no cart %s", cartID)
	}
	return &rules.Cart{Currency: "USD", Coupons: slices.Clone(codes)}, nil
}

func (f *fakeMagento) Apply(cartID, code string) error {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "apply "+code)
	switch {
	case !f.valid[strings.ToUpper(code)]:
		return &MagentoError{Message: "The coupon code isn't valid. Verify the code and try again."}
	case f.usedUp[strings.ToUpper(code)]:
		return &MagentoError{Message: "The coupon code isn't valid. Verify the code and try again."}
	case !f.multi && len(f.carts[cartID]) > 0:
		return &MagentoError{Message: "A coupon is already applied to the cart. Please remove it to apply another"}
	}
	f.carts[cartID] = append(f.carts[cartID], code)
	return nil
}

func (f *fakeMagento) Remove(cartID string, codes []string) error {
	defer f.enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+strings.Join(codes, ","))
	if !f.multi {
		f.carts[cartID] = nil
		return nil
	}
	f.carts[cartID] = slices.DeleteFunc(f.carts[cartID], func(c string) bool {
		return slices.ContainsFunc(codes, func(x string) bool { return strings.EqualFold(x, c) })
	})
	return nil
}

// gateRules returns the Rules of a rule set with a single-code VIP rule and, when poolFile
// is set, a pool rule.
func gateRules(t *testing.T, poolFile string) *Rules {
	t.Helper()
	doc := `{"rules": [{"id": "vip", "label": "VIP price", "audiences": {"any": ["vip"]}, "enforce": {"coupon": "AUD-VIP-7Q2X"}}`
	if poolFile != "" {
		doc += `, {"id": "pool", "label": "Pool price", "priority": 5, "audiences": {"any": ["pool"]}, "enforce": {"coupons_file": ` + fmt.Sprintf("%q", poolFile) + `}}`
	}
	rs, err := rules.Decode([]byte(doc + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	return NewRules(rs, &PoolCache{}, zap.NewNop())
}

func session(g *Rules, up Upstream, multi bool, policy Policy, segments ...string) (*Session, *[]string) {
	var actions []string
	var mu sync.Mutex
	opts := &Options{Multi: multi, Policy: policy, Locker: NewLocks(), Stats: &Stats{}, OnAction: func(a string) {
		mu.Lock()
		actions = append(actions, a)
		mu.Unlock()
	}}
	return &Session{Rules: g, Options: opts, Up: up, Segments: segments, At: time.Now()}, &actions
}

func TestSync(t *testing.T) {
	tests := []struct {
		name     string
		multi    bool
		policy   Policy
		segments []string
		held     []string // coupons on the cart before
		want     []string // coupons on the cart after
		changed  bool
		actions  []string
	}{
		{"member gets the gate coupon", false, ShopperWins, []string{"vip"}, nil, []string{"AUD-VIP-7Q2X"}, true, []string{ActionApplied}},
		{"member already has it", false, ShopperWins, []string{"vip"}, []string{"aud-vip-7q2x"}, []string{"aud-vip-7q2x"}, false, nil},
		{"non-member loses it", false, ShopperWins, nil, []string{"AUD-VIP-7Q2X"}, nil, true, []string{ActionRemoved}},
		{"non-member keeps their own coupon", false, ShopperWins, nil, []string{"WELCOME10"}, []string{"WELCOME10"}, false, nil},
		{"shopper_wins: own coupon keeps the slot", false, ShopperWins, []string{"vip"}, []string{"WELCOME10"}, []string{"WELCOME10"}, false, nil},
		{"audience_wins: own coupon goes", false, AudienceWins, []string{"vip"}, []string{"WELCOME10"}, []string{"AUD-VIP-7Q2X"}, true, []string{ActionRemoved, ActionApplied}},
		{"multi: both coexist", true, ShopperWins, []string{"vip"}, []string{"WELCOME10"}, []string{"WELCOME10", "AUD-VIP-7Q2X"}, true, []string{ActionApplied}},
		{"multi: non-member loses only the gate coupon", true, ShopperWins, nil, []string{"WELCOME10", "AUD-VIP-7Q2X"}, []string{"WELCOME10"}, true, []string{ActionRemoved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFake(tt.multi, "AUD-VIP-7Q2X", "WELCOME10")
			up.carts["c"] = slices.Clone(tt.held)
			s, actions := session(gateRules(t, ""), up, tt.multi, tt.policy, tt.segments...)
			changed, err := s.Sync("c")
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed || !slices.Equal(up.carts["c"], tt.want) || !slices.Equal(*actions, tt.actions) {
				t.Fatalf("changed %v, cart %q, actions %q (calls %q)", changed, up.carts["c"], *actions, up.calls)
			}
		})
	}
}

func TestSyncPoolRotation(t *testing.T) {
	g := gateRules(t, writePool(t, "AUDPOOL-0001\nAUDPOOL-0002\nAUDPOOL-0003\nAUDPOOL-0004\nAUDPOOL-0005\nAUDPOOL-0006\nAUDPOOL-0007\n"))
	up := newFake(false, "AUD-VIP-7Q2X", "AUDPOOL-0001", "AUDPOOL-0002", "AUDPOOL-0003", "AUDPOOL-0004", "AUDPOOL-0005", "AUDPOOL-0006", "AUDPOOL-0007")
	up.usedUp["AUDPOOL-0001"] = true // used by an order elsewhere
	up.usedUp["AUDPOOL-0002"] = true
	up.carts["a"] = nil
	s, actions := session(g, up, false, ShopperWins, "pool")
	if changed, err := s.Sync("a"); err != nil || !changed {
		t.Fatalf("sync: %v %v", changed, err)
	}
	if !slices.Equal(up.carts["a"], []string{"AUDPOOL-0003"}) {
		t.Fatalf("cart holds %q after two refused codes (calls %q)", up.carts["a"], up.calls)
	}
	if !slices.Equal(*actions, []string{ActionApplied}) || g.pools["pool"].Left() != 4 {
		t.Fatalf("actions %q, %d codes left", *actions, g.pools["pool"].Left())
	}
	// Three refused codes in one sync: the cart stays without and the failure is reported.
	up.usedUp["AUDPOOL-0004"], up.usedUp["AUDPOOL-0005"], up.usedUp["AUDPOOL-0006"] = true, true, true
	up.carts["b"] = nil
	s2, actions2 := session(g, up, false, ShopperWins, "pool")
	if _, err := s2.Sync("b"); err == nil || len(up.carts["b"]) != 0 || !slices.Contains(*actions2, ActionFailed) {
		t.Fatalf("a used-up pool: err %v, cart %q, actions %q", err, up.carts["b"], *actions2)
	}
	if strings.Contains(fmt.Sprint(*actions2), "AUDPOOL") {
		t.Fatal("actions name a code")
	}
	// An order Magento refused for its coupon spends the cart's code.
	before := g.pools["pool"].Left()
	s.OrderAnswered([]string{"a"}, []byte(`{"errors":[{"message":"The coupon code isn't valid. Verify the code and try again."}]}`))
	if got := g.pools["pool"].assignLocal("a", nil); got != "AUDPOOL-0007" || g.pools["pool"].Left() != before-1 {
		t.Fatal("the refused order's code was not spent")
	}
}

func TestSyncRefusedSingleCodeFails(t *testing.T) {
	up := newFake(false) // Magento does not know the gate code: a misconfigured rule
	up.carts["c"] = nil
	s, actions := session(gateRules(t, ""), up, false, ShopperWins, "vip")
	_, err := s.Sync("c")
	if err == nil || !slices.Equal(*actions, []string{ActionFailed}) || strings.Contains(err.Error(), "AUD-VIP") {
		t.Fatalf("err %v actions %q", err, *actions)
	}
}

func TestMakeRoomAndTypedCodes(t *testing.T) {
	up := newFake(false, "AUD-VIP-7Q2X", "WELCOME10")
	up.carts["c"] = []string{"AUD-VIP-7Q2X"}
	s, actions := session(gateRules(t, ""), up, false, ShopperWins, "vip")
	if !s.RefusesTyped([]string{"WELCOME10", " aud-vip-7q2x "}) || !slices.Equal(*actions, []string{ActionRefusedCode}) {
		t.Fatalf("a typed gate code was not refused: %q", *actions)
	}
	if s.RefusesTyped([]string{"WELCOME10"}) {
		t.Fatal("the shopper's own code was refused")
	}
	s.MakeRoom([]string{"c"}, []string{"WELCOME10"})
	if len(up.carts["c"]) != 0 {
		t.Fatalf("shopper_wins: the gate coupon must make room, cart %q", up.carts["c"])
	}
	up.carts["c"] = []string{"AUD-VIP-7Q2X"}
	aw, _ := session(gateRules(t, ""), up, false, AudienceWins, "vip")
	aw.MakeRoom([]string{"c"}, []string{"WELCOME10"})
	if len(up.carts["c"]) != 1 {
		t.Fatal("audience_wins: the gate coupon must stay")
	}
}

func TestCheckOrder(t *testing.T) {
	up := newFake(false, "AUD-VIP-7Q2X")
	up.carts["left"] = []string{"AUD-VIP-7Q2X"} // a shopper who left the audience
	s, actions := session(gateRules(t, ""), up, false, ShopperWins)
	if err := s.CheckOrder([]string{"left"}); err != nil || len(up.carts["left"]) != 0 {
		t.Fatalf("the order's cart must lose the gate coupon first: %v %q", err, up.carts["left"])
	}
	broken := newFake(false)
	broken.carts["m"] = nil
	m, mActions := session(gateRules(t, ""), broken, false, ShopperWins, "vip")
	if err := m.CheckOrder([]string{"m", "other"}); err == nil || !slices.Contains(*mActions, ActionRefusedOrder) {
		t.Fatalf("an order whose gate cannot be brought in line must be refused: %v %q", err, *mActions)
	}
	_ = actions
}

// TestSyncSerializesOneCart: concurrent requests on one cart never apply and remove at once,
// and the cart ends as its last shopper qualifies.
func TestSyncSerializesOneCart(t *testing.T) {
	up := newFake(false, "AUD-VIP-7Q2X")
	up.carts["c"] = nil
	g := gateRules(t, "")
	opts := &Options{Policy: ShopperWins, Locker: NewLocks(), Stats: &Stats{}}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var segs []string
			if i%2 == 0 {
				segs = []string{"vip"}
			}
			s := &Session{Rules: g, Options: opts, Up: up, Segments: segs, At: time.Now()}
			if _, err := s.Sync("c"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if up.overlap.Load() {
		t.Fatal("two syncs changed one cart at once")
	}
	s := &Session{Rules: g, Options: opts, Up: up, Segments: []string{"vip"}, At: time.Now()}
	if _, err := s.Sync("c"); err != nil || !slices.Equal(up.carts["c"], []string{"AUD-VIP-7Q2X"}) {
		t.Fatalf("final cart %q: %v", up.carts["c"], err)
	}
	st := opts.Stats.State("vip")
	if st.Applied == 0 || st.Removed == 0 || st.Applied-st.Removed != 1 {
		t.Fatalf("stats %+v", st)
	}
}
