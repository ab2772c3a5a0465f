package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// benchRules returns a rule file with n rules: rule i targets audience seg-(i/10), so every
// audience has 10 rules of mixed actions (percent on some SKUs, fixed per unit, cart_fixed
// above a subtotal, buy 2 get 1), and rules 5 and 15 are for everyone.
func benchRules(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"timezone": "America/Los_Angeles", "rules": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		var act string
		switch i % 4 {
		case 0:
			act = `"items": {"field": "sku", "op": "matches", "value": "SKU-0*"}, "action": {"type": "by_percent", "amount": 10}`
		case 1:
			act = `"items": {"field": "price", "op": ">", "value": 20}, "action": {"type": "by_fixed", "amount": 0.5, "max_qty": 2}`
		case 2:
			act = `"conditions": {"all": [{"field": "subtotal", "op": ">=", "value": 50}, {"field": "currency", "op": "==", "value": "USD"}]}, "action": {"type": "cart_fixed", "amount": 5}`
		default:
			act = `"items": {"field": "qty", "op": ">=", "value": 3}, "action": {"type": "buy_x_get_y", "step": 2, "amount": 1}`
		}
		fmt.Fprintf(&b, `{"id": "rule-%05d", "label": "Rule %d", "priority": %d, "from": "2026-01-01", %s %s}`, i, i, i%7, benchAudience(i), act)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// benchAudience is rule i's audiences field: seg-(i/10), none for rules 5 and 15.
func benchAudience(i int) string {
	if i == 5 || i == 15 {
		return ""
	}
	return fmt.Sprintf(`"audiences": {"any": ["seg-%05d"]},`, i/10)
}

func benchCart(n int) *Cart {
	c := &Cart{Currency: "USD", Store: "default", ShippingAmount: decimal.MustNew(750, 2)}
	for i := range n {
		c.Items = append(c.Items, Item{
			SKU:   fmt.Sprintf("SKU-%03d", i),
			Qty:   decimal.MustNew(int64(1+i%4), 0),
			Price: decimal.MustNew(int64(499+i*137%9000), 2),
		})
	}
	return c
}

var benchAt = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// BenchmarkEvaluate measures the serving path (TraceOff) for 10, 1,000 and 10,000 rules over
// 1, 20 and 200 items. The shopper is in two audiences (20 candidate rules once there are
// enough rules). warm: the candidate list comes from the LRU; cold: every iteration uses a
// segment set the LRU has not seen.
func BenchmarkEvaluate(b *testing.B) {
	for _, nRules := range []int{10, 1000, 10000} {
		data := benchRules(nRules)
		for _, nItems := range []int{1, 20, 200} {
			cart := benchCart(nItems)
			b.Run(fmt.Sprintf("rules=%d/items=%d/cache=warm", nRules, nItems), func(b *testing.B) {
				rs := mustDecode(b, string(data))
				segs := []string{"seg-00000", "seg-00001"}
				rs.EvaluateWith(cart, segs, benchAt, EvalOptions{Trace: TraceOff})
				b.ReportAllocs()
				for b.Loop() {
					rs.EvaluateWith(cart, segs, benchAt, EvalOptions{Trace: TraceOff})
				}
			})
			b.Run(fmt.Sprintf("rules=%d/items=%d/cache=cold", nRules, nItems), func(b *testing.B) {
				rs := mustDecode(b, string(data), WithCacheSize(1024))
				sets := make([][]string, 8192) // more distinct sets than the cache holds
				for i := range sets {
					sets[i] = []string{"seg-00000", "seg-00001", fmt.Sprintf("zz-unknown-%05d", i)}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					rs.EvaluateWith(cart, sets[i%len(sets)], benchAt, EvalOptions{Trace: TraceOff})
					i++
				}
			})
		}
	}
}

// BenchmarkEvaluateTrace is the simulator's path: Evaluate with the trace of every rule.
func BenchmarkEvaluateTrace(b *testing.B) {
	for _, nRules := range []int{10, 1000, 10000} {
		rs := mustDecode(b, string(benchRules(nRules)))
		cart := benchCart(20)
		segs := []string{"seg-00000", "seg-00001"}
		b.Run(fmt.Sprintf("rules=%d/items=20", nRules), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Evaluate(cart, segs, benchAt)
			}
		})
	}
}

// BenchmarkEvaluateEveryRule is the worst case: 1,000 rules without audiences, all
// candidates for every shopper.
func BenchmarkEvaluateEveryRule(b *testing.B) {
	data := strings.ReplaceAll(string(benchRules(1000)), `"audiences": {"any": ["seg-`, `"name": "seg-`)
	data = strings.ReplaceAll(data, `"]},`, `",`)
	rs := mustDecode(b, data)
	cart := benchCart(20)
	b.ReportAllocs()
	for b.Loop() {
		rs.EvaluateWith(cart, nil, benchAt, EvalOptions{Trace: TraceOff})
	}
}

func BenchmarkDecode(b *testing.B) {
	data := benchRules(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateTypical is a 20-line cart for a shopper matching one rule of each action
// type (4 candidate rules), the common case when serving traffic.
func BenchmarkEvaluateTypical(b *testing.B) {
	rs := mustDecode(b, `{"rules": [
	  {"id": "vip-20", "audiences": {"any": ["vip"]}, "action": {"type": "by_percent", "amount": 20}},
	  {"id": "bags", "audiences": {"any": ["vip"]}, "items": {"field": "sku", "op": "matches", "value": "SKU-01*"}, "action": {"type": "buy_x_get_y", "step": 1, "amount": 1}},
	  {"id": "five", "audiences": {"any": ["vip"]}, "conditions": {"field": "subtotal", "op": ">=", "value": 50}, "action": {"type": "cart_fixed", "amount": 5}},
	  {"id": "fixed", "audiences": {"any": ["vip"]}, "items": {"field": "price", "op": ">", "value": 40}, "action": {"type": "by_fixed", "amount": 1}}]}`)
	cart := benchCart(20)
	segs := []string{"vip"}
	b.ReportAllocs()
	for b.Loop() {
		rs.EvaluateWith(cart, segs, benchAt, EvalOptions{Trace: TraceOff})
	}
}
