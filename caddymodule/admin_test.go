// The admin API's and dashboard's tests: they share the provisioned handlers and the admin
// request helpers, hence one file.

package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

const (
	segClub   = "free-ship-club"
	segScript = "3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03"
)

// adminRules uses a catalog audience (segVIP), one the catalog lacks (segClub), and covers
// every rule status.
const adminRules = `{
  "timezone": "America/Los_Angeles",
  "rules": [
    {"id": "vip-20", "label": "VIP 20%", "priority": 10, "audiences": {"any": ["` + segVIP + `"]},
     "action": {"type": "by_percent", "amount": 20}},
    {"id": "club-5", "label": "Club $5", "priority": 20, "audiences": {"any": ["` + segClub + `", "` + segVIP + `"]},
     "action": {"type": "cart_fixed", "amount": 5}},
    {"id": "off", "active": false, "priority": 30, "action": {"type": "by_percent", "amount": 1}},
    {"id": "future", "from": "2999-01-01", "priority": 40, "action": {"type": "by_percent", "amount": 1}},
    {"id": "past", "to": "2001-01-01", "priority": 50, "action": {"type": "by_percent", "amount": 1}}
  ]
}`

const adminCatalog = `{"audiences": [
  {"id": "` + segVIP + `", "name": "VIP shoppers", "description": "Lifetime value over $1,000", "origin": "Experience Platform",
   "websites": ["Luma US"], "last_updated": "2026-11-01"},
  {"id": "` + segScript + `", "name": "<script>alert(1)</script>", "origin": "Custom upload", "websites": ["Luma <b>UK</b>"]}
]}`

// adminHandler provisions a handler through the real path and releases it after the test.
// Its name is unique to the test: states other tests leave in the pool must not matter.
func adminHandler(t *testing.T, h *Handler) *Handler {
	t.Helper()
	if h.Name == "" {
		h.Name = "admin-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return h
}

func withRules(h *Handler) *Handler {
	h.RulesJSON = json.RawMessage(adminRules)
	h.AudiencesJSON = json.RawMessage(adminCatalog)
	return h
}

// callAdmin runs one request through the admin route for path and answers as Caddy's admin
// endpoint does, including its JSON body for API errors.
func callAdmin(t *testing.T, method, target string, body string) (int, http.Header, []byte) {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	var handler caddy.AdminHandler
	for _, route := range (adminAPI{}).Routes() {
		if route.Pattern == path {
			handler = route.Handler
		}
	}
	if handler == nil {
		t.Fatalf("no admin route for %s", path)
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	if err := handler.ServeHTTP(rec, req); err != nil {
		var apiErr caddy.APIError
		if !errors.As(err, &apiErr) {
			return http.StatusInternalServerError, rec.Header(), []byte(err.Error())
		}
		out, _ := json.Marshal(map[string]string{"error": apiErr.Error()})
		return apiErr.HTTPStatus, rec.Header(), out
	}
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// sendMembership counts one request with the given membership header through h.
func sendMembership(t *testing.T, h *Handler, segments string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("aep-segments-membership", segments)
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatal(err)
	}
}

func findHandler[T any](t *testing.T, handlers []T, name string, nameOf func(T) string) T {
	t.Helper()
	for _, h := range handlers {
		if nameOf(h) == name {
			return h
		}
	}
	t.Fatalf("handler %q not listed", name)
	var zero T
	return zero
}

func TestAdminAudiences(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	sendMembership(t, h, segVIP+","+segClub)
	sendMembership(t, h, segVIP)

	status, header, body := callAdmin(t, http.MethodGet, "/audiences", "")
	if status != http.StatusOK || header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", status, header.Get("Content-Type"), body)
	}
	var resp audiencesResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	got := findHandler(t, resp.Handlers, h.Name, func(h handlerAudiences) string { return h.Name })
	want := []report.AudienceRow{
		{ID: segVIP, Name: "VIP shoppers", Description: "Lifetime value over $1,000", Origin: "Experience Platform",
			Websites: []string{"Luma US"}, LastUpdated: "2026-11-01", InCatalog: true,
			Rules: []string{"vip-20", "club-5"}, Hits: report.HitCount{Total: 2, LastMinutes: 2}},
		{ID: segScript, Name: "<script>alert(1)</script>", Origin: "Custom upload", Websites: []string{"Luma <b>UK</b>"},
			InCatalog: true, Rules: []string{}},
		// The catalog drops unknown membership, so the club audience is never counted.
		{ID: segClub, Websites: []string{}, Rules: []string{"club-5"}},
	}
	if g, w := mustJSON(t, got.Audiences), mustJSON(t, want); g != w {
		t.Errorf("audiences:\n got %s\nwant %s", g, w)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], segClub) || !strings.Contains(got.Warnings[0], "club-5") {
		t.Errorf("warnings = %q, want one about %s used by club-5", got.Warnings, segClub)
	}
	if got.Catalog == nil || got.Catalog.Version == "" || got.Catalog.Loads != 1 {
		t.Errorf("catalog status = %+v", got.Catalog)
	}
}

