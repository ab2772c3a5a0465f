package gate

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Upstream is how the gate reaches Magento with one shopper's credentials: GraphQL today,
// REST and Luma's form posts next. An error Magento answers with is a *MagentoError.
type Upstream interface {
	// ReadCart returns the cart as the rule engine sees it, applied coupons included.
	ReadCart(cartID string) (*rules.Cart, error)
	// Apply applies one gate code to the cart.
	Apply(cartID, code string) error
	// Remove takes coupons off the cart: codes in a multi-coupon store, the one coupon in a
	// single-coupon store.
	Remove(cartID string, codes []string) error
}

// MagentoError is an error Magento answered a gate call with.
type MagentoError struct{ Message string }

func (e *MagentoError) Error() string { return "backend: " + e.Message }

// Actions the gate reports through Options.OnAction.
const (
	ActionApplied      = "applied"
	ActionRemoved      = "removed"
	ActionFailed       = "failed"
	ActionRefusedOrder = "refused_order"
	ActionRefusedCode  = "refused_code"
)

// maxPoolCodesPerRun bounds the pool codes tried on one cart in one sync.
const maxPoolCodesPerRun = 3

// Options configure the gate; they are shared by every request of a handler.
type Options struct {
	// Multi uses several coupons per cart (Adobe Commerce's applyCouponsToCart).
	Multi bool
	// Policy decides who holds the single coupon slot.
	Policy Policy
	// Locker serializes the work on one cart: Locks in memory, a fleet's storage when shared.
	Locker Locker
	// PoolLedger, when set, returns the ledger a pool rule's assignments are shared through
	// (a fleet's storage); nil keeps them in this process.
	PoolLedger func(ruleID string) Ledger
	// ReadFirst makes SyncIfNeeded read a cart without its lock before deciding to lock it:
	// worth a second read when locks are expensive (shared storage), not in memory.
	ReadFirst bool
	// Stats count the actions per rule.
	Stats *Stats
	// OnAction is told of every action (the Action constants); nil for none.
	OnAction func(action string)
	// Logger gets the gate's warnings; nil for none.
	Logger *zap.Logger
}

func (o *Options) action(a string) {
	if o.OnAction != nil {
		o.OnAction(a)
	}
}

func (o *Options) warn(msg string, fields ...zap.Field) {
	if o.Logger != nil {
		o.Logger.Warn(msg, fields...)
	}
}

// Session is the gate's part of one request: the rules in force, the shopper they are
// decided for, and the way to Magento with the shopper's credentials.
type Session struct {
	Rules    *Rules
	Options  *Options
	Up       Upstream
	Segments []string
	At       time.Time
}

// RefusesTyped reports whether any code a shopper asks Magento to apply is a gate code; such
// a request must be answered as Magento answers an invalid code, without reaching it.
func (s *Session) RefusesTyped(typed []string) bool {
	for _, code := range typed {
		if s.Rules.codes.Typed(code) {
			s.Options.action(ActionRefusedCode)
			return true
		}
	}
	return false
}

// MakeRoom lets a shopper's own coupon win the single slot (policy shopper_wins): the gate
// coupon is taken off the carts before the shopper's code reaches Magento, which would
// otherwise refuse it because a coupon is already applied.
func (s *Session) MakeRoom(cartIDs []string, typed []string) {
	if s.Options.Multi || s.Options.Policy != ShopperWins || len(typed) == 0 {
		return
	}
	for _, cartID := range cartIDs {
		if err := s.removeGateCoupons(cartID); err != nil {
			s.Options.warn("gate coupon not removed for the shopper's own coupon", zap.Error(err))
		}
	}
}

