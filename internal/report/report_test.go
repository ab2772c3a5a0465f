package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
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

// syncedCatalog is a catalog as the Experience Platform sync writes it: one audience fine,
// one deactivated, one a draft not activated, one hand-written.
const syncedCatalog = `{"audiences": [
  {"id": "vip", "name": "VIP shoppers", "lifecycle": "published", "activated": true, "flows": ["commerce"]},
  {"id": "lapsed", "name": "Lapsed customers", "lifecycle": "inactive", "activated": true, "flows": ["commerce"]},
  {"id": "draft", "lifecycle": "draft", "activated": false},
  {"id": "hand", "name": "Hand-written"}
]}`

const syncedRules = `{"rules": [
  {"id": "vip-20", "priority": 1, "audiences": {"any": ["vip", "lapsed"]}, "action": {"type": "by_percent", "amount": 20}},
  {"id": "not-draft", "priority": 2, "audiences": {"none": ["draft", "club"]}, "action": {"type": "by_percent", "amount": 5}},
  {"id": "everyone", "priority": 3, "action": {"type": "by_percent", "amount": 1}}
]}`

func decodeFixtures(t *testing.T) (*rules.RuleSet, *catalog.Catalog) {
	t.Helper()
	rs, err := rules.Decode([]byte(syncedRules))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Decode([]byte(syncedCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return rs, cat
}

func TestAudienceTableSyncedFields(t *testing.T) {
	rs, cat := decodeFixtures(t)
	yes, no := true, false
	rows, warnings := AudienceTable(rs, cat, NewHits(), time.Now())
	want := []AudienceRow{
		{ID: "vip", Name: "VIP shoppers", Websites: []string{}, InCatalog: true, Lifecycle: "published", Activated: &yes,
			Flows: []string{"commerce"}, Rules: []string{"vip-20"}},
		{ID: "lapsed", Name: "Lapsed customers", Websites: []string{}, InCatalog: true, Lifecycle: "inactive", Activated: &yes,
			Flows: []string{"commerce"}, Warning: "deactivated in Experience Platform", Rules: []string{"vip-20"}},
		{ID: "draft", Websites: []string{}, InCatalog: true, Lifecycle: "draft", Activated: &no,
			Warning: "a draft, not published in Experience Platform; not activated to the store's destination", Rules: []string{"not-draft"}},
		{ID: "hand", Name: "Hand-written", Websites: []string{}, InCatalog: true, Rules: []string{}},
		{ID: "club", Websites: []string{}, Rules: []string{"not-draft"}},
	}
	if got, w := mustJSON(t, rows), mustJSON(t, want); got != w {
		t.Errorf("rows:\n got %s\nwant %s", got, w)
	}
	wantWarnings := []string{
		`audience "club" is used by rules not-draft but is not in the audience catalog`,
		`rule "vip-20" uses audience "Lapsed customers" (lapsed): deactivated in Experience Platform`,
		`rule "not-draft" uses audience "draft": a draft, not published in Experience Platform; not activated to the store's destination`,
	}
	if got, w := mustJSON(t, warnings), mustJSON(t, wantWarnings); got != w {
		t.Errorf("warnings:\n got %s\nwant %s", got, w)
	}
	// The JSON of a hand-written entry has none of the sync fields.
	if got := mustJSON(t, rows[3]); strings.Contains(got, "lifecycle") || strings.Contains(got, "activated") ||
		strings.Contains(got, "flows") || strings.Contains(got, "warning") {
		t.Errorf("hand-written row = %s, want no sync fields", got)
	}
}

func TestAudienceWarningsWithoutCatalog(t *testing.T) {
	rs, _ := decodeFixtures(t)
	if got := AudienceWarnings(rs, nil); len(got) != 0 {
		t.Errorf("AudienceWarnings without a catalog = %q, want none", got)
	}
	if _, warnings := AudienceTable(rs, nil, NewHits(), time.Now()); warnings == nil || len(warnings) != 0 {
		t.Errorf("AudienceTable warnings without a catalog = %#v, want []", warnings)
	}
	if got := AudienceWarnings(nil, nil); got != nil {
		t.Errorf("AudienceWarnings without rules = %q", got)
	}
}

func TestRuleTableAudiences(t *testing.T) {
	rs, cat := decodeFixtures(t)
	tests := []struct {
		name string
		cat  *catalog.Catalog
		want map[string]string // rule id → JSON of its audiences and warnings
	}{
		{"with a catalog", cat, map[string]string{
			"vip-20": `[{"id":"lapsed","name":"Lapsed customers","in_catalog":true,"warning":"deactivated in Experience Platform"},` +
				`{"id":"vip","name":"VIP shoppers","in_catalog":true}] ` +
				`["rule \"vip-20\" uses audience \"Lapsed customers\" (lapsed): deactivated in Experience Platform"]`,
			"not-draft": `[{"id":"club","in_catalog":false,"warning":"not in the audience catalog"},` +
				`{"id":"draft","in_catalog":true,"warning":"a draft, not published in Experience Platform; not activated to the store's destination"}] ` +
				`["rule \"not-draft\" uses audience \"club\": not in the audience catalog",` +
				`"rule \"not-draft\" uses audience \"draft\": a draft, not published in Experience Platform; not activated to the store's destination"]`,
			"everyone": `[] []`,
		}},
		{"without a catalog", nil, map[string]string{
			"vip-20":    `[{"id":"lapsed","in_catalog":false},{"id":"vip","in_catalog":false}] []`,
			"not-draft": `[{"id":"club","in_catalog":false},{"id":"draft","in_catalog":false}] []`,
			"everyone":  `[] []`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := RuleTable(rs, tt.cat, nil, time.Now())
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tt.want))
			}
			for _, row := range rows {
				if got := mustJSON(t, row.Audiences) + " " + mustJSON(t, row.Warnings); got != tt.want[row.ID] {
					t.Errorf("rule %s:\n got %s\nwant %s", row.ID, got, tt.want[row.ID])
				}
			}
		})
	}
	if rows := RuleTable(nil, cat, nil, time.Now()); rows == nil || len(rows) != 0 {
		t.Errorf("RuleTable without rules = %#v, want []", rows)
	}
}

func TestAudienceRowBadges(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		row  AudienceRow
		want string
	}{
		{AudienceRow{}, ""},
		{AudienceRow{Lifecycle: "published", Activated: &yes}, ""},
		{AudienceRow{Lifecycle: "inactive"}, "deactivated"},
		{AudienceRow{Lifecycle: "draft", Activated: &no}, "draft, not activated"},
		{AudienceRow{Lifecycle: "archived"}, "archived"},
		{AudienceRow{Activated: &no}, "not activated"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.row.Badges(), ", "); got != tt.want {
			t.Errorf("Badges(%s) = %q, want %q", mustJSON(t, tt.row), got, tt.want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
