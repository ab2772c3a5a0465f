package cartql

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// CartVariable is the variable of CartQuery that carries the masked cart id.
const CartVariable = HiddenPrefix + "cart"

// cartQuery is the refetch query of one site.
type cartQuery struct {
	query string
	vars  []string // the operation variables it uses
	err   error
}

// CartQuery returns a query that reads the cart of site again, with the site's own selection
// (the client's, hidden fields included), under the site's response key:
//
//	query ($_aud_cart: String!, $v: T) { key: cart(cart_id: $_aud_cart) { ... } } fragment ...
//
// It carries the fragments the selection uses and the operation's definitions of the
// variables it uses (CartQueryVariables gives their values). After a mutation, its answer's
// data[key] is the mutation's cart as it is now, ready for SpliceCart: a mutation is never
// replayed. Selections under @skip/@include keep their conditions.
func (p *Plan) CartQuery(site int) (string, error) {
	if site < 0 || site >= len(p.sites) {
		return "", fmt.Errorf("cart query: no site %d in a plan with %d", site, len(p.sites))
	}
	p.cartQueriesOnce.Do(p.buildCartQueries)
	q := p.cartQueries[site]
	return q.query, q.err
}

// CartQueryVariables returns the variables of CartQuery(site): the client's values of the
// variables it uses and cartID as CartVariable.
func (p *Plan) CartQueryVariables(site int, clientVars map[string]any, cartID string) map[string]any {
	out := map[string]any{CartVariable: cartID}
	if site < 0 || site >= len(p.sites) {
		return out
	}
	p.cartQueriesOnce.Do(p.buildCartQueries)
	for _, name := range p.cartQueries[site].vars {
		if v, ok := clientVars[name]; ok {
			out[name] = v
		}
	}
	return out
}

// buildCartQueries writes the refetch query of every site from the augmented query, parsed
// again: plans keep no syntax tree, and refetching is rare.
func (p *Plan) buildCartQueries() {
	p.cartQueries = make([]cartQuery, len(p.sites))
	b, err := newCartQueryBuilder(p.augmented, p.operationName)
	for i, s := range p.sites {
		if err != nil {
			p.cartQueries[i].err = fmt.Errorf("cart query: %w", err)
			continue
		}
		q, vars, err := b.build(s)
		if err != nil {
			err = fmt.Errorf("cart query for %v: %w", s.Path, err)
		}
		p.cartQueries[i] = cartQuery{query: q, vars: vars, err: err}
	}
}

// cartQueryBuilder cuts cart selections and fragments out of an augmented query.
type cartQueryBuilder struct {
	src     string
	op      *ast.OperationDefinition
	frags   map[string]*ast.FragmentDefinition
	order   []string // fragment names in document order
	col     *collector
	roots   []occ
	toks    []lexer.Token
	offsets func(int) int
}

func newCartQueryBuilder(src, operationName string) (*cartQueryBuilder, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: src})
	if err != nil {
		return nil, err
	}
	op, err := operation(doc, operationName)
	if err != nil {
		return nil, err
	}
	b := &cartQueryBuilder{src: src, op: op, frags: map[string]*ast.FragmentDefinition{}, offsets: runeOffsets(src)}
	for _, f := range doc.Fragments {
		if _, dup := b.frags[f.Name]; !dup {
			b.frags[f.Name] = f
			b.order = append(b.order, f.Name)
		}
	}
	b.col = &collector{frags: b.frags}
	b.roots = b.col.collect(op.SelectionSet)
	if b.col.err != nil {
		return nil, b.col.err
	}
	if b.toks, err = tokens(src); err != nil {
		return nil, err
	}
	return b, nil
}

