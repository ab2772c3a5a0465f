// Package merch applies audience merchandising rules to GraphQL answers: the related,
// up-sell and cross-sell products a shopper sees (SKUs added, removed, moved first) and the
// CMS and dynamic blocks (shown to an audience only, hidden, replaced). Products and blocks it
// adds come from the store itself — read with the client's own selection, as the shopper
// (store view, currency), through a bounded cache — never invented. It edits only the lists
// and blocks the client selected and leaves every other byte of the answer as it was.
package merch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Doer sends one GraphQL operation to Magento as the shopper and returns the answer's body.
type Doer interface {
	Do(query, operationName string, variables map[string]any) ([]byte, error)
}

// Shopper is whom an answer is for.
type Shopper struct {
	Segments []string
	At       time.Time
	Scope    rules.Scope
	// Store and Currency are the shopper's store view and currency headers: products and
	// blocks read for one are not shown to another.
	Store, Currency string
	// Identity stands for the shopper's credentials ("" for guests): products read with a
	// customer's token carry their group's prices.
	Identity string
}

// Defaults of New.
const (
	DefaultCacheSize = 2048
	DefaultCacheTTL  = 5 * time.Minute
)

// Rewriter applies merchandising rules to answers. It is safe for concurrent use.
type Rewriter struct {
	cache *expirable.LRU[string, json.RawMessage]
}

// New returns a Rewriter whose lookups of added products and replacing blocks are cached for
// at most size entries, each for ttl.
func New(size int, ttl time.Duration) *Rewriter {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Rewriter{cache: expirable.NewLRU[string, json.RawMessage](size, nil, ttl)}
}

// Answer is one GraphQL answer to rewrite.
type Answer struct {
	Plan      *cartql.Plan
	Variables map[string]any
	Rules     *rules.RuleSet
	Shopper   Shopper
	Doer      Doer
	Body      []byte
}

// Result says what a rewrite did.
type Result struct {
	// Changed is true when the answer is no longer the backend's: it is this shopper's alone.
	Changed bool
	// Rules are the rules that changed it for a member of their audience.
	Rules []string
}

// Rewrite applies the rules to the answer's product lists and blocks. It returns the body
// unchanged (the same slice) when nothing applies; on any error it returns the body
// unchanged with the error, so the caller fails open.
func (rw *Rewriter) Rewrite(a Answer) (out []byte, res Result, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			out, res, err = a.Body, Result{}, fmt.Errorf("merchandising panicked: %v", rec)
		}
	}()
	if a.Rules == nil || !a.Rules.HasMerchandising() || !a.Plan.HasMerch() {
		return a.Body, Result{}, nil
	}
	lists, blocks := a.Rules.ListsFor(a.Shopper.Segments), a.Rules.BlocksFor(a.Shopper.Segments)
	if !lists && !blocks {
		return a.Body, Result{}, nil // no rule changes anything for this shopper
	}
	doc, err := a.Plan.ReadMerch(a.Body)
	if err != nil {
		return a.Body, Result{}, err
	}
	defer doc.Release()
	e := &editor{rw: rw, a: a}
	changed := false
	for i := range doc.Lists {
		l := &doc.Lists[i]
		if !lists || !a.Rules.TargetsList(l.Site.List) {
			continue
		}
		items, err := e.list(l)
		if err != nil {
			return a.Body, Result{}, err
		}
		if items != nil {
			doc.SetList(l, items)
			changed = true
		}
	}
	for i := range doc.Blocks {
		b := &doc.Blocks[i]
		if !blocks {
			break
		}
		items, err := e.blocks(b)
		if err != nil {
			return a.Body, Result{}, err
		}
		if items != nil {
			doc.SetBlocks(b, items)
			changed = true
		}
	}
	if !changed {
		return a.Body, Result{}, nil
	}
	out, err = doc.Bytes()
	if err != nil {
		return a.Body, Result{}, err
	}
	return out, Result{Changed: true, Rules: e.applied}, nil
}

// editor is one rewrite's state.
type editor struct {
	rw      *Rewriter
	a       Answer
	applied []string
}

func (e *editor) note(trace []rules.TraceEntry) {
	for _, t := range trace {
		if t.Applied && !slices.Contains(e.applied, t.RuleID) {
			e.applied = append(e.applied, t.RuleID)
		}
	}
}

