// Package report computes what the admin API, the dashboard and the command-line tools show:
// the audience and rule tables with hit counts and gate counts, rule statuses, rules in
// words, and the simulator's inputs. It knows nothing of Caddy or HTTP.
package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Rule statuses in GET /audiences/rules and the dashboard.
const (
	StatusActive    = "active"
	StatusInactive  = "inactive"
	StatusScheduled = "scheduled"
	StatusExpired   = "expired"
)

// AudienceRow is one audience: its catalog entry (empty when only rules name it), the rules
// that use it and its hit counts.
type AudienceRow struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Origin      string   `json:"origin"`
	Websites    []string `json:"websites"`
	LastUpdated string   `json:"last_updated"`
	InCatalog   bool     `json:"in_catalog"`
	Rules       []string `json:"rules"`
	Hits        HitCount `json:"hits"`
}

// RuleRow is one rule as written in the rule file, with its status now.
type RuleRow struct {
	ID     string     `json:"id"`
	Status string     `json:"status"`
	Rule   rules.Rule `json:"rule"`
	// Gate counts the coupon gate's actions for an enforced rule.
	Gate *gate.State `json:"gate,omitempty"`
}

// AudienceTable lists the catalog in file order, then audiences that rules name but the
// catalog lacks, with the rules that use each and their hit counts.
func AudienceTable(rs *rules.RuleSet, cat *catalog.Catalog, hits *Hits, now time.Time) (rows []AudienceRow, warnings []string) {
	rows, warnings = []AudienceRow{}, []string{}
	var used map[string][]string
	if rs != nil {
		used = rs.Audiences()
	}
	for _, a := range cat.All() {
		rows = append(rows, AudienceRow{
			ID: a.ID, Name: a.Name, Description: a.Description, Origin: a.Origin,
			Websites: nonNil(a.Websites), LastUpdated: a.LastUpdated, InCatalog: true,
			Rules: nonNil(used[a.ID]), Hits: hits.Get(a.ID, now),
		})
	}
	var missing []string
	for id := range used {
		if !cat.Has(id) {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	for _, id := range missing {
		rows = append(rows, AudienceRow{
			ID: id, Websites: []string{}, Rules: used[id], Hits: hits.Get(id, now),
		})
	}
	if cat == nil {
		return rows, warnings // without a catalog every audience is allowed; nothing to warn about
	}
	for _, id := range missing {
		warnings = append(warnings, fmt.Sprintf("audience %q is used by rules %s but is not in the audience catalog",
			id, strings.Join(used[id], ", ")))
	}
	return rows, warnings
}

// RuleTable lists the rule set in force (none when rs is nil) with each rule's status at
// now and, for enforced rules, the gate's counts.
func RuleTable(rs *rules.RuleSet, stats *gate.Stats, now time.Time) []RuleRow {
	out := []RuleRow{}
	if rs == nil {
		return out
	}
	for _, r := range rs.Rules() {
		row := RuleRow{ID: r.ID, Status: RuleStatus(r, rs.Timezone(), now), Rule: r}
		if r.Enforce != nil && stats != nil {
			st := stats.State(r.ID)
			row.Gate = &st
		}
		out = append(out, row)
	}
	return out
}

// RuleStatus says whether r is in force at now: switched off, not started yet, over, or
// active. Dates are read as the rule engine reads them: a date is a whole day in tz and to
// is inclusive.
func RuleStatus(r rules.Rule, tz *time.Location, now time.Time) string {
	if !r.Active {
		return StatusInactive
	}
	if from, ok := scheduleBound(r.From, tz, false); ok && now.Before(from) {
		return StatusScheduled
	}
	if to, ok := scheduleBound(r.To, tz, true); ok && !now.Before(to) {
		return StatusExpired
	}
	return StatusActive
}

// scheduleBound is the first instant of the period s names (end false), or the first instant
// after it (end true); false when s is empty or does not parse (the engine rejects those).
func scheduleBound(s string, tz *time.Location, end bool) (time.Time, bool) {
	if d, err := time.ParseInLocation(time.DateOnly, s, tz); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.Add(time.Nanosecond)
	}
	return t, true
}

// DescribeAudiences says in words who a rule is for, naming audiences by catalog name.
func DescribeAudiences(a rules.Audiences, names map[string]string) string {
	if len(a.IDs) == 0 {
		return "everyone"
	}
	labels := make([]string, len(a.IDs))
	for i, id := range a.IDs {
		labels[i] = id
		if n := names[id]; n != "" {
			labels[i] = n + " (" + id + ")"
		}
	}
	prefix := map[string]string{"any": "any of", "all": "all of", "none": "none of"}[a.Mode]
	return strings.TrimSpace(prefix + " " + strings.Join(labels, ", "))
}

// DescribeAction says in words what a rule takes off.
func DescribeAction(r rules.Rule) string {
	if r.Enforce != nil {
		if r.Enforce.Coupon != "" {
			return "enforced: Magento coupon " + r.Enforce.Coupon
		}
		return "enforced: Magento coupons from " + r.Enforce.CouponsFile
	}
	a := r.Action
	if a == nil {
		return ""
	}
	var s string
	switch a.Type {
	case rules.ByPercent:
		s = a.Amount.String() + "% off each item"
	case rules.ByFixed:
		s = a.Amount.String() + " off each unit"
	case rules.CartFixed:
		s = a.Amount.String() + " off the cart"
	case rules.BuyXGetY:
		s = fmt.Sprintf("buy %s get %s free", a.Step, a.Amount)
	default:
		s = string(a.Type) + " " + a.Amount.String()
	}
	if !a.MaxQty.IsZero() {
		s += ", at most " + a.MaxQty.String() + " units"
	}
	if a.ApplyToShipping {
		s += ", and shipping"
	}
	return s
}

// ParseAt reads a simulation time: an RFC 3339 instant, or a date meaning its midnight in tz.
func ParseAt(s string, tz *time.Location) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, tz); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-27T09:00:00-08:00) nor a date (2026-11-27)", s)
}

// ParseSegments splits a comma-separated list into a sorted, de-duplicated segment set.
func ParseSegments(s string) []string {
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DescribeDecodeError lists every problem of a *rules.DecodeError on one line.
func DescribeDecodeError(err error) string {
	var de *rules.DecodeError
	if errors.As(err, &de) && len(de.Problems) > 0 {
		return strings.Join(de.Problems, "; ")
	}
	return err.Error()
}

// nonNil keeps empty lists as [] in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
