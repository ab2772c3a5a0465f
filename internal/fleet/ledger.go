package fleet

import (
	"fmt"
)

// Ledger is one pool rule's claims and assignments. Claims are keyed by the code alone, not
// by the rule or its file, so a code claimed once is never handed out again, whatever
// becomes of the pool. It implements gate.Ledger.
type Ledger struct {
	store  *Store
	ruleID string
}

// Ledger returns the ledger of the pool of ruleID.
func (s *Store) Ledger(ruleID string) *Ledger { return &Ledger{store: s, ruleID: ruleID} }

// Assigned returns the code last claimed for cartID, or "".
func (l *Ledger) Assigned(cartID string) (string, error) {
	ctx, cancel := l.store.context()
	defer cancel()
	v, _, err := l.store.load(ctx, l.store.assignKey(l.ruleID, cartID))
	return string(v), err
}

// Claim claims code for cartID unless another cart holds it; a cart claiming its own code
// wins again. A won claim becomes the cart's assignment.
func (l *Ledger) Claim(code, cartID string) (bool, error) {
	s := l.store
	ctx, cancel := s.context()
	defer cancel()
	owner := hashID(cartID)
	claimed, fresh, err := s.firstWriter(ctx, s.claimKey(code), s.lockName("claim", claimID(code)), "pool code", []byte(owner))
	if err != nil || string(claimed) != owner {
		return false, err
	}
	key := s.assignKey(l.ruleID, cartID)
	if !fresh {
		if v, _, err := s.load(ctx, key); err != nil || string(v) == code {
			return err == nil, err
		}
	}
	if err := s.storage.Store(ctx, key, []byte(code)); err != nil {
		return false, fmt.Errorf("store the cart's pool code in %s: %w", s, err)
	}
	return true, nil
}

// PinFirst pins cartID to ecid unless another identity owns it, and returns the owner: ecid,
// or an opaque value standing for the other identity. It implements trust.PinStore.
func (s *Store) PinFirst(cartID, ecid string) (string, error) {
	ctx, cancel := s.context()
	defer cancel()
	mine := hashID(ecid)
	owner, _, err := s.firstWriter(ctx, s.pinKey(cartID), s.lockName("pin", hashID(cartID)), "cart pin", []byte(mine))
	switch {
	case err != nil:
		return "", err
	case string(owner) == mine:
		return ecid, nil
	}
	return "other:" + string(owner), nil
}
