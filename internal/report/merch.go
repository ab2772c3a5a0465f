package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// MerchRow is one merchandising rule as written, with its status now and how often it
// changed an answer.
type MerchRow struct {
	ID     string          `json:"id"`
	Kind   string          `json:"kind"` // product_lists or blocks
	Status string          `json:"status"`
	Rule   rules.MerchRule `json:"rule"`
	Hits   int64           `json:"hits"` // answers it changed, this instance, since start
}

// MerchHits counts, per merchandising rule, the answers it changed. The zero value is ready.
type MerchHits struct {
	rules sync.Map // rule id → *atomic.Int64
}

// Add counts one changed answer for a rule.
func (h *MerchHits) Add(ruleID string) {
	v, ok := h.rules.Load(ruleID)
	if !ok {
		v, _ = h.rules.LoadOrStore(ruleID, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// Get returns a rule's count.
func (h *MerchHits) Get(ruleID string) int64 {
	if v, ok := h.rules.Load(ruleID); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// MerchTable lists the merchandising rules in force (none when rs is nil) with their status at
// now and their hits.
func MerchTable(rs *rules.RuleSet, hits *MerchHits, now time.Time) []MerchRow {
	out := []MerchRow{}
	if rs == nil {
		return out
	}
	for _, m := range rs.Merchandising() {
		status := RuleStatus(rules.Rule{Active: m.Active, From: m.From, To: m.To}, rs.Timezone(), now)
		out = append(out, MerchRow{ID: m.ID, Kind: string(m.Kind()), Status: status, Rule: m, Hits: hits.Get(m.ID)})
	}
	return out
}

// DescribeMerch says in words what a merchandising rule changes.
func DescribeMerch(m rules.MerchRule) string {
	var parts []string
	if b := m.Blocks; b != nil {
		if len(b.Show) > 0 {
			parts = append(parts, "show only to the audience: "+strings.Join(b.Show, ", "))
		}
		if len(b.Hide) > 0 {
			parts = append(parts, "hide: "+strings.Join(b.Hide, ", "))
		}
		for _, from := range slices.Sorted(maps.Keys(b.Replace)) {
			parts = append(parts, "replace "+from+" by "+b.Replace[from])
		}
		return "blocks: " + strings.Join(parts, "; ")
	}
	if len(m.Remove) > 0 {
		parts = append(parts, "remove "+strings.Join(m.Remove, ", "))
	}
	if len(m.Add) > 0 {
		add := "add " + strings.Join(m.Add, ", ")
		if m.Limit > 0 {
			add += fmt.Sprintf(" (at most %d)", m.Limit)
		}
		parts = append(parts, add)
	}
	if len(m.First) > 0 {
		parts = append(parts, "first "+strings.Join(m.First, ", "))
	}
	return strings.Join(m.Lists, ", ") + " products: " + strings.Join(parts, "; ")
}
