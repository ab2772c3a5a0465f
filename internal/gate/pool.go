package gate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// Limits of a coupon pool.
const (
	maxPoolCodes    = 1_000_000 // codes read from one coupons_file
	poolAssignments = 100_000   // carts whose pool code is remembered
	minPoolPrefix   = 3         // shortest common prefix that makes scrubbing fast
)

// Pool code states.
const (
	codeFree  uint8 = iota // not handed out by this process
	codeTaken              // assigned to a cart
	codeSpent              // Magento refused it (used up): never handed out again
)

// Pool is the pool of single-use Magento codes of one enforced rule (its coupons_file):
// each cart gets a code of its own. Assignments live in memory, or are shared through a
// Ledger by a fleet of instances (see ledger.go); a cart that already holds a code of the
// pool (after a restart) keeps it.
type Pool struct {
	ruleID string
	path   string
	sum    [sha256.Size]byte // of the file, to keep the state across rule reloads

	codes  []string       // as written in the file
	index  map[string]int // upper-case code → position in codes
	prefix string         // upper-case longest common prefix of the codes
	minLen int
	maxLen int

	exhausted atomic.Bool // the pool ran out of codes (logged once)

	mu       sync.Mutex
	state    []uint8
	next     int // every code at a walk position before next has been handed out
	offset   int // where the walk starts: 0 in memory, random once shared (see pos)
	spread   bool
	assigned *lru.Cache[string, int]
}

// pos is the index of the code at walk position k: the walk starts at offset and wraps.
func (p *Pool) pos(k int) int { return (p.offset + k) % len(p.codes) }

// loadPool reads a coupons_file: one code per line, blank lines and lines starting with #
// skipped. Codes are letters, digits, "-" and "_" (what Magento generates), so that they can
// be found in responses.
func loadPool(ruleID, path string) (*Pool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &Pool{ruleID: ruleID, path: path, sum: sha256.Sum256(raw), index: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		code := strings.TrimSpace(sc.Text())
		if code == "" || strings.HasPrefix(code, "#") {
			continue
		}
		if !sanitize.AllCodeChars(code) {
			return nil, fmt.Errorf("line %d: a pool code has only letters, digits, - and _", line)
		}
		upper := strings.ToUpper(code)
		if _, dup := p.index[upper]; dup {
			return nil, fmt.Errorf("line %d: duplicate code", line)
		}
		if len(p.codes) == maxPoolCodes {
			return nil, fmt.Errorf("more than %d codes", maxPoolCodes)
		}
		p.index[upper] = len(p.codes)
		p.codes = append(p.codes, code)
		p.prefix = commonPrefix(p.prefix, upper, len(p.codes) == 1)
		if p.minLen == 0 || len(code) < p.minLen {
			p.minLen = len(code)
		}
		p.maxLen = max(p.maxLen, len(code))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(p.codes) == 0 {
		return nil, errors.New("no codes")
	}
	p.state = make([]uint8, len(p.codes))
	p.assigned, _ = lru.New[string, int](poolAssignments)
	return p, nil
}

func commonPrefix(prefix, code string, first bool) string {
	if first {
		return code
	}
	n := 0
	for n < len(prefix) && n < len(code) && prefix[n] == code[n] {
		n++
	}
	return prefix[:n]
}

// fastScrub reports whether the pool's codes can be found in a body by their common prefix.
func (p *Pool) fastScrub() bool { return len(p.prefix) >= minPoolPrefix }

// has reports whether code belongs to the pool.
func (p *Pool) has(code string) bool {
	_, ok := p.index[strings.ToUpper(code)]
	return ok
}

// assign returns the pool code of a cart: one of the pool's codes the cart already holds
// (adopted), else the code handed to it before, else the next code not yet handed out. It
// returns "" for a cart without id or when the pool is used up. With a ledger the
// assignment is shared (see assignShared); claim says whether a new code may be claimed.
func (p *Pool) assign(cartID string, held []string, l Ledger, claim bool) (string, error) {
	if cartID == "" {
		return "", nil
	}
	if l != nil {
		return p.assignShared(cartID, held, l, claim)
	}
	return p.assignLocal(cartID, held), nil
}

// assignLocal is assign in memory: this process is the only one handing out the codes.
func (p *Pool) assignLocal(cartID string, held []string) string {
	if cartID == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range held {
		if i, ok := p.index[strings.ToUpper(c)]; ok && p.state[i] != codeSpent {
			p.state[i] = codeTaken
			p.assigned.Add(cartID, i)
			return p.codes[i]
		}
	}
	if i, ok := p.assigned.Get(cartID); ok && p.state[i] != codeSpent {
		return p.codes[i]
	}
	i, ok := p.takeNext()
	if !ok {
		return ""
	}
	p.assigned.Add(cartID, i)
	return p.codes[i]
}

// takeNext takes the next code of the walk not handed out yet; p.mu must be held.
func (p *Pool) takeNext() (int, bool) {
	for ; p.next < len(p.codes); p.next++ {
		if i := p.pos(p.next); p.state[i] == codeFree {
			p.state[i] = codeTaken
			return i, true
		}
	}
	return 0, false
}

// spend marks a code Magento refused: no cart gets it again.
func (p *Pool) spend(code string) {
	i, ok := p.index[strings.ToUpper(code)]
	if !ok {
		return
	}
	p.mu.Lock()
	p.state[i] = codeSpent
	p.mu.Unlock()
}

// spendAssigned marks the code assigned to a cart as refused, if it has one.
func (p *Pool) spendAssigned(cartID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.assigned.Peek(cartID); ok {
		p.state[i] = codeSpent
	}
}

// Left counts the codes not handed out yet, as far as this process knows.
func (p *Pool) Left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k := p.next; k < len(p.codes); k++ {
		if p.state[p.pos(k)] == codeFree {
			n++
		}
	}
	return n
}