// occurrences returns the cart fields of site s in the augmented document, each with the
// conditions between the operation and it.
func (b *cartQueryBuilder) occurrences(s *site) []occ {
	parts := strings.Split(s.Field, ".")
	var out []occ
	for _, o := range b.roots {
		if o.key != s.Path[0] || o.f.Name != parts[1] {
			continue
		}
		if len(s.Path) == 1 {
			out = append(out, o)
			continue
		}
		for _, c := range b.col.collect(o.f.SelectionSet) {
			if c.key == s.Path[1] && len(parts) == 3 && c.f.Name == parts[2] {
				c.conds = append(o.conds[:len(o.conds):len(o.conds)], c.conds...)
				out = append(out, c)
			}
		}
	}
	return out
}

// build writes the refetch query of site s and lists the variables it uses.
func (b *cartQueryBuilder) build(s *site) (string, []string, error) {
	occs := b.occurrences(s)
	if len(occs) == 0 {
		return "", nil, errors.New("cart field not found")
	}
	u := usage{frags: b.frags, seen: map[string]bool{}}
	var sel strings.Builder
	for _, o := range occs {
		open, end, err := selectionBounds(b.toks, o.f.Position.Start)
		if err != nil {
			return "", nil, err
		}
		inner := b.src[b.offsets(open.Pos.Start)+1 : b.offsets(end.Pos.Start)]
		u.selection(o.f.SelectionSet)
		if len(o.conds) == 0 {
			sel.WriteString(inner)
			sel.WriteByte('\n')
			continue
		}
		sel.WriteString("... ")
		for _, k := range o.conds {
			name, arg := "include", "$"+k.variable
			if k.skip {
				name = "skip"
			}
			if k.variable == "" {
				arg = fmt.Sprint(k.value)
			} else {
				u.variable(k.variable)
			}
			fmt.Fprintf(&sel, "@%s(if: %s) ", name, arg)
		}
		sel.WriteString("{")
		sel.WriteString(inner)
		sel.WriteString("\n}\n")
	}
	if u.err != nil {
		return "", nil, u.err
	}
	var q strings.Builder
	q.WriteString("query ($" + CartVariable + ": String!")
	for _, name := range u.vars {
		def := b.op.VariableDefinitions.ForName(name)
		if def == nil {
			return "", nil, fmt.Errorf("variable $%s is not defined", name)
		}
		q.WriteString(", $" + name + ": " + def.Type.String())
		if def.DefaultValue != nil {
			q.WriteString(" = ")
			q.Write(appendGraphQLValue(nil, def.DefaultValue))
		}
	}
	fmt.Fprintf(&q, ") {\n%s: cart(cart_id: $%s) {\n%s}\n}\n", s.Path[len(s.Path)-1], CartVariable, sel.String())
	for _, name := range b.order {
		if !u.seen[name] {
			continue
		}
		f := b.frags[name]
		_, end, err := selectionBounds(b.toks, f.Position.Start)
		if err != nil {
			return "", nil, err
		}
		q.WriteString(b.src[b.offsets(f.Position.Start) : b.offsets(end.Pos.Start)+1])
		q.WriteByte('\n')
	}
	return q.String(), u.vars, nil
}

// usage collects the fragments and variables a selection uses, transitively.
type usage struct {
	frags map[string]*ast.FragmentDefinition
	seen  map[string]bool // fragments
	vars  []string
	err   error
}

func (u *usage) selection(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				u.value(a.Value)
			}
			u.directives(s.Directives)
			u.selection(s.SelectionSet)
		case *ast.InlineFragment:
			u.directives(s.Directives)
			u.selection(s.SelectionSet)
		case *ast.FragmentSpread:
			u.directives(s.Directives)
			if u.seen[s.Name] {
				continue
			}
			def := u.frags[s.Name]
			if def == nil {
				u.err = fmt.Errorf("unknown fragment %q", s.Name)
				return
			}
			u.seen[s.Name] = true
			u.directives(def.Directives)
			u.selection(def.SelectionSet)
		}
	}
}

func (u *usage) directives(dirs ast.DirectiveList) {
	for _, d := range dirs {
		for _, a := range d.Arguments {
			u.value(a.Value)
		}
	}
}

