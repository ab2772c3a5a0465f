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
	// Lifecycle, Activated and Flows are the catalog's (see catalog.Audience), absent when it
	// does not say, as in a hand-written catalog.
	Lifecycle string   `json:"lifecycle,omitempty"`
	Activated *bool    `json:"activated,omitempty"`
	Flows     []string `json:"flows,omitempty"`
	// Warning says why rules should not rely on the audience (catalog.Audience.Warning).
	Warning string   `json:"warning,omitempty"`
	Rules   []string `json:"rules"`
	Hits    HitCount `json:"hits"`
}

// RuleRow is one rule as written in the rule file, with its status now.
type RuleRow struct {
	ID     string     `json:"id"`
	Status string     `json:"status"`
	Rule   rules.Rule `json:"rule"`
	// Gate counts the coupon gate's actions for an enforced rule.
	Gate *gate.State `json:"gate,omitempty"`
	// Audiences are the audiences the rule names (sorted by id, as the engine keeps them) as
	// the catalog knows them.
	Audiences []RuleAudience `json:"audiences"`
	// Warnings say, one audience at a time, why the rule may not reach the shoppers it names.
	Warnings []string `json:"warnings"`
}

// RuleAudience is an audience a rule names, with its catalog name and what is wrong with it.
type RuleAudience struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	InCatalog bool   `json:"in_catalog"`
	// Warning is the catalog's (catalog.Audience.Warning), or notInCatalog when a catalog is
	// configured and lacks the audience.
	Warning string `json:"warning,omitempty"`
}

// notInCatalog is a rule audience's warning when the catalog lacks it.
const notInCatalog = "not in the audience catalog"

// Badges are short words for what is wrong with an audience, for a badge beside its name:
// "deactivated", "draft", "not activated" (the long form is Warning).
func (a AudienceRow) Badges() []string {
	var out []string
	switch a.Lifecycle {
	case "", catalog.LifecyclePublished:
	case catalog.LifecycleInactive:
		out = append(out, "deactivated")
	default:
		out = append(out, a.Lifecycle)
	}
	if a.Activated != nil && !*a.Activated {
		out = append(out, "not activated")
	}
	return out
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
			Lifecycle: a.Lifecycle, Activated: a.Activated, Flows: a.Flows, Warning: a.Warning(),
			Rules: nonNil(used[a.ID]), Hits: hits.Get(a.ID, now),
		})
	}
	for _, id := range MissingAudiences(used, cat) {
		rows = append(rows, AudienceRow{
			ID: id, Websites: []string{}, Rules: used[id], Hits: hits.Get(id, now),
		})
	}
	return rows, append(warnings, AudienceWarnings(rs, cat)...)
}

// AudienceWarnings says which audiences rules should not rely on: first those that rules name
// but the catalog lacks, then, rule by rule, those the catalog flags as deactivated,
// unpublished or not activated (catalog.Audience.Warning). Without a catalog every audience
// is allowed and nothing is known against any, so there is nothing to say.
func AudienceWarnings(rs *rules.RuleSet, cat *catalog.Catalog) []string {
	if rs == nil || cat == nil {
		return nil
	}
	used := rs.Audiences()
	var out []string
	for _, id := range MissingAudiences(used, cat) {
		out = append(out, fmt.Sprintf("audience %q is used by rules %s but is not in the audience catalog",
			id, strings.Join(used[id], ", ")))
	}
	for _, r := range rs.Rules() {
		for _, a := range ruleAudiences(r, cat) {
			if a.InCatalog && a.Warning != "" {
				out = append(out, ruleWarning(r.ID, a))
			}
		}
	}
	return out
}

// MissingAudiences lists, sorted, the audiences rules use (used, as rules.RuleSet.Audiences
// gives them) that cat lacks.
func MissingAudiences(used map[string][]string, cat *catalog.Catalog) []string {
	var missing []string
	for id := range used {
		if !cat.Has(id) {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	return missing
}

// ruleAudiences lists the audiences r names as cat knows them. Without a catalog none is
// known and none has a warning.
func ruleAudiences(r rules.Rule, cat *catalog.Catalog) []RuleAudience {
	out := make([]RuleAudience, 0, len(r.Audiences.IDs))
	for _, id := range r.Audiences.IDs {
		a, ok := cat.Get(id)
		switch {
		case ok:
			out = append(out, RuleAudience{ID: id, Name: a.Name, InCatalog: true, Warning: a.Warning()})
		case cat != nil:
			out = append(out, RuleAudience{ID: id, Warning: notInCatalog})
		default:
			out = append(out, RuleAudience{ID: id})
		}
	}
	return out
}

// ruleWarning says that rule ruleID names a, and what is wrong with a:
// rule "vip-20" uses audience "VIP shoppers" (id): deactivated in Experience Platform.
func ruleWarning(ruleID string, a RuleAudience) string {
	who := fmt.Sprintf("%q", a.ID)
	if a.Name != "" {
		who = fmt.Sprintf("%q (%s)", a.Name, a.ID)
	}
	return fmt.Sprintf("rule %q uses audience %s: %s", ruleID, who, a.Warning)
}

// RuleTable lists the rule set in force (none when rs is nil) with each rule's status at
// now, the audiences it names as cat knows them and, for enforced rules, the gate's counts.
func RuleTable(rs *rules.RuleSet, cat *catalog.Catalog, stats *gate.Stats, now time.Time) []RuleRow {
	out := []RuleRow{}
	if rs == nil {
		return out
	}
	for _, r := range rs.Rules() {
		row := RuleRow{
			ID: r.ID, Status: RuleStatus(r, rs.Timezone(), now), Rule: r,
			Audiences: ruleAudiences(r, cat), Warnings: []string{},
		}
		for _, a := range row.Audiences {
			if a.Warning != "" {
				row.Warnings = append(row.Warnings, ruleWarning(r.ID, a))
			}
		}
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
