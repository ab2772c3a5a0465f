// The simulator's input and output for merchandising: a cart snapshot that may also carry
// products with their lists and requested blocks, and the result with their outcomes.

package rules

import (
	"strconv"
	"time"
)

var simulationFields = append(append([]string(nil), cartFields...), "products", "blocks")

var simProductFields = []string{"sku", "type", ListRelated, ListUpsell, ListCrosssell}

// Simulation is what the simulator evaluates: a cart and, optionally, products with their
// lists as the backend returns them and the blocks a page requests.
type Simulation struct {
	Cart     *Cart
	Products []SimProduct
	// Blocks are the requested block ids; nil when the input has no "blocks".
	Blocks []string
}

// SimProduct is a product with the lists given for it.
type SimProduct struct {
	Product
	// Lists are the lists given, in canonical order (related, upsell, crosssell).
	Lists []SimList
}

// SimList is one product list as the backend returns it.
type SimList struct {
	Name  string // ListRelated, ListUpsell or ListCrosssell
	Items []string
}

// DecodeSimulation reads the simulator's input: a cart snapshot as DecodeCart takes it, which
// may also carry products and blocks:
//
//	{"store": "default", "items": [],
//	 "products": [{"sku": "24-MB01", "type": "simple", "related": ["24-MB04"], "upsell": []}],
//	 "blocks": ["home-hero", "footer-promo"]}
//
// Only the lists given for a product are evaluated. Unknown fields are errors; every problem
// is reported in a *DecodeError.
func DecodeSimulation(data []byte) (*Simulation, error) {
	obj, err := decodeCartObject(data)
	if err != nil {
		return nil, err
	}
	var probs []string
	ck := checker{probs: &probs}
	unknownFields(obj, "", simulationFields, ck)
	sim := &Simulation{Cart: decodeCart(obj, ck)}
	if v, ok := obj["products"]; ok {
		arr, ok := v.([]any)
		if !ok {
			ck.errf("products", "must be an array, got %s", jsonType(v))
		}
		for i, x := range arr {
			sim.Products = append(sim.Products, decodeSimProduct(x, indexPath("products", i), ck))
		}
	}
	if v, ok := obj["blocks"]; ok {
		sim.Blocks = simStrings(v, "blocks", ck)
	}
	if len(probs) > 0 {
		return nil, newDecodeError(probs)
	}
	return sim, nil
}

func decodeSimProduct(v any, path string, ck checker) SimProduct {
	obj, ok := v.(map[string]any)
	if !ok {
		ck.errf(path, "must be an object, got %s", jsonType(v))
		return SimProduct{}
	}
	unknownFields(obj, path, simProductFields, ck)
	var p SimProduct
	if s, ok := obj["sku"].(string); ok && s != "" {
		p.SKU = s
	} else {
		ck.errf(joinPath(path, "sku"), "required: a non-empty string")
	}
	if t, ok := obj["type"]; ok {
		if p.Type, ok = t.(string); !ok {
			ck.errf(joinPath(path, "type"), "must be a string, got %s", jsonType(t))
		}
	}
	for _, list := range productLists {
		if v, ok := obj[list]; ok {
			p.Lists = append(p.Lists, SimList{Name: list, Items: simStrings(v, joinPath(path, list), ck)})
		}
	}
	return p
}

// simStrings reads an array of strings (possibly empty, never nil).
func simStrings(v any, path string, ck checker) []string {
	arr, ok := v.([]any)
	if !ok {
		ck.errf(path, "must be an array of strings, got %s", jsonType(v))
		return []string{}
	}
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			ck.errf(indexPath(path, i), "must be a string, got %s", jsonType(x))
			continue
		}
		out = append(out, s)
	}
	return out
}

// HasMerchandising reports whether the simulation has products or blocks to evaluate.
func (s *Simulation) HasMerchandising() bool {
	return s != nil && (len(s.Products) > 0 || s.Blocks != nil)
}

// SimulationResult is what the simulator prints: the cart's Result and, when the simulation
// has products or blocks, their merchandising outcome.
type SimulationResult struct {
	*Result
	Merchandising *MerchandisingResult
}

// MerchandisingResult is the outcome of a simulation's products and blocks, with traces.
type MerchandisingResult struct {
	// Products has one result per product and given list, in input order.
	Products []*ListResult
	// Blocks is the outcome for the requested blocks (none when the input has no blocks).
	Blocks *BlocksResult
}

