package cartql

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/caddy-audiences/caddy-audiences/internal/memo"
)

// DefaultCacheSize is the number of plans a Planner keeps when Options.CacheSize is 0.
const DefaultCacheSize = 1000

// How many texts Mentions remembers its answer for, and the longest it keeps.
const (
	mentionsMemoSlots   = 256
	mentionsMemoMaxText = 2048
)

// Options configure a Planner.
type Options struct {
	// CacheSize is the number of plans kept in the LRU (0: DefaultCacheSize, negative: none).
	CacheSize int
	// CartFields adds cart entry points to the built-in ones: "Query.x" or "Mutation.x" for a
	// root field that returns a Cart, "Mutation.x.cart" for one whose output's cart field does.
	CartFields []string
	// HiddenOnly adds every fact the rewrite reads under hidden aliases, as the first
	// releases did, instead of reading what the client selects itself. For comparisons.
	HiddenOnly bool
	// Merchandising also plans the product lists and blocks merchandising rules change (see
	// merchsites.go); without it those fields are neither found nor augmented.
	Merchandising bool
}

// Planner analyses GraphQL operations and caches the plans. It is safe for concurrent use.
type Planner struct {
	entries    entries
	hiddenOnly bool
	merch      bool // Options.Merchandising
	cache      *lru.Cache[planKey, *Plan]
	// names are the root field names that make an operation interesting (with
	// Options.Merchandising also the words of the merchandised fields), shortest first;
	// anchors are pieces of them such that every name contains one (see anchorsOf).
	names, anchors []string
	mentioned      *memo.Table[bool] // Mentions' answers for recent texts
}

type planKey struct{ query, operationName string }

