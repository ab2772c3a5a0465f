package cartql

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// HiddenPrefix starts every alias the planner adds. It does not begin with "__", which GraphQL
// reserves. A query whose text already contains it is passed through, so a client's own field
// is never stripped.
const HiddenPrefix = "_aud_"

// Hidden aliases of the cart-level facts (see cartNeeds).
const (
	hiddenItems   = HiddenPrefix + "items"
	hiddenPrices  = HiddenPrefix + "prices"
	hiddenCoupons = HiddenPrefix + "coupons"
	hiddenShip    = HiddenPrefix + "ship"
	hiddenID      = HiddenPrefix + "id"
	hiddenUID     = HiddenPrefix + "uid"
	// hiddenCartKey is the cart added to a coupon mutation whose client selected no cart.
	hiddenCartKey = HiddenPrefix + "cart"
)

// insertion is hidden text inserted into the client's query before the closing brace of a
// selection set.
type insertion struct {
	offset    int // byte offset of the brace
	line, col int // the brace's position as GraphQL reports it (1-based, in runes)
	text      string
}

// augment decides for every cart site which facts the rewrite reads from the client's own
// fields and which it adds under hidden aliases (all of them with hiddenOnly), fills the
// sites' reads and page uids, and returns where the hidden text goes in the query. Hidden
// text is ASCII without newlines, so error locations map back by a column shift.
func augment(query string, col *collector, sites []*site, hiddenOnly bool) ([]insertion, error) {
	rv := &resolver{col: col}
	for _, s := range sites {
		if s.hidden {
			rv.hiddenCart(s)
			continue
		}
		targets := make([]*ast.Field, 0, len(s.fields))
		for _, o := range s.fields {
			if !slices.Contains(targets, o.f) {
				targets = append(targets, o.f)
			}
		}
		anchors := anchors(s.fields)
		if hiddenOnly {
			anchors = nil
		}
		rv.cart(anchors, targets, &s.reads)
		s.pageUID = rv.pageUIDs(s.fields)
	}
	if col.err != nil {
		return nil, col.err
	}
	return rv.insertions(query)
}

// anchors are the occurrences of a site's cart field whose selections are in the response
// whenever the cart is: the only occurrence, or those without conditions.
func anchors(fields []occ) []occ {
	if len(fields) == 1 {
		return fields
	}
	var out []occ
	for _, o := range fields {
		if alwaysIncluded(o.conds) {
			out = append(out, o)
		}
	}
	return out
}

// cart resolves the facts of one cart: read below the anchors where the client selects them,
// added to every occurrence of the cart field (targets) where it does not.
func (rv *resolver) cart(anchors []occ, targets []*ast.Field, r *reads) {
	var children []occ
	if len(anchors) > 0 {
		children = rv.col.collectAll(anchors)
	}
	for _, k := range cartNeeds.kids {
		key, occs, _ := rv.best(children, cartNeeds.types, k)
		if key != "" {
			*k.slot(r) = key
			rv.resolve(occs, k, r, true)
			continue
		}
		*k.slot(r) = k.alias
		k.fillPlain(r)
		text := k.hiddenField()
		for _, f := range targets {
			rv.requests = append(rv.requests, request{field: f, text: text})
		}
	}
}

// hiddenCart adds a complete hidden cart to the coupon mutation of site s.
func (rv *resolver) hiddenCart(s *site) {
	var b strings.Builder
	b.WriteString(" " + hiddenCartKey + ":" + s.Field[strings.LastIndexByte(s.Field, '.')+1:] + "{")
	for i, k := range cartNeeds.kids {
		*k.slot(&s.reads) = k.alias
		k.fillPlain(&s.reads)
		text := k.hiddenField()
		if i == 0 {
			text = text[1:]
		}
		b.WriteString(text)
	}
	b.WriteByte('}')
	rv.requests = append(rv.requests, request{field: s.root, text: b.String()})
}

