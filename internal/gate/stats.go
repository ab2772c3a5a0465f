package gate

import (
	"sync"
	"sync/atomic"
)

// Stats counts what the gate did per enforced rule, for the admin API. Its zero value is
// ready to use.
type Stats struct {
	rules sync.Map // rule id → *counts
}

// counts are one rule's gate actions since start.
type counts struct {
	Applied atomic.Int64
	Removed atomic.Int64
	Failed  atomic.Int64
}

// State is the JSON form of a rule's gate counters.
type State struct {
	Applied int64 `json:"applied"`
	Removed int64 `json:"removed"`
	Failed  int64 `json:"failed"`
}

func (s *Stats) of(ruleID string) *counts {
	v, ok := s.rules.Load(ruleID)
	if !ok {
		v, _ = s.rules.LoadOrStore(ruleID, new(counts))
	}
	return v.(*counts)
}

// State returns a rule's counters.
func (s *Stats) State(ruleID string) State {
	c := s.of(ruleID)
	return State{Applied: c.Applied.Load(), Removed: c.Removed.Load(), Failed: c.Failed.Load()}
}
