package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/sources"
	"github.com/caddy-audiences/caddy-audiences/rules"
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
	Audiences []audienceRow
	RuleRows  []dashboardRule
	Warnings  []string
}

type dashboardRule struct {
	ID        string
	Label     string
	Audiences string
	Action    string
	Priority  int
	Status    string
	Stop      bool
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
				ID: row.ID, Label: row.Rule.Label, Audiences: describeAudiences(row.Rule.Audiences, names),
				Action: describeAction(row.Rule), Priority: row.Rule.Priority, Status: row.Status,
				Stop: row.Rule.StopFurtherRules,
			})
			if d.SampleSegments == "" && len(row.Rule.Audiences.IDs) > 0 && row.Rule.Audiences.Mode != "none" {
				d.SampleSegments = row.Rule.Audiences.IDs[0]
			}
		}
		d.Handlers = append(d.Handlers, h)
	}
	return d
}

// describeAudiences says in words who a rule is for, naming audiences by catalog name.
func describeAudiences(a rules.Audiences, names map[string]string) string {
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

// describeAction says in words what a rule takes off.
func describeAction(r rules.Rule) string {
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

// dashboardJS posts the simulate form and renders the result with textContent only, so
// nothing the server returns is ever parsed as HTML.
const dashboardJS = `
"use strict";
const $ = (id) => document.getElementById(id);
const form = $("simulate-form");
function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}
async function post(path, body) {
  const resp = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: body});
  const text = await resp.text();
  try { return {status: resp.status, data: JSON.parse(text)}; } catch (e) { return {status: resp.status, data: {error: text}}; }
}
function show(status, data) {
  $("result-json").textContent = JSON.stringify(data, null, 2);
  $("summary").textContent = status === 200 && !data.error
    ? "Total discount " + data.total_discount + " (shipping " + data.shipping_discount + ")"
    : "Error (" + status + "): " + data.error;
  const amounts = {};
  for (const d of data.discounts || []) amounts[d.rule_id] = (amounts[d.rule_id] || 0) + d.amount;
  for (const t of data.trace || []) {
    const tr = $("trace-rows").insertRow();
    if (t.applied) tr.className = "applied";
    cell(tr, t.rule_id);
    cell(tr, t.applied ? "yes" : "no");
    cell(tr, t.reason || "");
    cell(tr, t.rule_id in amounts ? amounts[t.rule_id].toFixed(2) : "", "num");
  }
}
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = form.elements;
  $("result").hidden = false;
  $("trace-rows").replaceChildren();
  $("result-json").textContent = "";
  let cart;
  try { cart = JSON.parse(f.cart.value); } catch (e) {
    $("summary").textContent = "The cart is not valid JSON: " + e.message;
    return;
  }
  const req = {cart: cart, segments: f.segments.value.split(",").map((s) => s.trim()).filter(Boolean)};
  for (const k of ["at", "store", "handler"]) if (f[k].value.trim()) req[k] = f[k].value.trim();
  history.replaceState(null, "", "#sim=" + encodeURIComponent(JSON.stringify(req)));
  $("summary").textContent = "Simulating…";
  const {status, data} = await post("simulate", JSON.stringify(req));
  show(status, data);
});
// A link ending in #sim=<request JSON> opens with that simulation filled in and run, so a
// merchandiser can share it.
if (location.hash.startsWith("#sim=")) {
  try {
    const req = JSON.parse(decodeURIComponent(location.hash.slice(5)));
    const f = form.elements;
    f.cart.value = JSON.stringify(req.cart, null, 2);
    f.segments.value = (req.segments || []).join(",");
    for (const k of ["at", "store", "handler"]) if (typeof req[k] === "string") f[k].value = req[k];
    form.requestSubmit();
  } catch (e) {
    $("result").hidden = false;
    $("summary").textContent = "The simulation in the link is not valid: " + e.message;
  }
}
$("reload").addEventListener("click", async () => {
  $("reload-status").textContent = "Reloading…";
  const {status, data} = await post("reload", "");
  if (status === 200) { location.reload(); return; }
  $("reload-status").textContent = "Reload failed: " + data.error;
});
`

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
}).Parse(dashboardHTML))

const dashboardHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Audiences · Caddy</title>
<style>
:root { --fg: #1d1d1f; --muted: #6e6e73; --line: #e3e3e8; --bg: #f7f7f9; --accent: #1473e6; --bad: #c9252d; --warn: #b35c00; --ok: #12805c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 32px; display: flex; align-items: baseline; gap: 24px; }
header h1 { font-size: 20px; margin: 0; }
header p { margin: 0; color: var(--muted); }
main { padding: 8px 32px 32px; }
section.handler, section#simulate { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 24px; margin: 20px 0; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id { white-space: nowrap; }
small, .muted { color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.source { margin: 4px 0; }
.error { border-left: 4px solid var(--bad); background: #fdecec; padding: 8px 12px; margin: 8px 0; }
.warning { border-left: 4px solid var(--warn); background: #fff4e5; padding: 8px 12px; margin: 8px 0; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 8px; font-size: 12px; background: #eee; }
.badge.active { background: #e3f5ee; color: var(--ok); }
.badge.inactive, .badge.expired { background: #f0f0f2; color: var(--muted); }
.badge.scheduled { background: #e8f1fd; color: var(--accent); }
.badge.missing { background: #fff4e5; color: var(--warn); }
.name { font-weight: 600; }
a { color: var(--accent); text-decoration: none; }
form { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
form label { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 12px; color: var(--muted); }
form label.wide { grid-column: 1 / -1; }
textarea, input, select { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; padding: 6px 8px; border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: 6px 14px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
tr.applied td { background: #f1faf6; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 12px; overflow: auto; max-height: 480px; }
</style>
</head>
<body>
<header>
<h1>Audiences</h1>
<p>As of {{when .Now}}</p>
<p><button id="reload" class="secondary" type="button">Reload sources now</button> <span id="reload-status"></span></p>
</header>
<main>
{{- if not .Handlers}}
<section class="handler"><p>No <code>audiences</code> handler is configured.</p></section>
{{- end}}
{{- range .Handlers}}
{{- $h := .}}
<section class="handler" id="handler-{{.Anchor}}">
<h2>{{.Name}}</h2>
<div class="source"><strong>Rules</strong>:
{{- with .Rules}} <code>{{.Source}}</code> · version <code>{{.Version}}</code> · loaded {{when .LoadedAt}} · loads {{.Loads}} · failures {{.Failures}}{{if $h.Timezone}} · time zone {{$h.Timezone}}{{end}}
{{- else}} <span class="muted">none configured; responses are not rewritten</span>{{end}}</div>
{{- with .Rules}}{{if .LastError}}
<div class="error" role="alert"><strong>The last rules load failed</strong> ({{when .ErrorAt}}): <code>{{.LastError}}</code><br>Version <code>{{.Version}}</code> stays in force.</div>
{{- end}}{{end}}
<div class="source"><strong>Audience catalog</strong>:
{{- with .Catalog}} <code>{{.Source}}</code> · version <code>{{.Version}}</code> · loaded {{when .LoadedAt}} · loads {{.Loads}} · failures {{.Failures}}
{{- else}} <span class="muted">none configured; every audience id is accepted</span>{{end}}</div>
{{- with .Catalog}}{{if .LastError}}
<div class="error" role="alert"><strong>The last audience catalog load failed</strong> ({{when .ErrorAt}}): <code>{{.LastError}}</code><br>Version <code>{{.Version}}</code> stays in force.</div>
{{- end}}{{end}}
{{- range .Warnings}}
<div class="warning">{{.}}</div>
{{- end}}
<h3>Audiences</h3>
<table class="audiences">
<thead><tr><th>Name</th><th>Origin</th><th>Websites</th><th>Cart price rules</th><th>Last updated</th><th class="num">Hits (total / 5 min)</th></tr></thead>
<tbody>
{{- range .Audiences}}
<tr>
<td><span class="name">{{or .Name .ID}}</span>{{if not .InCatalog}} <span class="badge missing">not in catalog</span>{{end}}<br><small><code>{{.ID}}</code></small>{{with .Description}}<br><small>{{.}}</small>{{end}}</td>
<td>{{.Origin}}</td>
<td>{{join .Websites}}</td>
<td>{{range $i, $id := .Rules}}{{if $i}}, {{end}}<code>{{$id}}</code>{{else}}<span class="muted">none</span>{{end}}</td>
<td>{{.LastUpdated}}</td>
<td class="num">{{.Hits.Total}} / {{.Hits.LastMinutes}}</td>
</tr>
{{- else}}
<tr><td colspan="6" class="muted">No audiences: there is no catalog and no rule names one.</td></tr>
{{- end}}
</tbody>
</table>
<h3>Cart price rules</h3>
<table class="rules">
<thead><tr><th>ID</th><th>Label</th><th>Audiences</th><th>Action</th><th class="num">Priority</th><th>Status</th></tr></thead>
<tbody>
{{- range .RuleRows}}
<tr>
<td class="id"><code>{{.ID}}</code></td>
<td>{{.Label}}</td>
<td>{{.Audiences}}</td>
<td>{{.Action}}{{if .Stop}}<br><small>stops further rules</small>{{end}}</td>
<td class="num">{{.Priority}}</td>
<td><span class="badge {{.Status}}">{{.Status}}</span></td>
</tr>
{{- else}}
<tr><td colspan="6" class="muted">No rules.</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
<section id="simulate">
<h2>Simulate a cart</h2>
<form id="simulate-form">
<label>Handler<select name="handler">{{range .Handlers}}{{if .Rules}}<option>{{.Name}}</option>{{end}}{{end}}</select></label>
<label>Segments (comma-separated audience ids)<input name="segments" value="{{.SampleSegments}}"></label>
<label>Time (RFC 3339 or date; empty: now)<input name="at" placeholder="2026-11-27T09:00:00-08:00"></label>
<label>Store (overrides the cart's)<input name="store" placeholder="default"></label>
<label class="wide">Cart snapshot (JSON)<textarea name="cart" rows="11" spellcheck="false">{{.SampleCart}}</textarea></label>
<div><button type="submit">Simulate</button></div>
</form>
<div id="result" hidden>
<h3 id="summary"></h3>
<table>
<thead><tr><th>Rule</th><th>Applied</th><th>Reason</th><th class="num">Discount</th></tr></thead>
<tbody id="trace-rows"></tbody>
</table>
<h3>Result JSON</h3>
<pre id="result-json"></pre>
</div>
</section>
</main>
<script>{{.Script}}</script>
</body>
</html>
`
