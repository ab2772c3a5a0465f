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

// maxFragmentDepth bounds how deeply fragment spreads may nest (fragments spreading
// fragments); real clients nest a handful. Deeper chains cost work quadratic in their depth.
const maxFragmentDepth = 64

// collector resolves fragment spreads and inline fragments, keeping their conditions.
type collector struct {
	frags map[string]*ast.FragmentDefinition
	err   error
	// expanded holds the fragment spreads expanded by the current collect, by fragment
	// name and scope: the same fragment spread again in the same scope adds the same fields
	// under the same conditions (GraphQL merges them), so it is expanded once. Without this,
	// fragments that spread each other several times expand exponentially: six levels of
	// four spreads, a 458-byte query, took 70 ms.
	expanded map[expansion]bool
	// steps interns scopes: each condition or type condition added to a scope gives the
	// scope a new id, the same for the same list.
	steps map[step]int32
	// visits counts the fragment spreads the current collect met; with the fields it
	// collected it is bounded by maxOccurrences, so spreads under ever new conditions (which
	// cannot be merged) cost bounded work too.
	visits int
}

// scope is where walk is: the conditions and type conditions of the fragments around the
// selections, and an id equal for equal lists (see collector.steps).
type scope struct {
	conds []cond
	types []string
	id    int32
}

// step is one condition or type condition added to the scope with id parent.
type step struct {
	parent int32
	cond   cond
	typ    string
}

// expansion is one fragment expanded in one scope.
type expansion struct {
	name  string
	scope int32
}

// collect returns the fields of set in document order, fragments expanded in place.
func (c *collector) collect(set ast.SelectionSet) []occ {
	var out []occ
	c.reset()
	c.walk(set, scope{}, nil, &out)
	return out
}

// collectAll concatenates collect over the selection sets of fields.
func (c *collector) collectAll(fields []occ) []occ {
	var out []occ
	c.reset()
	for _, o := range fields {
		c.walk(o.f.SelectionSet, scope{}, nil, &out)
	}
	return out
}

func (c *collector) reset() {
	clear(c.expanded)
	clear(c.steps)
	c.visits = 0
}

// enter returns the scope inside a fragment with these directives and type condition.
func (c *collector) enter(sc scope, dirs ast.DirectiveList, typeCondition string) scope {
	conds := withConds(sc.conds, dirs)
	for _, k := range conds[len(sc.conds):] {
		sc.id = c.step(step{parent: sc.id, cond: k})
	}
	sc.conds = conds
	if typeCondition != "" {
		sc.types = withType(sc.types, typeCondition)
		sc.id = c.step(step{parent: sc.id, typ: typeCondition})
	}
	return sc
}

func (c *collector) step(s step) int32 {
	if id, ok := c.steps[s]; ok {
		return id
	}
	if c.steps == nil {
		c.steps = map[step]int32{}
	}
	id := int32(len(c.steps) + 1)
	c.steps[s] = id
	return id
}

// firstExpansion reports whether fragment name is not expanded in scope sc yet in the
// current collect, and records it.
func (c *collector) firstExpansion(name string, sc scope) bool {
	e := expansion{name: name, scope: sc.id}
	if c.expanded[e] {
		return false
	}
	if c.expanded == nil {
		c.expanded = map[expansion]bool{}
	}
	c.expanded[e] = true
	return true
}

func (c *collector) walk(set ast.SelectionSet, sc scope, stack []string, out *[]occ) {
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
			*out = append(*out, occ{f: s, key: key, conds: withConds(sc.conds, s.Directives), types: sc.types})
		case *ast.InlineFragment:
			c.walk(s.SelectionSet, c.enter(sc, s.Directives, s.TypeCondition), stack, out)
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
			if len(stack) >= maxFragmentDepth {
				c.err = fmt.Errorf("fragments nested more than %d deep", maxFragmentDepth)
				return
			}
			c.visits++
			inner := c.enter(sc, s.Directives, def.TypeCondition)
			if !c.firstExpansion(s.Name, inner) {
				continue
			}
			c.walk(def.SelectionSet, inner, append(stack[:len(stack):len(stack)], s.Name), out)
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
