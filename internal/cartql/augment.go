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

// Hidden aliases added to every cart selection.
const (
	hiddenItems   = HiddenPrefix + "items"
	hiddenPrices  = HiddenPrefix + "prices"
	hiddenCoupons = HiddenPrefix + "coupons"
	hiddenShip    = HiddenPrefix + "ship"
	hiddenID      = HiddenPrefix + "id"
	hiddenV2      = HiddenPrefix + "v2_"
	// hiddenCartKey is the cart added to a coupon mutation whose client selected no cart.
	hiddenCartKey = HiddenPrefix + "cart"
)

// hiddenCart is what the rewrite needs of every cart: the complete item list with what the
// engine reads, the currency and taxes, the applied coupons, the shipping amount and the
// masked cart id. It is ASCII without newlines, so error locations map back by a column shift.
const hiddenCart = " " + hiddenItems + ":items{__typename uid quantity product{sku}" +
	" prices{price{value} row_total{value} total_item_discount{value}}}" +
	" " + hiddenPrices + ":prices{subtotal_excluding_tax{value currency} applied_taxes{label amount{value}}}" +
	" " + hiddenCoupons + ":applied_coupons{code}" +
	" " + hiddenShip + ":shipping_addresses{selected_shipping_method{amount{value}}}" +
	" " + hiddenID + ":id"

// insertion is hidden text inserted into the client's query before the closing brace of a
// cart selection set.
type insertion struct {
	offset    int // byte offset of the brace
	line, col int // the brace's position as GraphQL reports it (1-based, in runes)
	text      string
}

// augment computes the hidden fields of every cart site and where they go in the query text.
// It fills v2alias (printed itemsV2 arguments → hidden alias).
func augment(query string, col *collector, sites []*site, v2alias map[string]string) ([]insertion, error) {
	type target struct {
		f  *ast.Field
		v2 []string
	}
	var targets []*target
	for _, s := range sites {
		var v2 []string
		for _, o := range col.collectAll(s.fields) {
			if o.f.Name != "itemsV2" {
				continue
			}
			args := printArgs(o.f.Arguments)
			if _, ok := v2alias[args]; !ok {
				v2alias[args] = fmt.Sprintf("%s%d", hiddenV2, len(v2alias))
			}
			if !slices.Contains(v2, args) {
				v2 = append(v2, args)
			}
		}
		for _, o := range s.fields {
			i := slices.IndexFunc(targets, func(t *target) bool { return t.f == o.f })
			if i < 0 {
				targets = append(targets, &target{f: o.f})
				i = len(targets) - 1
			}
			for _, a := range v2 {
				if !slices.Contains(targets[i].v2, a) {
					targets[i].v2 = append(targets[i].v2, a)
				}
			}
		}
	}
	if col.err != nil {
		return nil, col.err
	}
	toks, err := tokens(query)
	if err != nil {
		return nil, err
	}
	offsets := runeOffsets(query)
	ins := make([]insertion, 0, len(targets))
	for _, t := range targets {
		brace, err := closingBrace(toks, t.f)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		b.WriteString(hiddenCart)
		for _, a := range t.v2 {
			fmt.Fprintf(&b, " %s:itemsV2%s{items{uid}}", v2alias[a], a)
		}
		ins = append(ins, insertion{
			offset: offsets(brace.Pos.Start),
			line:   brace.Pos.Line,
			col:    brace.Pos.Column,
			text:   b.String(),
		})
	}
	for _, s := range sites {
		if !s.hidden {
			continue
		}
		brace, err := closingBrace(toks, s.root)
		if err != nil {
			return nil, err
		}
		via := s.Field[strings.LastIndexByte(s.Field, '.')+1:]
		ins = append(ins, insertion{
			offset: offsets(brace.Pos.Start),
			line:   brace.Pos.Line,
			col:    brace.Pos.Column,
			text:   " " + hiddenCartKey + ":" + via + "{" + hiddenCart[1:] + "}",
		})
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