// addCodes puts the pool's codes into the gate's set.
func (p *Pool) addCodes(set Codes) {
	for upper := range p.index {
		set[upper] = struct{}{}
	}
}

// found appends the pool's codes that occur in body (case-insensitively), found by the
// pool's common prefix: every occurrence is extended over code characters and every length
// a pool code can have is looked up. Strings JSON-escaped or written with non-ASCII case
// variants are searched after decoding.
func (p *Pool) found(body []byte, out []string) []string {
	out = p.foundIn(body, out)
	if !mayHideCodes(body) {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out // the end, or not JSON: then the bytes are all there is, and were searched
		}
		if s, ok := tok.(string); ok {
			out = p.foundIn([]byte(foldString(s)), out)
		}
	}
}

// foldString maps the non-ASCII letters of s that fold to ASCII ones (the Kelvin sign, the
// long s) to them.
func foldString(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 }) {
		return s
	}
	return strings.ToUpper(strings.ToLower(s))
}

// mayHideCodes reports whether body has \u escapes or non-ASCII letters that fold to ASCII
// (the Kelvin sign, the long s), which can hide a code from a byte search.
func mayHideCodes(body []byte) bool {
	return bytes.Contains(body, []byte(`\u`)) || bytes.Contains(body, []byte("\u212a")) || bytes.Contains(body, []byte("\u017f"))
}

// foundIn is found on plain bytes.
func (p *Pool) foundIn(b []byte, out []string) []string {
	var key [64]byte
	for from := 0; ; {
		i := indexFoldASCII(b, p.prefix, from)
		if i < 0 {
			return out
		}
		from = i + 1
		end := i
		for end < len(b) && end-i < p.maxLen && sanitize.IsCodeChar(b[end]) {
			end++
		}
		for n := p.minLen; i+n <= end; n++ {
			k := key[:0]
			if n > len(key) {
				k = make([]byte, 0, n)
			}
			for _, c := range b[i : i+n] {
				k = append(k, upperASCII(c))
			}
			if j, ok := p.index[string(k)]; ok && !slices.Contains(out, p.codes[j]) {
				out = append(out, p.codes[j])
			}
		}
	}
}

// indexFoldASCII returns the first offset from from where b holds s, ignoring ASCII case,
// or -1. s is upper case.
func indexFoldASCII(b []byte, s string, from int) int {
	lo, up := s[0], s[0]
	if 'A' <= up && up <= 'Z' {
		lo = up + 'a' - 'A'
	}
	for i := from; i+len(s) <= len(b); i++ {
		j := indexEither(b[i:len(b)-len(s)+1], lo, up)
		if j < 0 {
			return -1
		}
		i += j
		if equalFoldUpper(b[i:i+len(s)], s) {
			return i
		}
	}
	return -1
}

// indexEither returns the first offset of lo or up in b, or -1.
func indexEither(b []byte, lo, up byte) int {
	i := bytes.IndexByte(b, lo)
	if lo == up {
		return i
	}
	if j := bytes.IndexByte(b, up); j >= 0 && (i < 0 || j < i) {
		return j
	}
	return i
}

func equalFoldUpper(b []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		if upperASCII(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// PoolCache keeps the pools of a handler across rule reloads: a pool whose rule and file are
// unchanged keeps its assignments and spent codes.
type PoolCache struct {
	mu    sync.Mutex
	pools map[string]*Pool // rule id + "\n" + path
}

// Load returns the pool of a rule, reusing the previous one when the file is the same.
func (c *PoolCache) Load(ruleID, path string) (*Pool, error) {
	p, err := loadPool(ruleID, path)
	if err != nil {
		return nil, fmt.Errorf("coupons_file %s: %w", path, err)
	}
	key := ruleID + "\n" + path
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.pools[key]; old != nil && old.sum == p.sum {
		return old, nil
	}
	if c.pools == nil {
		c.pools = map[string]*Pool{}
	}
	c.pools[key] = p
	return p, nil
}
