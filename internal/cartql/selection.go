package cartql

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// maxOccurrences bounds the fields one selection set may expand to through fragments, and the
// fragment spreads met on the way, so that a "fragment bomb" cannot make planning explode.
const maxOccurrences = 5000

// cond is one @skip or @include directive on a field or on a fragment around it.
type cond struct {
	skip     bool   // @skip (else @include)
	variable string // variable name of the if argument, or "" for a literal
	value    bool   // the literal
}

// occ is one occurrence of a field in a selection set once fragments are resolved.
type occ struct {
	f     *ast.Field
	key   string   // response key: alias or name
	conds []cond   // conditions of the field and of every fragment between it and its parent
	types []string // type conditions of the fragments between it and its parent
}

// collector resolves fragment spreads and inline fragments, keeping their conditions.
type collector struct {
	frags map[string]*ast.FragmentDefinition
	err   error
	// expanded holds the fragment spreads expanded by the current collect, by fragment
	// name, conditions and type conditions (see firstExpansion): the same fragment spread again
	// under the same ones adds the same fields under the same conditions (GraphQL merges
	// them), so it is expanded once. Without this, fragments that spread each other several
	// times expand exponentially: six levels of four spreads, a 458-byte query, took 70 ms.
	expanded map[string]bool
	key      []byte
	// visits counts the fragment spreads the current collect met; with the fields it
	// collected it is bounded by maxOccurrences, so spreads under ever new conditions (which
	// cannot be merged) cost bounded work too.
	visits int
}

// collect returns the fields of set in document order, fragments expanded in place.
func (c *collector) collect(set ast.SelectionSet) []occ {
	var out []occ
	c.reset()
	c.walk(set, nil, nil, nil, &out)
	return out
}

// collectAll concatenates collect over the selection sets of fields.
func (c *collector) collectAll(fields []occ) []occ {
	var out []occ
	c.reset()
	for _, o := range fields {
		c.walk(o.f.SelectionSet, nil, nil, nil, &out)
	}
	return out
}

func (c *collector) reset() {
	clear(c.expanded)
	c.visits = 0
}

// firstExpansion reports whether fragment name under conds and types is not expanded yet
// in the current collect, and records it.
func (c *collector) firstExpansion(name string, conds []cond, types []string) bool {
	k := append(c.key[:0], name...)
	for _, d := range conds {
		k = append(k, 0, '0'+b2i(d.skip)<<1+b2i(d.value))
		k = append(k, d.variable...)
	}
	for _, t := range types {
		k = append(k, 1)
		k = append(k, t...)
	}
	c.key = k
	if c.expanded[string(k)] {
		return false
	}
	if c.expanded == nil {
		c.expanded = map[string]bool{}
	}
	c.expanded[string(k)] = true
	return true
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (c *collector) walk(set ast.SelectionSet, conds []cond, types, stack []string, out *[]occ) {
	for _, sel := range set {
		if c.err != nil {
			return
		}
		if len(*out)+c.visits >= maxOccurrences {
			c.err = errors.New("selection too large")
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			*out = append(*out, occ{f: s, key: key, conds: withConds(conds, s.Directives), types: types})
		case *ast.InlineFragment:
			c.walk(s.SelectionSet, withConds(conds, s.Directives), withType(types, s.TypeCondition), stack, out)
		case *ast.FragmentSpread:
			def := c.frags[s.Name]
			if def == nil {
				c.err = fmt.Errorf("unknown fragment %q", s.Name)
				return
			}
			if slices.Contains(stack, s.Name) {
				c.err = fmt.Errorf("fragment %q spreads itself", s.Name)
				return
			}
			c.visits++
			fconds, ftypes := withConds(conds, s.Directives), withType(types, def.TypeCondition)
			if !c.firstExpansion(s.Name, fconds, ftypes) {
				continue
			}
			c.walk(def.SelectionSet, fconds, ftypes, append(stack[:len(stack):len(stack)], s.Name), out)
		}
	}
}

// withConds returns conds plus the @skip/@include directives of dirs, sharing conds when
// there are none.
func withConds(conds []cond, dirs ast.DirectiveList) []cond {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil || arg.Value == nil {
			continue
		}
		k := cond{skip: d.Name == "skip"}
		switch arg.Value.Kind {
		case ast.Variable:
			k.variable = arg.Value.Raw
		case ast.BooleanValue:
			k.value = arg.Value.Raw == "true"
		default:
			continue
		}
		conds = append(conds[:len(conds):len(conds)], k)
	}
	return conds
}

func withType(types []string, t string) []string {
	if t == "" {
		return types
	}
	return append(types[:len(types):len(types)], t)
}

// vars resolves directive variables: the request's values, then the operation's defaults.
type vars struct {
	values   map[string]any
	defaults map[string]bool
	probe    bool // planning: variables are unknown, every condition counts as true
	dynamic  bool // set when probing met a variable
}

// included reports whether a field with these conditions is part of the response.
func (v *vars) included(conds []cond) bool {
	for _, k := range conds {
		val := k.value
		if k.variable != "" {
			if v.probe {
				v.dynamic = true
				continue
			}
			val = v.boolean(k.variable)
		}
		if val == k.skip {
			return false
		}
	}
	return true
}

func (v *vars) boolean(name string) bool {
	if x, ok := v.values[name]; ok {
		b, _ := x.(bool)
		return b
	}
	return v.defaults[name]
}

// isConcreteItemType reports whether name is one of Magento's cart item object types
// (SimpleCartItem, ConfigurableCartItem, ...), as opposed to an interface such as
// CartItemInterface. Without a schema this naming rule is how item fragments are matched.
func isConcreteItemType(name string) bool {
	return len(name) > len("CartItem") && name[len(name)-len("CartItem"):] == "CartItem"
}

// typesApply reports whether fields under these type conditions are selected for an item of
// concrete type typename ("" when unknown).
func typesApply(types []string, typename string) bool {
	for _, t := range types {
		if t != typename && isConcreteItemType(t) {
			return false
		}
	}
	return true
}

// group is the occurrences of one response key, in order of first appearance.
type group struct {
	key, name string
	occs      []occ
}

// groupBy groups the occurrences that keep accepts by response key.
func groupBy(occs []occ, keep func(o occ) bool) []group {
	var out []group
	for _, o := range occs {
		if !keep(o) {
			continue
		}
		i := slices.IndexFunc(out, func(g group) bool { return g.key == o.key })
		if i < 0 {
			out = append(out, group{key: o.key, name: o.f.Name})
			i = len(out) - 1
		}
		out[i].occs = append(out[i].occs, o)
	}
	return out
}
