// Package merch applies audience merchandising rules to GraphQL answers: the related,
// up-sell and cross-sell products a shopper sees (SKUs added, removed, moved first) and the
// CMS and dynamic blocks (shown to an audience only, hidden, replaced). Products and blocks it
// adds come from the store itself — read with the client's own selection, as the shopper
// (store view, currency), through a bounded cache — never invented. It edits only the lists
// and blocks the client selected and leaves every other byte of the answer as it was.
package merch

import (
	"encoding/json"
	"errors"
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
	top, ok := parseObject(a.Body)
	if !ok || !json.Valid(a.Body) {
		return a.Body, Result{}, errors.New("merchandising: the answer is not a JSON object")
	}
	data := top.get("data")
	if data == nil || string(data) == "null" {
		return a.Body, Result{}, nil
	}
	e := &editor{rw: rw, a: a}
	changed := false
	for _, site := range a.Plan.ListSites() {
		if !lists || !a.Rules.TargetsList(site.List) {
			continue
		}
		out, c, err := walk(data, site.Path, func(product json.RawMessage) (json.RawMessage, error) {
			return e.list(site, product)
		})
		if err != nil {
			return a.Body, Result{}, err
		}
		data, changed = out, changed || c
	}
	if blocks {
		for _, site := range a.Plan.BlockSites() {
			out, c, err := e.blocks(site, data)
			if err != nil {
				return a.Body, Result{}, err
			}
			data, changed = out, changed || c
		}
	}
	if !changed {
		return a.Body, Result{}, nil
	}
	top.set("data", data)
	return top.encode(), Result{Changed: true, Rules: e.applied}, nil
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

// list rewrites one product's list; nil means unchanged.
func (e *editor) list(site cartql.ListSite, product json.RawMessage) (json.RawMessage, error) {
	p, ok := parseObject(product)
	if !ok {
		return nil, nil
	}
	var sku, typename string
	_ = json.Unmarshal(p.get(site.SKU), &sku)
	_ = json.Unmarshal(p.get(site.Type), &typename)
	raw := p.get(site.Key)
	if raw == nil || sku == "" {
		return nil, nil
	}
	items, _ := parseArray(raw)
	skus := make([]string, len(items))
	for i, it := range items {
		skus[i] = stringAt(it, site.ItemSKU)
	}
	s := e.a.Shopper
	res := e.a.Rules.ProductList(rules.Product{SKU: sku, Type: typeID(typename)}, site.List, skus, s.Segments, s.At, s.Scope, rules.EvalOptions{Trace: rules.TraceCandidates})
	if res == nil || !res.Changed {
		return nil, nil
	}
	added, err := e.lookup(site.Lookup, site.Variables, "_aud_skus", res.Added, site.ItemSKU, "products")
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(res.Items))
	for _, want := range res.Items {
		if i := slices.IndexFunc(skus, func(x string) bool { return strings.EqualFold(x, want) }); i >= 0 {
			out = append(out, items[i])
		} else if item, ok := added[strings.ToUpper(want)]; ok {
			out = append(out, item)
		} // a product the store did not answer (disabled, out of the store view) is left out
	}
	e.note(res.Trace)
	p.set(site.Key, encodeArray(out))
	return p.encode(), nil
}

// blocks rewrites one blocks field of data.
func (e *editor) blocks(site cartql.BlockSite, data json.RawMessage) (json.RawMessage, bool, error) {
	d, ok := parseObject(data)
	if !ok {
		return data, false, nil
	}
	field, ok := parseObject(d.get(site.Key))
	if !ok {
		return data, false, nil
	}
	items, ok := parseArray(field.get("items"))
	if !ok {
		return data, false, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = stringAt(it, site.ID)
	}
	s := e.a.Shopper
	res := e.a.Rules.Blocks(ids, s.Segments, s.At, s.Scope, rules.EvalOptions{Trace: rules.TraceCandidates})
	if res == nil || !res.Changed {
		return data, false, nil
	}
	var wanted []string
	for _, dec := range res.Blocks {
		if dec.Action == rules.BlockReplace {
			wanted = append(wanted, dec.With)
		}
	}
	replacements, err := e.lookup(site.Lookup, site.Variables, "_aud_ids", wanted, site.ID, site.Field)
	if err != nil {
		return data, false, err
	}
	out := make([]json.RawMessage, 0, len(items))
	hidden := 0
	for i, dec := range res.Blocks {
		switch dec.Action {
		case rules.BlockHide:
			hidden++
		case rules.BlockReplace:
			if r, ok := replacements[strings.ToUpper(dec.With)]; ok {
				out = append(out, r)
			} else {
				hidden++ // the replacing block does not exist or is disabled: nothing to show
			}
		default:
			out = append(out, items[i])
		}
	}
	e.note(res.Trace)
	field.set("items", encodeArray(out))
	if total := field.get("total_count"); total != nil && hidden > 0 {
		var n int
		if json.Unmarshal(total, &n) == nil {
			field.set("total_count", json.RawMessage(fmt.Sprint(max(0, n-hidden))))
		}
	}
	d.set(site.Key, field.encode())
	return d.encode(), true, nil
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
		id := strings.ToUpper(stringAt(item, idKey))
		if id == "" || !slices.ContainsFunc(missing, func(m string) bool { return strings.EqualFold(m, id) }) {
			continue
		}
		out[id] = item
		e.rw.cache.Add(prefix+id, item)
	}
	return out, nil
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
