package cartql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// Hidden keys the merchandising sites read.
const (
	hiddenMerchSKU  = HiddenPrefix + "msku"
	hiddenMerchType = HiddenPrefix + "mtype"
	hiddenMerchID   = HiddenPrefix + "mid"
)

// maxMerchDepth bounds how deep the planner follows selections looking for product lists.
const maxMerchDepth = 24

// merchPlanner finds the product lists and blocks fields of one operation.
type merchPlanner struct {
	query   string
	toks    []lexer.Token
	offsets func(int) int
	op      *ast.OperationDefinition
	frags   map[string]*ast.FragmentDefinition
	lists   []ListSite
	blocks  []BlockSite
	ins     []insertion // one per closing brace
	// walked holds the fragments already walked, with the response path they were walked
	// at: a fragment spread again at the same path adds nothing (and spreads that spread
	// each other would otherwise be walked exponentially often).
	walked map[string]bool
	err    error
}

// findMerch returns the product lists and blocks fields the operation selects and the hidden
// fields to insert for them: the SKU and type of each product whose list is selected, the SKU
// of each listed product, the id of each block.
func findMerch(query string, op *ast.OperationDefinition, frags map[string]*ast.FragmentDefinition) ([]ListSite, []BlockSite, []insertion, error) {
	if !mentionsMerch(query) || op.Operation != ast.Query {
		return nil, nil, nil, nil
	}
	toks, err := tokens(query)
	if err != nil {
		return nil, nil, nil, err
	}
	m := &merchPlanner{query: query, toks: toks, offsets: runeOffsets(query), op: op, frags: frags, walked: map[string]bool{}}
	m.walk(op.SelectionSet, nil, nil, 0)
	return m.lists, m.blocks, m.ins, m.err
}

// mentionsMerch is a quick text test before any walking.
func mentionsMerch(query string) bool { return containsAny(query, merchNames) }

// merchNames are the words every merchandised field's name contains.
var merchNames = []string{"_products", "cmsBlocks", "dynamicBlocks"}

// walk looks at a selection set whose enclosing braces belong to owner (a field, an inline
// fragment or a fragment definition; nil for the operation's root), at a response path.
func (m *merchPlanner) walk(set ast.SelectionSet, owner *ast.Position, path []string, depth int) {
	if depth > maxMerchDepth || m.err != nil {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			switch {
			case listFields[s.Name] != "" && owner != nil && len(s.SelectionSet) > 0:
				m.list(s, key, owner, path)
			case len(path) == 0 && (s.Name == "cmsBlocks" || s.Name == "dynamicBlocks"):
				m.block(s, key)
			case len(s.SelectionSet) > 0:
				m.walk(s.SelectionSet, s.Position, append(slices.Clip(path), key), depth+1)
			}
		case *ast.InlineFragment:
			m.walk(s.SelectionSet, s.Position, path, depth+1)
		case *ast.FragmentSpread:
			def := m.frags[s.Name]
			at := s.Name + "\x00" + strings.Join(path, "\x00")
			if def == nil || m.walked[at] {
				continue
			}
			m.walked[at] = true
			m.walk(def.SelectionSet, def.Position, path, depth+1)
		}
	}
}

// list records a product list field and the hidden fields it needs.
func (m *merchPlanner) list(f *ast.Field, key string, owner *ast.Position, path []string) {
	m.insert(owner.Start, " "+hiddenMerchSKU+":sku "+hiddenMerchType+":__typename")
	m.insert(f.Position.Start, " "+hiddenMerchSKU+":sku")
	lookup, vars, err := m.lookup(f, "query _aud_merch_products($_aud_skus: [String]%s) { products(filter: {sku: {in: $_aud_skus}}, pageSize: 100) { items { "+hiddenMerchSKU+": sku %s } } }%s")
	if err != nil {
		m.err = err
		return
	}
	m.lists = append(m.lists, ListSite{
		List: listFields[f.Name], Path: slices.Clone(path), Key: key,
		ItemSKU: hiddenMerchSKU, Lookup: lookup, Variables: vars,
	})
}

// block records a cmsBlocks or dynamicBlocks field whose items the client selects.
func (m *merchPlanner) block(f *ast.Field, key string) {
	items := m.findField(f.SelectionSet, "items", nil)
	if items == nil {
		return
	}
	id, format := "identifier", "query _aud_merch_blocks($_aud_ids: [String]%s) { cmsBlocks(identifiers: $_aud_ids) { items { "+hiddenMerchID+": identifier %s } } }%s"
	if f.Name == "dynamicBlocks" {
		id, format = "uid", "query _aud_merch_blocks($_aud_ids: [ID]!%s) { dynamicBlocks(input: {type: SPECIFIED, dynamic_block_uids: $_aud_ids}, pageSize: 100) { items { "+hiddenMerchID+": uid %s } } }%s"
	}
	m.insert(items.Position.Start, " "+hiddenMerchID+":"+id)
	lookup, vars, err := m.lookup(items, format)
	if err != nil {
		m.err = err
		return
	}
	m.blocks = append(m.blocks, BlockSite{Field: f.Name, Key: key, ID: hiddenMerchID, Lookup: lookup, Variables: vars})
}