func TestAdminAudiencesWithoutCatalog(t *testing.T) {
	h := adminHandler(t, &Handler{RulesJSON: json.RawMessage(adminRules)})
	sendMembership(t, h, segClub+","+segVIP+",not-used-by-any-rule")
	_, _, body := callAdmin(t, http.MethodGet, "/audiences", "")
	var resp audiencesResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	got := findHandler(t, resp.Handlers, h.Name, func(h handlerAudiences) string { return h.Name })
	if got.Catalog != nil || len(got.Warnings) != 0 {
		t.Errorf("catalog %+v, warnings %q; want neither without a catalog", got.Catalog, got.Warnings)
	}
	var ids []string
	for _, a := range got.Audiences {
		ids = append(ids, a.ID)
		if a.InCatalog || a.Hits.Total != 1 {
			t.Errorf("%s: in_catalog %v, hits %+v; want false and 1", a.ID, a.InCatalog, a.Hits)
		}
	}
	// Rule-only audiences are listed by id.
	if want := []string{segVIP, segClub}; mustJSON(t, ids) != mustJSON(t, want) {
		t.Errorf("audiences %q, want %q", ids, want)
	}
}

func TestAdminRules(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	status, _, body := callAdmin(t, http.MethodGet, "/audiences/rules", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var resp struct {
		Handlers []struct {
			Name      string    `json:"name"`
			Source    string    `json:"source"`
			Version   string    `json:"version"`
			LoadedAt  time.Time `json:"loaded_at"`
			LastError *string   `json:"last_error"`
			Loads     int       `json:"loads"`
			Failures  int       `json:"failures"`
			Timezone  string    `json:"timezone"`
			Count     int       `json:"count"`
			Rules     []struct {
				ID     string          `json:"id"`
				Status string          `json:"status"`
				Rule   json.RawMessage `json:"rule"`
			} `json:"rules"`
		} `json:"handlers"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	var got = resp.Handlers[0]
	for _, hr := range resp.Handlers {
		if hr.Name == h.Name {
			got = hr
		}
	}
	if got.Name != h.Name {
		t.Fatalf("handler %q not listed in %s", h.Name, body)
	}
	rs, err := rules.Decode([]byte(adminRules))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != rs.Version() || got.Source == "" || got.LoadedAt.IsZero() || got.Loads != 1 ||
		got.Failures != 0 || got.LastError != nil || got.Timezone != "America/Los_Angeles" || got.Count != 5 {
		t.Errorf("status = %+v; want version %s, one load, no error, 5 rules", got, rs.Version())
	}
	wantStatus := map[string]string{"vip-20": "active", "club-5": "active", "off": "inactive", "future": "scheduled", "past": "expired"}
	for _, r := range got.Rules {
		if r.Status != wantStatus[r.ID] {
			t.Errorf("rule %s: status %q, want %q", r.ID, r.Status, wantStatus[r.ID])
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, r.Rule); err != nil || !bytes.HasPrefix(compact.Bytes(), []byte(`{"id":"`+r.ID+`"`)) {
			t.Errorf("rule %s is not as written: %s", r.ID, r.Rule)
		}
	}
	if len(got.Rules) != 5 {
		t.Errorf("%d rules, want 5", len(got.Rules))
	}
}

func TestAdminRulesWithoutRules(t *testing.T) {
	h := adminHandler(t, &Handler{})
	_, _, body := callAdmin(t, http.MethodGet, "/audiences/rules", "")
	var resp struct {
		Handlers []map[string]any `json:"handlers"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	for _, hr := range resp.Handlers {
		if hr["name"] != h.Name {
			continue
		}
		if _, ok := hr["version"]; ok || hr["count"] != 0.0 || len(hr["rules"].([]any)) != 0 {
			t.Errorf("handler without rules = %v; want no source fields, count 0, no rules", hr)
		}
		return
	}
	t.Fatalf("handler %q not listed: %s", h.Name, body)
}

func TestAdminSimulateMatchesCLI(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	cart := `{"currency": "USD", "store": "default", "items": [{"sku": "24-MB01", "qty": 2, "price": 34}]}`
	const at = "2026-11-27T09:00:00-08:00"

	dir := t.TempDir()
	rulesPath, cartPath := filepath.Join(dir, "rules.json"), filepath.Join(dir, "cart.json")
	for path, data := range map[string]string{rulesPath: adminRules, cartPath: cart} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var cliOut, cliErr bytes.Buffer
	if code := report.Simulate(nil, &cliOut, &cliErr, report.SimulateOptions{
		Rules: rulesPath, Cart: cartPath, Segments: segClub + "," + segVIP, At: at, Store: "default",
	}); code != 0 {
		t.Fatalf("CLI simulate exited %d: %s", code, cliErr.String())
	}

	body := `{"cart": ` + cart + `, "segments": [" ` + segVIP + `", "", "` + segClub + `", "` + segVIP + `"], "at": "` + at +
		`", "store": "default", "handler": "` + h.Name + `"}`
	status, header, got := callAdmin(t, http.MethodPost, "/audiences/simulate", body)
	if status != http.StatusOK || header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", status, header.Get("Content-Type"), got)
	}
	if !bytes.Equal(got, cliOut.Bytes()) {
		t.Errorf("admin simulate differs from the CLI:\nadmin %s\n  cli %s", got, cliOut.Bytes())
	}
	var res struct {
		TotalDiscount float64 `json:"total_discount"`
		Trace         []struct {
			RuleID  string `json:"rule_id"`
			Applied bool   `json:"applied"`
		} `json:"trace"`
	}
	if err := json.Unmarshal(got, &res); err != nil {
		t.Fatal(err)
	}
	if res.TotalDiscount <= 0 || len(res.Trace) != 5 || !res.Trace[0].Applied {
		t.Errorf("result %s: want a discount and a trace of all 5 rules with vip-20 applied", got)
	}
}

func TestAdminSimulateStoreOverridesCart(t *testing.T) {
	h := adminHandler(t, &Handler{RulesJSON: json.RawMessage(`{"rules": [
		{"id": "de-only", "stores": ["de"], "action": {"type": "by_percent", "amount": 10}}]}`)})
	cart := `{"store": "default", "items": [{"sku": "A", "qty": 1, "price": 100}]}`
	for store, want := range map[string]bool{"": false, "de": true} {
		body := `{"cart": ` + cart + `, "store": "` + store + `", "handler": "` + h.Name + `"}`
		status, _, got := callAdmin(t, http.MethodPost, "/audiences/simulate", body)
		if status != http.StatusOK {
			t.Fatalf("store %q: status %d: %s", store, status, got)
		}
		if applied := bytes.Contains(got, []byte(`"applied": true`)); applied != want {
			t.Errorf("store %q: applied %v, want %v: %s", store, applied, want, got)
		}
	}
}

func TestAdminSimulateBadInput(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	empty := adminHandler(t, &Handler{Name: "admin-test-no-rules-" + t.Name()})
	cart := `{"items": [{"sku": "A", "qty": 1, "price": 10}]}`
	named := func(fields string) string {
		return `{"cart": ` + cart + `, "handler": "` + h.Name + `"` + fields + `}`
	}
	tests := []struct {
		name   string
		method string
		body   string
		status int
		want   string
	}{
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed, "method GET not allowed"},
		{"empty body", http.MethodPost, "", http.StatusBadRequest, "request body: empty"},
		{"invalid JSON", http.MethodPost, `{"cart": `, http.StatusBadRequest, "request body: unexpected EOF"},
		{"not an object", http.MethodPost, `[1]`, http.StatusBadRequest, "request body: must be a JSON object, got array"},
		{"syntax error", http.MethodPost, `{"cart" {}}`, http.StatusBadRequest, "request body: invalid JSON at byte 9: invalid character '{' after object key"},
		{"unknown field", http.MethodPost, named(`, "segment": ["x"]`), http.StatusBadRequest, `unknown field "segment"`},
		{"trailing data", http.MethodPost, named("") + ` {}`, http.StatusBadRequest, "data after the JSON object"},
		{"segments not strings", http.MethodPost, named(`, "segments": [1]`), http.StatusBadRequest, "request body: segments: must be a string, got number"},
		{"no cart", http.MethodPost, `{"handler": "` + h.Name + `"}`, http.StatusBadRequest, "cart: required"},
		{"null cart", http.MethodPost, `{"cart": null, "handler": "` + h.Name + `"}`, http.StatusBadRequest, "cart: required"},
		{"bad cart", http.MethodPost, `{"cart": {"items": [{"sku": "A", "qty": "one"}], "extra": 1}, "handler": "` + h.Name + `"}`,
			http.StatusBadRequest, `cart: extra: unknown field; items[0].qty: must be a number, got string; items[0].price: required`},
		{"bad time", http.MethodPost, named(`, "at": "next tuesday"`), http.StatusBadRequest, `at: "next tuesday" is neither RFC 3339`},
		{"unknown handler", http.MethodPost, `{"cart": ` + cart + `, "handler": "nope"}`, http.StatusBadRequest, `handler: unknown "nope" (configured: `},
		{"handler without rules", http.MethodPost, `{"cart": ` + cart + `, "handler": "` + empty.Name + `"}`, http.StatusBadRequest, "has no rules"},
		{"too large", http.MethodPost, named(`, "store": "` + strings.Repeat("x", maxSimulateBody) + `"`), http.StatusRequestEntityTooLarge, "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := callAdmin(t, tt.method, "/audiences/simulate", tt.body)
			var apiErr struct{ Error string }
			if err := json.Unmarshal(body, &apiErr); err != nil {
				t.Fatalf("status %d, body %s: %v", status, body, err)
			}
			if status != tt.status || !strings.Contains(apiErr.Error, tt.want) {
				t.Errorf("status %d, body %s; want %d containing %q", status, body, tt.status, tt.want)
			}
			if status == http.StatusMethodNotAllowed && header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", header.Get("Allow"))
			}
		})
	}
}