// removeGateCoupons takes every gate coupon off a cart.
func (s *Session) removeGateCoupons(cartID string) error {
	unlock, err := s.Options.Locker.Lock(cartID)
	if err != nil {
		return err
	}
	defer unlock()
	cart, err := s.Up.ReadCart(cartID)
	if err != nil {
		return err
	}
	var held []string
	for _, code := range cart.Coupons {
		if s.Rules.codes.Has(code) {
			held = append(held, code)
		}
	}
	if len(held) == 0 {
		return nil
	}
	return s.apply(cartID, Plan{Remove: held})
}

// CheckOrder brings the gate in line on every cart an order is placed for; an error means
// the order must be refused.
func (s *Session) CheckOrder(cartIDs []string) error {
	for _, cartID := range cartIDs {
		if _, err := s.Sync(cartID); err != nil {
			s.Options.action(ActionRefusedOrder)
			return err
		}
	}
	return nil
}

// NeedsSync reports whether a cart, as an answer showed it, carries other gate coupons than
// its shopper qualifies for. It is decided without the cart's lock, so it claims no new pool
// code: a cart that needs one needs a sync; so does a cart whose pool code could not be
// looked up (the sync then reports why).
func (s *Session) NeedsSync(cartID string, cart *rules.Cart) bool {
	plan, err := s.decide(cartID, cart, false)
	return err != nil || !plan.Empty()
}

// decide says what must change on a cart; claim says whether new pool codes may be claimed
// for it (only under the cart's lock). With shared pools a code is claimed only when Decide
// would apply it — not for a cart whose shopper's own coupon keeps the slot; without claim
// such a cart's plan holds a placeholder, so the plan is not empty and the cart needs a sync.
func (s *Session) decide(cartID string, cart *rules.Cart, claim bool) (Plan, error) {
	want, err := s.Rules.wanted(cartID, cart, s.Segments, s.At, s.Options.PoolLedger)
	if err != nil {
		return Plan{}, err
	}
	for {
		plan := Decide(cart.Coupons, want, s.Rules.codes, s.Options.Multi, s.Options.Policy)
		i := slices.IndexFunc(want, func(code string) bool {
			return pendingRule(code) != "" && slices.Contains(plan.Apply, code)
		})
		if i < 0 || !claim {
			return plan, nil
		}
		// Each round replaces or removes one placeholder, so this ends.
		if want, err = s.Rules.claim(want, i, cartID, cart.Coupons, s.Options.PoolLedger); err != nil {
			return Plan{}, err
		}
	}
}

// SyncIfNeeded is Sync for a request that reads a cart: with Options.ReadFirst the cart is
// read without its lock first, and locked and synced only when it is not in line, so a cart
// already carrying what its shopper qualifies for costs no lock.
func (s *Session) SyncIfNeeded(cartID string) (bool, error) {
	if !s.Options.ReadFirst || cartID == "" {
		return s.Sync(cartID)
	}
	cart, err := s.Up.ReadCart(cartID)
	if err != nil {
		return false, err
	}
	if !s.NeedsSync(cartID, cart) {
		return false, nil
	}
	return s.Sync(cartID)
}

// Sync reads one cart under its lock and applies or removes gate coupons until it carries
// exactly what its shopper qualifies for, then reads it again to verify. It reports whether
// it changed the cart. A pool code Magento refuses (used up elsewhere) is spent and the next
// one tried, up to maxPoolCodesPerRun.
func (s *Session) Sync(cartID string) (bool, error) {
	if cartID == "" {
		return false, errors.New("cart without id")
	}
	unlock, err := s.Options.Locker.Lock(cartID)
	if err != nil {
		s.Options.action(ActionFailed)
		return false, err
	}
	defer unlock()
	cart, err := s.Up.ReadCart(cartID)
	if err != nil {
		return false, err
	}
	changed := false
	for tries := 1; ; tries++ {
		plan, err := s.decide(cartID, cart, true)
		if err != nil {
			s.Options.action(ActionFailed)
			return changed, err
		}
		if plan.Empty() {
			return changed, nil
		}
		changed = true
		err = s.apply(cartID, plan)
		if err == nil {
			break
		}
		code := s.Rules.refusedPoolCode(err)
		if code != "" {
			s.Rules.poolOf(code).spend(code) // never again
		}
		if code == "" || tries == maxPoolCodesPerRun {
			s.Options.action(ActionFailed)
			return true, err
		}
		if cart, err = s.Up.ReadCart(cartID); err != nil {
			return true, err
		}
	}
	after, err := s.Up.ReadCart(cartID)
	if err != nil {
		return true, err
	}
	rest, err := s.decide(cartID, after, true)
	if err == nil && !rest.Empty() {
		err = fmt.Errorf("cart still needs %d removals and %d applications", len(rest.Remove), len(rest.Apply))
	}
	if err != nil {
		s.Options.action(ActionFailed)
	}
	return true, err
}

