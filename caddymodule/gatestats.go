package caddymodule

import (
	"sync"
	"sync/atomic"
)

// gateStats counts what the gate did per enforced rule, for the admin API.
type gateStats struct {
	rules sync.Map // rule id → *gateCounts
}

// gateCounts are one rule's gate actions since start.
type gateCounts struct {
	Applied atomic.Int64
	Removed atomic.Int64
	Failed  atomic.Int64
}

// GateState is the JSON form of a rule's gate counters.
type GateState struct {
	Applied int64 `json:"applied"`
	Removed int64 `json:"removed"`
	Failed  int64 `json:"failed"`
}

func (s *gateStats) of(ruleID string) *gateCounts {
	v, ok := s.rules.Load(ruleID)
	if !ok {
		v, _ = s.rules.LoadOrStore(ruleID, new(gateCounts))
	}
	return v.(*gateCounts)
}

// state returns a rule's counters.
func (s *gateStats) state(ruleID string) GateState {
	c := s.of(ruleID)
	return GateState{Applied: c.Applied.Load(), Removed: c.Removed.Load(), Failed: c.Failed.Load()}
}