func TestAdminSimulateUnevaluableCart(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	// Each value is in range, but a zero row_total means qty × price, which is not.
	body := `{"cart": {"items": [{"sku": "A", "qty": 1000000, "price": 100000000000, "row_total": 0}]}, "handler": "` + h.Name + `"}`
	status, _, got := callAdmin(t, http.MethodPost, "/audiences/simulate", body)
	if status != http.StatusUnprocessableEntity || !bytes.Contains(got, []byte(`"error": "invalid cart: items[0].row_total: 100000000000000000 is out of range`)) {
		t.Errorf("status %d: %s; want 422 with the engine's error", status, got)
	}
}

func TestPickHandler(t *testing.T) {
	withSet := func(name string) *handlerState {
		w, err := sources.New(sources.Options{Inline: []byte(adminRules)}, func(data []byte) (*rules.RuleSet, error) {
			return rules.Decode(data)
		})
		if err != nil {
			t.Fatal(err)
		}
		return &handlerState{name: name, rules: w}
	}
	none, a, b := &handlerState{name: "a-none"}, withSet("b-rules"), withSet("c-rules")
	tests := []struct {
		name   string
		states []*handlerState
		pick   string
		want   *handlerState
		err    string
	}{
		{"first with rules", []*handlerState{none, a, b}, "", a, ""},
		{"by name", []*handlerState{none, a, b}, "c-rules", b, ""},
		{"by name without rules", []*handlerState{none, a}, "a-none", none, ""},
		{"unknown", []*handlerState{none, a}, "x", nil, `handler: unknown "x" (configured: a-none, b-rules)`},
		{"none has rules", []*handlerState{none}, "", nil, "no audiences handler has rules"},
		{"none configured", nil, "", nil, "no audiences handler is configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickHandler(tt.states, tt.pick)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
				t.Errorf("pickHandler = %v, %v; want %v, %q", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestAdminReload(t *testing.T) {
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rulesPath, []byte(adminRules), 0o600); err != nil {
		t.Fatal(err)
	}
	// A long interval: only the forced reload may pick the change up.
	h := adminHandler(t, &Handler{Rules: rulesPath, ReloadInterval: caddy.Duration(time.Hour)})
	other := adminHandler(t, &Handler{Name: "admin-test-other-" + t.Name(), RulesJSON: json.RawMessage(adminRules)})
	before := h.state.rules.Status().Version

	reload := func(target string) (int, reloadResponse) {
		t.Helper()
		status, _, body := callAdmin(t, http.MethodPost, target, "")
		var resp reloadResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("status %d: %s: %v", status, body, err)
		}
		return status, resp
	}

	changed := strings.Replace(adminRules, `"amount": 20`, `"amount": 25`, 1)
	if err := os.WriteFile(rulesPath, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	status, resp := reload("/audiences/reload?handler=" + h.Name)
	if status != http.StatusOK || len(resp.Handlers) != 1 || resp.Handlers[0].Name != h.Name {
		t.Fatalf("status %d, %+v; want 200 with only %s", status, resp, h.Name)
	}
	got := resp.Handlers[0]
	if got.Rules == nil || got.Rules.Version == before || got.Rules.Version != h.ruleSet().Version() || got.Audiences != nil {
		t.Errorf("after reload: rules %+v (was %s), audiences %+v; want the new version and no catalog", got.Rules, before, got.Audiences)
	}

	if err := os.WriteFile(rulesPath, []byte(`{"rules": [{"id": "x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	status, resp = reload("/audiences/reload")
	if status != http.StatusUnprocessableEntity || !strings.Contains(resp.Error, h.Name+": rules: ") {
		t.Fatalf("status %d, error %q; want 422 naming %s", status, resp.Error, h.Name)
	}
	var sawOther bool
	for _, hr := range resp.Handlers {
		switch hr.Name {
		case h.Name:
			if hr.Error == "" || hr.Rules.LastError == "" || hr.Rules.Version != got.Rules.Version {
				t.Errorf("failed reload: %+v; want the error and the last good version %s", hr, got.Rules.Version)
			}
		case other.Name:
			sawOther = hr.Error == ""
		}
	}
	if !sawOther {
		t.Errorf("the inline handler %s was not reloaded cleanly: %+v", other.Name, resp.Handlers)
	}

	if s, _, body := callAdmin(t, http.MethodPost, "/audiences/reload?handler=nope", ""); s != http.StatusBadRequest || !strings.Contains(string(body), `unknown \"nope\"`) {
		t.Errorf("unknown handler: status %d: %s", s, body)
	}
	if s, _, _ := callAdmin(t, http.MethodGet, "/audiences/reload", ""); s != http.StatusMethodNotAllowed {
		t.Errorf("GET reload: status %d, want 405", s)
	}
}

func TestAdminMethods(t *testing.T) {
	for _, path := range []string{"/audiences", "/audiences/rules", "/audiences/ui"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			status, header, body := callAdmin(t, method, path, "")
			if status != http.StatusMethodNotAllowed || header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q: %s", method, path, status, header.Get("Allow"), body)
			}
		}
	}
}

func TestAdminDashboard(t *testing.T) {
	h := adminHandler(t, withRules(&Handler{}))
	sendMembership(t, h, segVIP)
	status, header, body := callAdmin(t, http.MethodGet, "/audiences/ui", "")
	if status != http.StatusOK || header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, content type %q", status, header.Get("Content-Type"))
	}
	page := string(body)
	for _, want := range []string{
		"<h2>" + h.Name + "</h2>",
		"<th>Name</th><th>Origin</th><th>Websites</th><th>Cart price rules</th><th>Last updated</th>",
		`<span class="name">VIP shoppers</span>`,
		"Experience Platform", "Luma US", "2026-11-01",
		`<td class="num">1 / 1</td>`,
		"<code>vip-20</code>, <code>club-5</code>",
		`<span class="badge missing">not in catalog</span>`,
		`<span class="badge scheduled">scheduled</span>`,
		`<span class="badge expired">expired</span>`,
		`<span class="badge inactive">inactive</span>`,
		"20% off each item", "5 off the cart",
		`<textarea name="cart"`, `&#34;sku&#34;: &#34;24-MB01&#34;`,
		`<option>` + h.Name + `</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	csp := header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'sha256-") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if !strings.Contains(page, "<script>"+dashboardJS+"</script>") {
		t.Error("the inline script differs from dashboardJS, so its CSP hash would not match")
	}
	for _, external := range []string{"http://", "https://", "src="} {
		if strings.Contains(page, external) {
			t.Errorf("dashboard refers to an external asset (%q)", external)
		}
	}
}

func TestAdminDashboardEscapes(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	h := adminHandler(t, &Handler{
		Name:          "admin-test-" + evil,
		RulesJSON:     json.RawMessage(`{"rules": [{"id": "r1", "label": "` + `<img src=x onerror=alert(2)>` + `", "audiences": {"any": ["` + segScript + `"]}, "action": {"type": "by_percent", "amount": 5}}]}`),
		AudiencesJSON: json.RawMessage(adminCatalog),
	})
	_, _, body := callAdmin(t, http.MethodGet, "/audiences/ui", "")
	page := string(body)
	if strings.Count(page, "<script>") != 1 || strings.Contains(page, "alert(1)</script>") {
		t.Errorf("an audience or handler name came out unescaped")
	}
	if strings.Contains(page, "<img") || strings.Contains(page, "<b>UK") {
		t.Errorf("a rule label or website came out unescaped")
	}
	for _, want := range []string{
		`<span class="name">&lt;script&gt;alert(1)&lt;/script&gt;</span>`,
		"<h2>" + strings.ReplaceAll(strings.ReplaceAll(h.Name, "<", "&lt;"), ">", "&gt;") + "</h2>",
		"&lt;img src=x onerror=alert(2)&gt;",
		"Luma &lt;b&gt;UK&lt;/b&gt;",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks the escaped %q", want)
		}
	}
}

func TestAdminModuleRegistered(t *testing.T) {
	info, err := caddy.GetModule("admin.api.audiences")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.New().(caddy.AdminRouter); !ok {
		t.Error("admin.api.audiences is not an AdminRouter")
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

func TestAdminDashboardShowsLoadError(t *testing.T) {
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rulesPath, []byte(adminRules), 0o600); err != nil {
		t.Fatal(err)
	}
	h := adminHandler(t, &Handler{Rules: rulesPath, ReloadInterval: caddy.Duration(time.Hour)})
	version := h.ruleSet().Version()
	if err := os.WriteFile(rulesPath, []byte(`{"rules": [{"id": "broken <x>"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, _, body := callAdmin(t, http.MethodPost, "/audiences/reload?handler="+h.Name, ""); status != http.StatusUnprocessableEntity {
		t.Fatalf("reload: status %d: %s", status, body)
	}
	_, _, body := callAdmin(t, http.MethodGet, "/audiences/ui", "")
	page := string(body)
	start := strings.Index(page, "<h2>"+h.Name+"</h2>")
	if start < 0 {
		t.Fatalf("handler %s not on the dashboard", h.Name)
	}
	page = page[start:]
	for _, want := range []string{
		`<div class="error" role="alert"><strong>The last rules load failed</strong>`,
		"broken &lt;x&gt;",
		"Version <code>" + version + "</code> stays in force.",
		"loads 1 · failures 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

// syncedAdminCatalog is adminCatalog as the Experience Platform sync writes it: VIP shoppers
// deactivated, the other audience a draft not activated to the store's destination.
const syncedAdminCatalog = `{"audiences": [
  {"id": "` + segVIP + `", "name": "VIP shoppers", "origin": "Experience Platform", "lifecycle": "inactive",
   "activated": true, "flows": ["commerce-flow"]},
  {"id": "` + segScript + `", "lifecycle": "draft", "activated": false}
]}`

func TestAdminAudiencesLifecycle(t *testing.T) {
	h := adminHandler(t, &Handler{RulesJSON: json.RawMessage(adminRules), AudiencesJSON: json.RawMessage(syncedAdminCatalog)})
	_, _, body := callAdmin(t, http.MethodGet, "/audiences", "")
	type handler struct {
		Name      string            `json:"name"`
		Audiences []json.RawMessage `json:"audiences"` // raw, to see which fields are present
		Warnings  []string          `json:"warnings"`
	}
	var resp struct {
		Handlers []handler `json:"handlers"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	got := findHandler(t, resp.Handlers, h.Name, func(h handler) string { return h.Name })
	wantRows := []string{
		`{"id":"` + segVIP + `","name":"VIP shoppers","description":"","origin":"Experience Platform","websites":[],"last_updated":"",` +
			`"in_catalog":true,"lifecycle":"inactive","activated":true,"flows":["commerce-flow"],` +
			`"warning":"deactivated in Experience Platform","rules":["vip-20","club-5"],"hits":{"total":0,"last_5m":0}}`,
		`{"id":"` + segScript + `","name":"","description":"","origin":"","websites":[],"last_updated":"",` +
			`"in_catalog":true,"lifecycle":"draft","activated":false,` +
			`"warning":"a draft, not published in Experience Platform; not activated to the store's destination","rules":[],"hits":{"total":0,"last_5m":0}}`,
		`{"id":"` + segClub + `","name":"","description":"","origin":"","websites":[],"last_updated":"","in_catalog":false,` +
			`"rules":["club-5"],"hits":{"total":0,"last_5m":0}}`,
	}
	if len(got.Audiences) != len(wantRows) {
		t.Fatalf("%d audiences, want %d: %s", len(got.Audiences), len(wantRows), body)
	}
	for i, raw := range got.Audiences {
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		if compact.String() != wantRows[i] {
			t.Errorf("audience %d:\n got %s\nwant %s", i, compact.String(), wantRows[i])
		}
	}
	wantWarnings := []string{
		`audience "free-ship-club" is used by rules club-5 but is not in the audience catalog`,
		`rule "vip-20" uses audience "VIP shoppers" (` + segVIP + `): deactivated in Experience Platform`,
		`rule "club-5" uses audience "VIP shoppers" (` + segVIP + `): deactivated in Experience Platform`,
	}
	if mustJSON(t, got.Warnings) != mustJSON(t, wantWarnings) {
		t.Errorf("warnings:\n got %q\nwant %q", got.Warnings, wantWarnings)
	}
}

func TestAdminRulesAudiences(t *testing.T) {
	h := adminHandler(t, &Handler{RulesJSON: json.RawMessage(adminRules), AudiencesJSON: json.RawMessage(syncedAdminCatalog)})
	_, _, body := callAdmin(t, http.MethodGet, "/audiences/rules", "")
	type ruleRow struct {
		ID        string                `json:"id"`
		Audiences []report.RuleAudience `json:"audiences"`
		Warnings  []string              `json:"warnings"`
	}
	type handler struct {
		Name  string    `json:"name"`
		Rules []ruleRow `json:"rules"`
	}
	var resp struct {
		Handlers []handler `json:"handlers"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	got := findHandler(t, resp.Handlers, h.Name, func(h handler) string { return h.Name })
	deactivated := `rule "%s" uses audience "VIP shoppers" (` + segVIP + `): deactivated in Experience Platform`
	want := map[string]string{
		"vip-20": mustJSON(t, []report.RuleAudience{{ID: segVIP, Name: "VIP shoppers", InCatalog: true, Warning: "deactivated in Experience Platform"}}) +
			mustJSON(t, []string{strings.Replace(deactivated, "%s", "vip-20", 1)}),
		"club-5": mustJSON(t, []report.RuleAudience{
			{ID: segVIP, Name: "VIP shoppers", InCatalog: true, Warning: "deactivated in Experience Platform"},
			{ID: segClub, Warning: "not in the audience catalog"},
		}) + mustJSON(t, []string{
			strings.Replace(deactivated, "%s", "club-5", 1),
			`rule "club-5" uses audience "free-ship-club": not in the audience catalog`,
		}),
		"off": "[][]", "future": "[][]", "past": "[][]",
	}
	for _, r := range got.Rules {
		if g := mustJSON(t, r.Audiences) + mustJSON(t, r.Warnings); g != want[r.ID] {
			t.Errorf("rule %s:\n got %s\nwant %s", r.ID, g, want[r.ID])
		}
	}
	if len(got.Rules) != len(want) {
		t.Errorf("%d rules, want %d", len(got.Rules), len(want))
	}
}

func TestAdminDashboardWarnings(t *testing.T) {
	h := adminHandler(t, &Handler{RulesJSON: json.RawMessage(adminRules), AudiencesJSON: json.RawMessage(syncedAdminCatalog)})
	_, _, body := callAdmin(t, http.MethodGet, "/audiences/ui", "")
	page := string(body)
	start := strings.Index(page, "<h2>"+h.Name+"</h2>")
	if start < 0 {
		t.Fatalf("handler %s not on the dashboard", h.Name)
	}
	page = page[start:]
	page = page[:strings.Index(page, "</section>\n<section")]
	for _, want := range []string{
		// the handler's warnings
		`<div class="warning">rule &#34;vip-20&#34; uses audience &#34;VIP shoppers&#34; (` + segVIP + `): deactivated in Experience Platform</div>`,
		`<div class="warning">rule &#34;club-5&#34; uses audience &#34;VIP shoppers&#34; (` + segVIP + `): deactivated in Experience Platform</div>`,
		// a badge per audience
		`<span class="badge warn" title="deactivated in Experience Platform">deactivated</span>`,
		`<span class="badge warn" title="a draft, not published in Experience Platform; not activated to the store&#39;s destination">draft</span>`,
		`<span class="badge warn" title="a draft, not published in Experience Platform; not activated to the store&#39;s destination">not activated</span>`,
		// the rules' audiences
		`<small class="warn-text">Warning: VIP shoppers: deactivated in Experience Platform</small>`,
		`<small class="warn-text">Warning: free-ship-club: not in the audience catalog</small>`,
		// the rows' data for the script, escaped in their attribute
		`data-audience="{&#34;id&#34;:&#34;` + segVIP + `&#34;,&#34;name&#34;:&#34;VIP shoppers&#34;`,
		`&#34;lifecycle&#34;:&#34;inactive&#34;,&#34;activated&#34;:true,&#34;flows&#34;:[&#34;commerce-flow&#34;]`,
		`data-rule="{&#34;id&#34;:&#34;club-5&#34;,&#34;label&#34;:&#34;Club $5&#34;,&#34;audiences&#34;:[`,
		// the controls, labelled
		`<label>Search<input type="search" name="q"`,
		`<label>Used by a rule<select name="used">`,
		`<label>Status<select name="rstatus">`,
		`<section class="audience-detail" id="detail-`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
}