// apply sends the removals, then the applications.
func (s *Session) apply(cartID string, plan Plan) error {
	if len(plan.Remove) > 0 {
		if err := s.Up.Remove(cartID, plan.Remove); err != nil {
			return fmt.Errorf("remove coupon: %w", err)
		}
		s.Options.action(ActionRemoved)
		for _, code := range plan.Remove {
			if id := s.Rules.ruleOf(code); id != "" && s.Options.Stats != nil {
				s.Options.Stats.of(id).Removed.Add(1)
			}
		}
	}
	for _, code := range plan.Apply {
		rule := s.Rules.ruleOf(code)
		if err := s.Up.Apply(cartID, code); err != nil {
			if s.Options.Stats != nil {
				s.Options.Stats.of(rule).Failed.Add(1)
			}
			return &ApplyError{Code: code, Rule: rule, Err: err}
		}
		s.Options.action(ActionApplied)
		if s.Options.Stats != nil {
			s.Options.Stats.of(rule).Applied.Add(1)
		}
	}
	return nil
}

// ApplyError is a gate coupon Magento did not apply. Its message names the rule, never the
// code.
type ApplyError struct {
	Code, Rule string
	Err        error
}

func (e *ApplyError) Error() string {
	return "apply gate coupon of rule " + e.Rule + ": " + e.Err.Error()
}
func (e *ApplyError) Unwrap() error { return e.Err }

// refusedCodeMessages are Magento's words for a code it will not apply: invalid or used up
// (applyCouponToCart, placeOrder), not applicable (applyCouponsToCart).
var refusedCodeMessages = []string{"isn't valid", "exceeds usage limit", "could not be applied"}

// refusedPoolCode returns the pool code whose application err reports Magento refused as
// invalid or used up, or "".
func (g *Rules) refusedPoolCode(err error) string {
	var ae *ApplyError
	var me *MagentoError
	if !errors.As(err, &ae) || !errors.As(err, &me) || g.poolOf(ae.Code) == nil {
		return ""
	}
	for _, msg := range refusedCodeMessages {
		if strings.Contains(me.Message, msg) {
			return ae.Code
		}
	}
	return ""
}

// OrderAnswered looks at Magento's answer to an order: when it refused the order for its
// coupon, the pool codes of the order's carts are spent, so that their next read gets a
// fresh code instead of one used up elsewhere. With a shared ledger the carts get their
// fresh code right away: another instance does not know the code is spent and would keep
// showing its price.
func (s *Session) OrderAnswered(cartIDs []string, answer []byte) {
	if len(s.Rules.pools) == 0 {
		return
	}
	refused := false
	for _, msg := range refusedCodeMessages[:2] {
		refused = refused || bytes.Contains(answer, []byte(msg))
	}
	if !refused {
		return
	}
	for _, cartID := range cartIDs {
		for _, p := range s.Rules.pools {
			p.spendAssigned(cartID)
		}
		if s.Options.PoolLedger == nil {
			continue
		}
		if _, err := s.Sync(cartID); err != nil {
			s.Options.warn("the cart of a refused order did not get a fresh pool code", zap.Error(err))
		}
	}
}