// NewPlanner returns a Planner for the built-in cart entry points plus opt.CartFields.
func NewPlanner(opt Options) (*Planner, error) {
	e, err := parseEntries(append(DefaultCartFields(), opt.CartFields...))
	if err != nil {
		return nil, err
	}
	p := &Planner{entries: e, hiddenOnly: opt.HiddenOnly, merch: opt.Merchandising}
	names := slices.Concat(couponFields, orderFields)
	for spec := range e {
		names = append(names, spec[strings.IndexByte(spec, '.')+1:])
	}
	if p.merch {
		names = append(names, merchNames...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	// Shortest first: "cart" decides most cart operations at once.
	slices.SortStableFunc(names, func(a, b string) int { return len(a) - len(b) })
	p.names, p.anchors = names, anchorsOf(names)
	p.mentioned = memo.New[bool](mentionsMemoSlots, mentionsMemoMaxText)
	size := opt.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 0 {
		if p.cache, err = lru.New[planKey, *Plan](size); err != nil {
			return nil, fmt.Errorf("plan cache: %w", err)
		}
	}
	return p, nil
}

// Mentions reports whether text (a query, or a request carrying one, URL-encoded or as JSON)
// names any root field the planner cares about: a cart entry point, a coupon or an order
// mutation, and with Options.Merchandising a product list or blocks field. GraphQL names
// survive URL and JSON encoding unchanged, so an operation whose text mentions none of them
// has no cart, places no order and selects nothing to merchandise, and can pass without
// being parsed.
//
// Storefronts send the same text for every shopper on a page (a product's query, say), so
// the answers for recent texts are remembered.
func (pl *Planner) Mentions(text string) bool {
	if m, ok := pl.mentioned.Get(text); ok {
		return m
	}
	// Most requests that are not cart operations stop at the anchors.
	m := containsAny(text, pl.anchors) && containsAny(text, pl.names)
	pl.mentioned.Put(text, m)
	return m
}

// anchorsOf returns, for names, a few substrings such that each name contains one: a
// name's part from its last capital letter ("placeOrder" → "Order"), or the whole name
// when that part would be shorter than three bytes; anchors holding another anchor are
// dropped. Capitals are rare in query texts, so strings.Contains, which looks for an
// anchor's first byte, skips through a text that mentions none of them quickly.
func anchorsOf(names []string) []string {
	var anchors []string
	for _, name := range names {
		a := name
		if i := strings.LastIndexFunc(name, unicode.IsUpper); i >= 0 && len(name)-i >= 3 {
			a = name[i:]
		}
		anchors = append(anchors, a)
	}
	slices.SortFunc(anchors, func(a, b string) int { return len(a) - len(b) })
	var kept []string
	for _, a := range anchors {
		if !containsAny(a, kept) {
			kept = append(kept, a)
		}
	}
	return kept
}

// containsAny reports whether text contains one of subs.
func containsAny(text string, subs []string) bool {
	for _, s := range subs {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// Plan analyses the operation operationName ("" for a document with a single operation) of
// query. An error (syntax, unknown or ambiguous operation) means the request should pass
// through untouched; so does a plan without carts.
func (pl *Planner) Plan(query, operationName string) (*Plan, error) {
	k := planKey{query, operationName}
	if pl.cache != nil {
		if p, ok := pl.cache.Get(k); ok {
			return p.result()
		}
	}
	p := pl.plan(query, operationName)
	if pl.cache != nil {
		pl.cache.Add(k, p)
	}
	return p.result()
}

// Plan is the analysis of one operation: where its carts are, the augmented query to send
// upstream and how to rewrite the response. A Plan is immutable and safe for concurrent use.
type Plan struct {
	query, operationName string
	err                  error

	augmented string
	mutation  bool
	reserved  bool // the query uses HiddenPrefix itself
	sites     []*site
	ins       []insertion
	shape     shapeTable // what Rewrite and Snapshots index of a response

	// The compiled programs, one per site; nil when @skip/@include depend on variables and
	// programs are compiled per request from the fields below.
	progs    []*cartProg
	frags    map[string]*ast.FragmentDefinition
	defaults map[string]bool

	// What the coupon gate watches in the root selection (roots.go).
	roots roots

	// The product lists and blocks fields merchandising rules change (merchsites.go).
	lists  []ListSite
	blocks []BlockSite

	// The refetch queries of the sites, built on first use (cartquery.go).
	cartQueriesOnce sync.Once
	cartQueries     []cartQuery
}

func (p *Plan) result() (*Plan, error) {
	if p.err != nil {
		return nil, p.err
	}
	return p, nil
}

// HasCart reports whether the operation returns a cart; without one the request and the
// response pass through untouched.
func (p *Plan) HasCart() bool { return len(p.sites) > 0 }

// RewriteUsesVariables reports whether Rewrite needs the operation's variables: only when
// @skip or @include depend on them.
func (p *Plan) RewriteUsesVariables() bool { return p.HasCart() && p.progs == nil }

// Query returns the document to send upstream: the client's query with the hidden fields
// inserted, or the client's query as it is when the operation has no cart.
func (p *Plan) Query() string {
	if !p.HasCart() && !p.HasMerch() {
		return p.query
	}
	return p.augmented
}

// OperationName returns the operation name the plan was made for.
func (p *Plan) OperationName() string { return p.operationName }

// Reserved reports whether the client's query uses HiddenPrefix itself: its carts are not
// planned, as their hidden fields could not be told from the client's own.
func (p *Plan) Reserved() bool { return p.reserved }

// IsMutation reports whether the operation is a mutation.
func (p *Plan) IsMutation() bool { return p.mutation }

// Sites returns where the operation's carts are in the response.
func (p *Plan) Sites() []Site {
	out := make([]Site, len(p.sites))
	for i, s := range p.sites {
		out[i] = Site{Path: append([]string(nil), s.Path...), Field: s.Field}
	}
	return out
}

func (pl *Planner) plan(query, operationName string) *Plan {
	p := &Plan{query: query, operationName: operationName}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		p.err = fmt.Errorf("parse query: %w", err)
		return p
	}
	op, err := operation(doc, operationName)
	if err != nil {
		p.err = err
		return p
	}
	p.mutation = op.Operation == ast.Mutation
	frags := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := frags[f.Name]; !dup {
			frags[f.Name] = f
		}
	}
	col := &collector{frags: frags}
	roots := col.collect(op.SelectionSet)
	if col.err != nil {
		p.err = fmt.Errorf("plan: %w", col.err)
		return p
	}
	// The root fields are read even when no cart is planned: the coupon gate must see every
	// coupon a client applies and every order it places.
	p.roots = inspectRoots(op, roots)
	if strings.Contains(query, HiddenPrefix) {
		p.reserved = true
		return p // never strip what the client asked for itself
	}
	// Product lists and blocks for merchandising rules; a document they cannot be planned in
	// is planned without them.
	var merchIns []insertion
	if pl.merch {
		lists, blocks, ins, err := findMerch(query, op, frags)
		if err == nil {
			p.lists, p.blocks, merchIns = lists, blocks, ins
		}
	}
	sites := findSites(col, op.Operation, roots, pl.entries)
	if col.err != nil {
		p.err = fmt.Errorf("plan: %w", col.err)
		return p
	}
	if len(sites) == 0 {
		if p.HasMerch() {
			p.ins = merchIns
			sortInsertions(p.ins)
			p.augmented = applyInsertions(query, p.ins)
		}
		return p
	}
	p.frags = frags
	if p.ins, err = augment(query, col, sites, pl.hiddenOnly); err != nil {
		p.err = fmt.Errorf("augment: %w", err)
		return p
	}
	p.defaults = booleanDefaults(op)
	v := &vars{probe: true}
	c := compiler{col: col, v: v}
	progs := make([]*cartProg, len(sites))
	for i, s := range sites {
		c.pageUID = s.pageUID
		progs[i] = c.cart(s.fields)
	}
	if col.err != nil {
		p.err = fmt.Errorf("plan: %w", col.err)
		return p
	}
	p.shape = responseShape(sites, progs)
	if !v.dynamic {
		// Static programs: the syntax tree is no longer needed.
		p.progs, p.frags = progs, nil
		for _, s := range sites {
			s.fields = nil
		}
	}
	for _, s := range sites {
		s.root = nil
	}
	p.sites = sites
	if len(merchIns) > 0 {
		p.ins = append(p.ins, merchIns...)
		sortInsertions(p.ins)
	}
	p.augmented = applyInsertions(query, p.ins)
	return p
}

// operation selects the operation to execute, as a GraphQL server does.
func operation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if name == "" {
		if len(doc.Operations) != 1 {
			return nil, fmt.Errorf("operation name required: the document has %d operations", len(doc.Operations))
		}
		return doc.Operations[0], nil
	}
	op := doc.Operations.ForName(name)
	if op == nil {
		return nil, fmt.Errorf("unknown operation %q", name)
	}
	return op, nil
}

// booleanDefaults returns the literal Boolean defaults of the operation's variables.
func booleanDefaults(op *ast.OperationDefinition) map[string]bool {
	var m map[string]bool
	for _, v := range op.VariableDefinitions {
		if v.DefaultValue != nil && v.DefaultValue.Kind == ast.BooleanValue {
			if m == nil {
				m = map[string]bool{}
			}
			m[v.Variable] = v.DefaultValue.Raw == "true"
		}
	}
	return m
}

// programs returns the rewrite programs of the sites for these variables.
func (p *Plan) programs(variables map[string]any) ([]*cartProg, error) {
	if p.progs != nil {
		return p.progs, nil
	}
	col := &collector{frags: p.frags}
	c := compiler{col: col, v: &vars{values: variables, defaults: p.defaults}}
	progs := make([]*cartProg, len(p.sites))
	for i, s := range p.sites {
		c.pageUID = s.pageUID
		progs[i] = c.cart(s.fields)
	}
	if col.err != nil {
		return nil, errors.Join(errors.New("compile"), col.err)
	}
	return progs, nil
}
