package report

import (
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

func TestRuleStatus(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		rule rules.Rule
		now  string
		want string
	}{
		{"open", rules.Rule{Active: true}, "2026-11-27T09:00:00Z", StatusActive},
		{"switched off", rules.Rule{Active: false}, "2026-11-27T09:00:00Z", StatusInactive},
		{"switched off beats dates", rules.Rule{To: "2001-01-01"}, "2026-11-27T09:00:00Z", StatusInactive},
		{"before the from day in the zone", rules.Rule{Active: true, From: "2026-11-27"}, "2026-11-27T07:59:59Z", StatusScheduled},
		{"from midnight in the zone", rules.Rule{Active: true, From: "2026-11-27"}, "2026-11-27T08:00:00Z", StatusActive},
		{"last second of the to day", rules.Rule{Active: true, To: "2026-11-27"}, "2026-11-28T07:59:59Z", StatusActive},
		{"after the to day", rules.Rule{Active: true, To: "2026-11-27"}, "2026-11-28T08:00:00Z", StatusExpired},
		{"rfc3339 from", rules.Rule{Active: true, From: "2026-11-27T09:00:00-08:00"}, "2026-11-27T16:59:59Z", StatusScheduled},
		{"rfc3339 to is inclusive", rules.Rule{Active: true, To: "2026-11-27T09:00:00-08:00"}, "2026-11-27T17:00:00Z", StatusActive},
		{"after rfc3339 to", rules.Rule{Active: true, To: "2026-11-27T09:00:00-08:00"}, "2026-11-27T17:00:01Z", StatusExpired},
		{"unparseable dates ignored", rules.Rule{Active: true, From: "soon", To: "later"}, "2026-11-27T09:00:00Z", StatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleStatus(tt.rule, la, at(tt.now)); got != tt.want {
				t.Errorf("RuleStatus = %q, want %q", got, tt.want)
			}
		})
	}
}