// findField finds the first field called name in a selection set, fragments expanded.
func (m *merchPlanner) findField(set ast.SelectionSet, name string, stack []string) *ast.Field {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == name && len(s.SelectionSet) > 0 {
				return s
			}
		case *ast.InlineFragment:
			if f := m.findField(s.SelectionSet, name, stack); f != nil {
				return f
			}
		case *ast.FragmentSpread:
			if def := m.frags[s.Name]; def != nil && !slices.Contains(stack, s.Name) {
				if f := m.findField(def.SelectionSet, name, append(slices.Clip(stack), s.Name)); f != nil {
					return f
				}
			}
		}
	}
	return nil
}

// insert adds text before the closing brace of the selection set that starts after pos,
// once per brace.
func (m *merchPlanner) insert(pos int, text string) {
	_, end, err := selectionBounds(m.toks, pos)
	if err != nil {
		m.err = err
		return
	}
	off := m.offsets(end.Pos.Start)
	for i := range m.ins {
		if m.ins[i].offset == off {
			if !strings.Contains(m.ins[i].text, text) {
				m.ins[i].text += text
			}
			return
		}
	}
	m.ins = append(m.ins, insertion{offset: off, line: end.Pos.Line, col: end.Pos.Column, text: text})
}

// lookup builds the operation that reads more of what f selects, with the client's own
// selection of f, the fragments and the variables it uses (returned): format gets the
// variable definitions, the selection and the fragment definitions.
func (m *merchPlanner) lookup(f *ast.Field, format string) (string, []string, error) {
	open, end, err := selectionBounds(m.toks, f.Position.Start)
	if err != nil {
		return "", nil, err
	}
	inner := m.query[m.offsets(open.Pos.End):m.offsets(end.Pos.Start)]
	used := map[string]bool{}
	var names []string
	m.usedFragments(f.SelectionSet, used, &names)
	var frags strings.Builder
	for _, name := range names {
		def := m.frags[name]
		_, fend, err := selectionBounds(m.toks, def.Position.Start)
		if err != nil {
			return "", nil, err
		}
		frags.WriteString(" " + m.query[m.offsets(def.Position.Start):m.offsets(fend.Pos.End)])
	}
	vars := map[string]bool{}
	collectVariables(f.SelectionSet, m.frags, vars, map[string]bool{})
	var defs strings.Builder
	var uses []string
	for _, v := range m.op.VariableDefinitions {
		if vars[v.Variable] {
			uses = append(uses, v.Variable)
			fmt.Fprintf(&defs, ", $%s: %s", v.Variable, v.Type.String())
			if v.DefaultValue != nil {
				defs.WriteString(" = " + v.DefaultValue.String())
			}
		}
	}
	return fmt.Sprintf(format, defs.String(), inner, frags.String()), uses, nil
}

// usedFragments lists the fragments a selection set spreads, transitively, in first use
// order.
func (m *merchPlanner) usedFragments(set ast.SelectionSet, used map[string]bool, names *[]string) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			m.usedFragments(s.SelectionSet, used, names)
		case *ast.InlineFragment:
			m.usedFragments(s.SelectionSet, used, names)
		case *ast.FragmentSpread:
			def := m.frags[s.Name]
			if def == nil || used[s.Name] {
				continue
			}
			used[s.Name] = true
			*names = append(*names, s.Name)
			m.usedFragments(def.SelectionSet, used, names)
		}
	}
}

// collectVariables records the variables a selection set uses in arguments and directives;
// seen holds the fragments already looked at (each is looked at once).
func collectVariables(set ast.SelectionSet, frags map[string]*ast.FragmentDefinition, out, seen map[string]bool) {
	dirs := func(list ast.DirectiveList) {
		for _, d := range list {
			for _, a := range d.Arguments {
				valueVariables(a.Value, out)
			}
		}
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				valueVariables(a.Value, out)
			}
			dirs(s.Directives)
			collectVariables(s.SelectionSet, frags, out, seen)
		case *ast.InlineFragment:
			dirs(s.Directives)
			collectVariables(s.SelectionSet, frags, out, seen)
		case *ast.FragmentSpread:
			dirs(s.Directives)
			if def := frags[s.Name]; def != nil && !seen[s.Name] {
				seen[s.Name] = true
				collectVariables(def.SelectionSet, frags, out, seen)
			}
		}
	}
}

func valueVariables(v *ast.Value, out map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		out[v.Raw] = true
	}
	for _, c := range v.Children {
		valueVariables(c.Value, out)
	}
}