// Simulate evaluates a simulation for a shopper with the given segments at the given time
// (zero means now), with the trace of every rule: the cart as Evaluate does, the products'
// lists and the blocks in the cart's store and website.
func (rs *RuleSet) Simulate(sim *Simulation, segments []string, at time.Time) *SimulationResult {
	if at.IsZero() {
		at = time.Now()
	}
	out := &SimulationResult{Result: rs.Evaluate(sim.Cart, segments, at)}
	if !sim.HasMerchandising() {
		return out
	}
	var scope Scope
	if sim.Cart != nil {
		scope = Scope{Store: sim.Cart.Store, Website: sim.Cart.Website}
	}
	m := &MerchandisingResult{Products: []*ListResult{}}
	for _, p := range sim.Products {
		for _, l := range p.Lists {
			res := rs.ProductList(p.Product, l.Name, l.Items, segments, at, scope, EvalOptions{})
			if res == nil {
				res = &ListResult{Product: p.Product, List: l.Name, Items: l.Items}
			}
			m.Products = append(m.Products, res)
		}
	}
	if sim.Blocks != nil {
		m.Blocks = rs.Blocks(sim.Blocks, segments, at, scope, EvalOptions{})
		if m.Blocks == nil {
			m.Blocks = keepBlocks(sim.Blocks)
		}
	}
	out.Merchandising = m
	return out
}

// MarshalJSON writes the cart result and, when there is one, the merchandising outcome under
// "merchandising"; without it the output is the cart result's. (A value receiver, so the
// embedded Result's MarshalJSON is never promoted in its place.)
func (s SimulationResult) MarshalJSON() ([]byte, error) {
	if s.Result == nil {
		return []byte("null"), nil
	}
	b, err := s.Result.MarshalJSON()
	if err != nil || s.Merchandising == nil {
		return b, err
	}
	b = append(b[:len(b)-1], `,"merchandising":`...) // the cart result is an object
	b = s.Merchandising.appendJSON(b)
	return append(b, '}'), nil
}

// MarshalJSON writes {"products": [...], "blocks": [...], "blocks_trace": [...]}.
func (m *MerchandisingResult) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return m.appendJSON(nil), nil
}

func (m *MerchandisingResult) appendJSON(b []byte) []byte {
	b = append(b, `{"products":[`...)
	for i, p := range m.Products {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.appendJSON(b)
	}
	b = append(b, `],"blocks":`...)
	var blocks []BlockDecision
	var trace []TraceEntry
	if m.Blocks != nil {
		blocks, trace = m.Blocks.Blocks, m.Blocks.Trace
	}
	b = appendBlockDecisions(b, blocks)
	b = append(b, `,"blocks_trace":`...)
	b = appendTrace(b, trace)
	return append(b, '}')
}

// MarshalJSON writes {"sku", "type", "list", "items", "added", "removed", "changed", "trace"}.
func (r *ListResult) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r.appendJSON(nil), nil
}

func (r *ListResult) appendJSON(b []byte) []byte {
	b = append(b, `{"sku":`...)
	b = appendString(b, r.Product.SKU)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Product.Type)
	b = append(b, `,"list":`...)
	b = appendString(b, r.List)
	b = append(b, `,"items":`...)
	b = appendStrings(b, r.Items)
	b = append(b, `,"added":`...)
	b = appendStrings(b, r.Added)
	b = append(b, `,"removed":`...)
	b = appendStrings(b, r.Removed)
	b = strconv.AppendBool(append(b, `,"changed":`...), r.Changed)
	b = append(b, `,"trace":`...)
	b = appendTrace(b, r.Trace)
	return append(b, '}')
}

// MarshalJSON writes {"blocks": [{"id", "action", "with", "rule_id"}…], "changed", "trace"}.
func (r *BlocksResult) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	b := append([]byte(nil), `{"blocks":`...)
	b = appendBlockDecisions(b, r.Blocks)
	b = strconv.AppendBool(append(b, `,"changed":`...), r.Changed)
	b = append(b, `,"trace":`...)
	b = appendTrace(b, r.Trace)
	return append(b, '}'), nil
}

// appendBlockDecisions writes decisions as [{"id", "action"[, "with"][, "rule_id"]}…].
func appendBlockDecisions(b []byte, ds []BlockDecision) []byte {
	b = append(b, '[')
	for i, d := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, d.ID)
		b = append(b, `,"action":`...)
		b = appendString(b, string(d.Action))
		if d.With != "" {
			b = append(b, `,"with":`...)
			b = appendString(b, d.With)
		}
		if d.RuleID != "" {
			b = append(b, `,"rule_id":`...)
			b = appendString(b, d.RuleID)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}