func (u *usage) value(v *ast.Value) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		u.variable(v.Raw)
		return
	}
	for _, c := range v.Children {
		u.value(c.Value)
	}
}

func (u *usage) variable(name string) {
	if !slices.Contains(u.vars, name) {
		u.vars = append(u.vars, name)
	}
}

// selectionBounds returns the braces of the selection set of the field or fragment
// definition whose first token starts at rune offset start.
func selectionBounds(toks []lexer.Token, start int) (open, end lexer.Token, err error) {
	i, found := slices.BinarySearchFunc(toks, start, func(t lexer.Token, s int) int { return t.Pos.Start - s })
	if !found {
		return open, end, errNoSelection
	}
	parens, braces := 0, 0
	for ; i < len(toks); i++ {
		switch toks[i].Kind {
		case lexer.ParenL:
			parens++
		case lexer.ParenR:
			parens--
		case lexer.BraceL:
			if parens > 0 {
				continue
			}
			if braces == 0 {
				open = toks[i]
			}
			braces++
		case lexer.BraceR:
			if parens > 0 {
				continue
			}
			braces--
			if braces == 0 {
				return open, toks[i], nil
			}
			if braces < 0 {
				return open, end, errNoSelection
			}
		}
	}
	return open, end, errNoSelection
}

// appendGraphQLValue writes a constant GraphQL value; strings are written with JSON escapes,
// which GraphQL shares.
func appendGraphQLValue(b []byte, v *ast.Value) []byte {
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return appendJSONString(b, v.Raw)
	case ast.Variable:
		return append(append(b, '$'), v.Raw...)
	case ast.NullValue:
		return append(b, "null"...)
	case ast.ListValue:
		b = append(b, '[')
		for i, c := range v.Children {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendGraphQLValue(b, c.Value)
		}
		return append(b, ']')
	case ast.ObjectValue:
		b = append(b, '{')
		for i, c := range v.Children {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(append(b, c.Name...), ": "...)
			b = appendGraphQLValue(b, c.Value)
		}
		return append(b, '}')
	default:
		return append(b, v.Raw...)
	}
}

// SpliceCart returns body (a response to the augmented operation) with the cart object of
// site replaced by cartObject, a cart read with CartQuery(site). It fails when the site's
// path is missing or null in body, or runs through a list.
func (p *Plan) SpliceCart(body []byte, site int, cartObject []byte) ([]byte, error) {
	if site < 0 || site >= len(p.sites) {
		return nil, fmt.Errorf("splice cart: no site %d in a plan with %d", site, len(p.sites))
	}
	path := p.sites[site].Path
	rw := getRewriter()
	defer putRewriter(rw)
	cartObject = bytes.TrimSpace(cartObject)
	if err := rw.t.parse(cartObject); err != nil {
		return nil, fmt.Errorf("splice cart: %w", err)
	}
	if rw.t.kind(0) != kindObject {
		return nil, errors.New("splice cart: the cart is not an object")
	}
	n, err := rw.begin(body, wholeShapes)
	if err != nil {
		return nil, fmt.Errorf("splice cart: %w", err)
	}
	t := &rw.t
	for i, key := range path {
		n = t.member(n, key)
		switch t.kind(n) {
		case kindObject:
			continue
		case 0:
			err = fmt.Errorf("missing %q", key)
		case kindNull:
			err = fmt.Errorf("%q is null", key)
		case kindArray:
			err = fmt.Errorf("%q is a list", key)
		default:
			err = fmt.Errorf("%q is not an object", key)
		}
		return nil, fmt.Errorf("splice cart at %v: %w", path[:i+1], err)
	}
	nd := &t.nodes[n]
	out := make([]byte, 0, len(body)-int(nd.end-nd.start)+len(cartObject))
	out = append(out, body[:nd.start]...)
	out = append(out, cartObject...)
	return append(out, body[nd.end:]...), nil
}