// pageUIDs decides how the items of every client itemsV2 page are matched to the complete
// list: by the client's own uid when every occurrence of the page's item list selects it
// under one key, else by a hidden uid added to every occurrence. The result maps
// "itemsV2 key.items key" to the uid's key.
func (rv *resolver) pageUIDs(fields []occ) map[string]string {
	all := func(occ) bool { return true }
	out := map[string]string{}
	for _, g := range groupBy(rv.col.collectAll(fields), all) {
		if g.name != "itemsV2" {
			continue
		}
		for _, ig := range groupBy(rv.col.collectAll(g.occs), all) {
			if ig.name != "items" {
				continue
			}
			key := ""
			for _, o := range ig.occs {
				k := ""
				for _, c := range rv.col.collect(o.f.SelectionSet) {
					if c.f.Name == "uid" && reliable(c, []string{"CartItemInterface"}) {
						k = c.key
						break
					}
				}
				if k == "" || (key != "" && k != key) {
					key = ""
					break
				}
				key = k
			}
			if key == "" {
				key = hiddenUID
				for _, o := range ig.occs {
					rv.requests = append(rv.requests, request{field: o.f, text: " " + hiddenUID + ":uid"})
				}
			}
			out[g.key+"."+ig.key] = key
		}
	}
	return out
}

// insertions turns the requests into text inserted before the closing braces, one insertion
// per selection set, each hidden field once.
func (rv *resolver) insertions(query string) ([]insertion, error) {
	if len(rv.requests) == 0 {
		return nil, nil
	}
	toks, err := tokens(query)
	if err != nil {
		return nil, err
	}
	offsets := runeOffsets(query)
	var ins []insertion
	var texts [][]string
	for _, rq := range rv.requests {
		brace, err := closingBrace(toks, rq.field)
		if err != nil {
			return nil, err
		}
		off := offsets(brace.Pos.Start)
		i := slices.IndexFunc(ins, func(in insertion) bool { return in.offset == off })
		if i < 0 {
			ins = append(ins, insertion{offset: off, line: brace.Pos.Line, col: brace.Pos.Column})
			texts = append(texts, nil)
			i = len(ins) - 1
		}
		if !slices.Contains(texts[i], rq.text) {
			texts[i] = append(texts[i], rq.text)
			ins[i].text += rq.text
		}
	}
	sortInsertions(ins)
	return ins, nil
}

// sortInsertions orders insertions by their offset in the query, keeping the order of
// insertions at the same brace.
func sortInsertions(ins []insertion) {
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].offset < ins[j].offset })
}

// tokens lexes the query, without comments.
func tokens(query string) ([]lexer.Token, error) {
	lx := lexer.New(&ast.Source{Input: query})
	var out []lexer.Token
	for {
		tok, err := lx.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("lex query: %w", err)
		}
		switch tok.Kind {
		case lexer.EOF:
			return out, nil
		case lexer.Comment:
			continue
		}
		out = append(out, tok)
	}
}

var errNoSelection = errors.New("cart field without a selection set")

// closingBrace finds the token that closes the selection set of f.
func closingBrace(toks []lexer.Token, f *ast.Field) (lexer.Token, error) {
	_, end, err := selectionBounds(toks, f.Position.Start)
	return end, err
}

// runeOffsets returns a function converting the lexer's rune offsets into byte offsets.
func runeOffsets(s string) func(int) int {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return func(r int) int { return r }
	}
	var starts []int
	for i := range s {
		starts = append(starts, i)
	}
	starts = append(starts, len(s))
	return func(r int) int {
		if r < 0 || r >= len(starts) {
			return len(s)
		}
		return starts[r]
	}
}

// applyInsertions returns the query with the hidden text inserted.
func applyInsertions(query string, ins []insertion) string {
	var b strings.Builder
	n := len(query)
	for _, in := range ins {
		n += len(in.text)
	}
	b.Grow(n)
	last := 0
	for _, in := range ins {
		b.WriteString(query[last:in.offset])
		b.WriteString(in.text)
		last = in.offset
	}
	b.WriteString(query[last:])
	return b.String()
}

// remapColumn maps a column on line of the augmented query back to the client's query.
func remapColumn(ins []insertion, line, col int) int {
	shift := 0
	for _, in := range ins {
		if in.line != line {
			continue
		}
		at := in.col + shift // where the hidden text starts in the augmented query
		switch {
		case col >= at+len(in.text):
			shift += len(in.text)
		case col >= at:
			return in.col // inside hidden text: point at the cart's closing brace
		default:
			return col - shift
		}
	}
	return col - shift
}