// list returns a product's list as the shopper sees it, or nil when it is unchanged.
func (e *editor) list(l *cartql.ListAt) ([][]byte, error) {
	s := e.a.Shopper
	res := e.a.Rules.ProductList(rules.Product{SKU: l.SKU, Type: typeID(l.Type)}, l.Site.List, l.ItemSKUs, s.Segments, s.At, s.Scope, rules.EvalOptions{Trace: rules.TraceCandidates})
	if res == nil || !res.Changed {
		return nil, nil
	}
	added, err := e.lookup(l.Site.Lookup, l.Site.Variables, "_aud_skus", res.Added, l.Site.ItemSKU, "products")
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(res.Items))
	for _, want := range res.Items {
		if i := slices.IndexFunc(l.ItemSKUs, func(x string) bool { return strings.EqualFold(x, want) }); i >= 0 {
			out = append(out, l.Items[i])
		} else if item, ok := added[strings.ToUpper(want)]; ok {
			out = append(out, item)
		} // a product the store did not answer (disabled, out of the store view) is left out
	}
	e.note(res.Trace)
	return out, nil
}

// blocks returns a blocks field's items as the shopper sees them, or nil when unchanged.
func (e *editor) blocks(b *cartql.BlocksAt) ([][]byte, error) {
	s := e.a.Shopper
	res := e.a.Rules.Blocks(b.IDs, s.Segments, s.At, s.Scope, rules.EvalOptions{Trace: rules.TraceCandidates})
	if res == nil || !res.Changed {
		return nil, nil
	}
	var wanted []string
	for _, dec := range res.Blocks {
		if dec.Action == rules.BlockReplace {
			wanted = append(wanted, dec.With)
		}
	}
	replacements, err := e.lookup(b.Site.Lookup, b.Site.Variables, "_aud_ids", wanted, b.Site.ID, b.Site.Field)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(b.Items))
	for i, dec := range res.Blocks {
		switch dec.Action {
		case rules.BlockHide:
		case rules.BlockReplace:
			if r, ok := replacements[strings.ToUpper(dec.With)]; ok {
				out = append(out, r)
			} // the replacing block does not exist or is disabled: nothing to show
		default:
			out = append(out, b.Items[i])
		}
	}
	e.note(res.Trace)
	return out, nil
}

// lookup reads the objects for ids with an operation of the plan (products by SKU, blocks by
// id) with the client's variables it uses, the cached ones from the cache, and returns
// them by upper-case id.
func (e *editor) lookup(query string, uses []string, variable string, ids []string, idKey, field string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(ids) == 0 {
		return out, nil
	}
	s := e.a.Shopper
	prefix := s.Store + "\x00" + s.Currency + "\x00" + s.Identity + "\x00" + query + "\x00"
	var missing []string
	for _, id := range ids {
		if v, ok := e.rw.cache.Get(prefix + strings.ToUpper(id)); ok {
			out[strings.ToUpper(id)] = v
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return out, nil
	}
	vars := make(map[string]any, len(uses)+1)
	for _, k := range uses {
		if v, ok := e.a.Variables[k]; ok {
			vars[k] = v
		}
	}
	vars[variable] = missing
	body, err := e.a.Doer.Do(query, "", vars)
	if err != nil {
		return nil, fmt.Errorf("merchandising lookup: %w", err)
	}
	var resp struct {
		Data map[string]struct {
			Items []json.RawMessage `json:"items"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("merchandising lookup answer: %w", err)
	}
	for _, item := range resp.Data[field].Items {
		id := strings.ToUpper(stringMember(item, idKey))
		if id == "" || !slices.ContainsFunc(missing, func(m string) bool { return strings.EqualFold(m, id) }) {
			continue
		}
		out[id] = item
		e.rw.cache.Add(prefix+id, item)
	}
	return out, nil
}

// stringMember returns the string member key of a JSON object, or "".
func stringMember(object []byte, key string) string {
	var members map[string]json.RawMessage
	var s string
	if json.Unmarshal(object, &members) == nil {
		_ = json.Unmarshal(members[key], &s)
	}
	return s
}

// typeID maps a product's GraphQL type to Magento's product type id.
func typeID(typename string) string {
	switch typename {
	case "SimpleProduct":
		return "simple"
	case "ConfigurableProduct":
		return "configurable"
	case "BundleProduct":
		return "bundle"
	case "VirtualProduct":
		return "virtual"
	case "DownloadableProduct":
		return "downloadable"
	case "GroupedProduct":
		return "grouped"
	case "GiftCardProduct":
		return "giftcard"
	}
	return ""
}
