package caddymodule

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
)

// dashboardData is what the dashboard renders: the same tables as GET /audiences and
// GET /audiences/rules, plus what the simulate form is prefilled with.
type dashboardData struct {
	Now            time.Time
	Handlers       []dashboardHandler
	SampleCart     string
	SampleSegments string
	Script         template.JS
}

type dashboardHandler struct {
	Name      string
	Anchor    string // the handler's position, for in-page links that never contain user text
	Rules     *sources.Status
	Catalog   *sources.Status
	Timezone  string
	Audiences []report.AudienceRow
	RuleRows  []dashboardRule
	MerchRows []dashboardMerch
	Warnings  []string
}

// dashboardMerch is one row of the merchandising rules table.
type dashboardMerch struct {
	ID, Label, Audiences, Action, Status string
	Priority                             int
	Hits                                 int64
}

// dashboardRule is one row of the rules table; its JSON is what the page's script searches
// and filters by.
type dashboardRule struct {
	ID        string                `json:"id"`
	Label     string                `json:"label"`
	Audiences string                `json:"-"` // who the rule is for, in words
	Named     []report.RuleAudience `json:"audiences"`
	Action    string                `json:"-"`
	Priority  int                   `json:"-"`
	Status    string                `json:"status"`
	Stop      bool                  `json:"-"`
}

// sampleCart prefills the simulate form: a small cart a merchandiser edits.
const sampleCart = `{
  "currency": "USD",
  "store": "default",
  "shipping_amount": 10,
  "items": [
    {"sku": "24-MB01", "qty": 2, "price": 34},
    {"sku": "24-WG02", "qty": 1, "price": 47}
  ]
}`

func (adminAPI) handleUI(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := dashboardTemplate.Execute(&buf, buildDashboard(handlerStates(), time.Now())); err != nil {
		return fmt.Errorf("rendering the dashboard: %w", err)
	}
	w.Header().Set("Content-Security-Policy", dashboardCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

func buildDashboard(states []*handlerState, now time.Time) dashboardData {
	d := dashboardData{Now: now, SampleCart: sampleCart, Script: template.JS(dashboardJS)}
	for i, s := range states {
		aud, rt := s.audienceTable(now), s.ruleTable(now)
		h := dashboardHandler{
			Name: s.name, Anchor: fmt.Sprint(i), Rules: rt.Status, Catalog: aud.Catalog,
			Timezone: rt.Timezone, Audiences: aud.Audiences, Warnings: aud.Warnings,
		}
		names := make(map[string]string, len(aud.Audiences))
		for _, a := range aud.Audiences {
			names[a.ID] = a.Name
		}
		for _, row := range rt.Rules {
			h.RuleRows = append(h.RuleRows, dashboardRule{
				ID: row.ID, Label: row.Rule.Label, Audiences: report.DescribeAudiences(row.Rule.Audiences, names),
				Named: row.Audiences, Action: report.DescribeAction(row.Rule), Priority: row.Rule.Priority,
				Status: row.Status, Stop: row.Rule.StopFurtherRules,
			})
			if d.SampleSegments == "" && len(row.Rule.Audiences.IDs) > 0 && row.Rule.Audiences.Mode != "none" {
				d.SampleSegments = row.Rule.Audiences.IDs[0]
			}
		}
		for _, row := range rt.Merchandising {
			h.MerchRows = append(h.MerchRows, dashboardMerch{
				ID: row.ID, Label: row.Rule.Label, Audiences: report.DescribeAudiences(row.Rule.Audiences, names),
				Action: report.DescribeMerch(row.Rule), Status: row.Status, Priority: row.Rule.Priority, Hits: row.Hits,
			})
		}
		d.Handlers = append(d.Handlers, h)
	}
	return d
}

// dashboardJS searches, sorts and filters the tables, shows an audience's detail, keeps the
// view in the URL hash and runs the simulate form. It renders with textContent and DOM calls
// only, so nothing the server returns is ever parsed as HTML. The page's CSP allows exactly
// this script, by its hash.
//
//go:embed dashboard/dashboard.js
var dashboardJS string

// dashboardHTML is the page's template; the script is put in at render time.
//
//go:embed dashboard/dashboard.html
var dashboardHTML string

// dashboardCSP allows nothing but the page's own style and script and requests back to the
// admin endpoint.
var dashboardCSP = func() string {
	sum := sha256.Sum256([]byte(dashboardJS))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; " +
		"script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	// json puts a row in a data- attribute for the script; the template escapes it there.
	"json": func(v any) (string, error) {
		out, err := json.Marshal(v)
		return string(out), err
	},
}).Parse(dashboardHTML))
