package gate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Ledger shares one pool's assignments among the instances of a fleet (see internal/fleet):
// a code claimed once is claimed for good, by one cart, whichever instance asks, and each
// cart's code is known to every instance.
type Ledger interface {
	// Assigned returns the code last claimed for cartID, or "" when none was.
	Assigned(cartID string) (code string, err error)
	// Claim claims code for cartID unless another cart holds it; claiming a code the cart
	// already holds wins again. A won claim becomes the cart's assignment.
	Claim(code, cartID string) (won bool, err error)
}

// maxClaimsPerAssign bounds the codes one assignment tries to claim: past that many claims
// lost to other instances the cart's sync fails (and is tried again on its next read)
// instead of walking a used-up pool code by code.
const maxClaimsPerAssign = 32

// errClaimNeeded reports a cart that needs a new pool code while no claim may be made: the
// caller is deciding without the cart's lock, and must take it to claim.
var errClaimNeeded = errors.New("the cart needs a new pool code")

// assignShared is assign with a ledger, the local assignments in front of it: a code of the
// pool the cart holds is adopted when the cart wins its claim (a code claimed by another cart
// is not adopted, so Decide removes it); else the code this process or the ledger knows the
// cart by; else, when claim is set, the next code this process has not seen claimed, walked
// from a random start so that instances seldom race for the same code. The pool's mutex is
// never held across a ledger call.
func (p *Pool) assignShared(cartID string, held []string, l Ledger, claim bool) (string, error) {
	for _, c := range held {
		i, ok := p.index[strings.ToUpper(c)]
		if !ok || p.spent(i) {
			continue
		}
		if j, known := p.cached(cartID); known && j == i {
			return p.codes[i], nil
		}
		won, err := l.Claim(p.codes[i], cartID)
		if err != nil {
			return "", fmt.Errorf("claim the pool code the cart holds: %w", err)
		}
		p.take(i, won, cartID)
		if won {
			return p.codes[i], nil
		}
	}
	if i, ok := p.cached(cartID); ok && !p.spent(i) {
		return p.codes[i], nil
	}
	code, err := l.Assigned(cartID)
	if err != nil {
		return "", fmt.Errorf("read the cart's pool code: %w", err)
	}
	if i, ok := p.index[strings.ToUpper(code)]; ok && !p.spent(i) {
		p.take(i, true, cartID)
		return p.codes[i], nil
	}
	if !claim {
		return "", errClaimNeeded
	}
	for range maxClaimsPerAssign {
		i, ok := p.nextFree()
		if !ok {
			return "", nil // used up
		}
		won, err := l.Claim(p.codes[i], cartID)
		if err != nil {
			// The code stays taken here: the claim may have been stored before the error.
			return "", fmt.Errorf("claim a pool code: %w", err)
		}
		if won {
			p.take(i, true, cartID)
			return p.codes[i], nil
		}
	}
	return "", fmt.Errorf("claim a pool code: %d codes in a row were claimed by other instances", maxClaimsPerAssign)
}

// spent reports whether the code at i was refused by Magento.
func (p *Pool) spent(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state[i] == codeSpent
}

// cached returns the code index this process remembers for a cart.
func (p *Pool) cached(cartID string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.assigned.Get(cartID)
}

// take marks the code at i as handed out and, when the cart owns it, remembers it as the
// cart's.
func (p *Pool) take(i int, owned bool, cartID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state[i] == codeFree {
		p.state[i] = codeTaken
	}
	if owned {
		p.assigned.Add(cartID, i)
	}
}

// nextFree takes the next code of the walk this process has not seen handed out; the first
// time, the walk starts at a random code.
func (p *Pool) nextFree() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.spread {
		p.spread = true
		if p.next == 0 {
			p.offset = rand.IntN(len(p.codes))
		}
	}
	return p.takeNext()
}
