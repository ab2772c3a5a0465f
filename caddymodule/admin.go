package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// maxSimulateBody is the largest simulate request accepted.
const maxSimulateBody = 1 << 20

// adminAPI serves the audiences endpoints and dashboard on Caddy's admin endpoint: the
// audience catalog with hit counts, the rule sets in force, simulation and forced reloads.
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.audiences",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the /audiences routes.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/audiences", Handler: caddy.AdminHandlerFunc(a.handleAudiences)},
		{Pattern: "/audiences/rules", Handler: caddy.AdminHandlerFunc(a.handleRules)},
		{Pattern: "/audiences/simulate", Handler: caddy.AdminHandlerFunc(a.handleSimulate)},
		{Pattern: "/audiences/reload", Handler: caddy.AdminHandlerFunc(a.handleReload)},
		{Pattern: "/audiences/ui", Handler: caddy.AdminHandlerFunc(a.handleUI)},
	}
}

// audiencesResponse is the body of GET /audiences.
type audiencesResponse struct {
	Handlers []handlerAudiences `json:"handlers"`
}

// handlerAudiences is one handler's audience table.
type handlerAudiences struct {
	Name      string               `json:"name"`
	Catalog   *sources.Status      `json:"catalog"` // null without a catalog
	Audiences []report.AudienceRow `json:"audiences"`
	Warnings  []string             `json:"warnings"`
}

// rulesResponse is the body of GET /audiences/rules.
type rulesResponse struct {
	Handlers []handlerRules `json:"handlers"`
}

// handlerRules is one handler's rule set in force and the state of its source; the source
// fields are absent when the handler has no rules.
type handlerRules struct {
	Name string `json:"name"`
	*sources.Status
	Timezone string           `json:"timezone,omitempty"`
	Count    int              `json:"count"`
	Rules    []report.RuleRow `json:"rules"`
	// Merchandising are the rules that change product lists and content blocks.
	Merchandising []report.MerchRow `json:"merchandising"`
}

// simulateRequest is the body of POST /audiences/simulate.
type simulateRequest struct {
	Cart     json.RawMessage `json:"cart"`
	Segments []string        `json:"segments"`
	At       string          `json:"at"`
	Store    string          `json:"store"`
	Handler  string          `json:"handler"`
}

// reloadResponse is the body of POST /audiences/reload.
type reloadResponse struct {
	Error    string          `json:"error,omitempty"`
	Handlers []handlerReload `json:"handlers"`
}

// handlerReload is one handler's sources after a forced reload.
type handlerReload struct {
	Name      string          `json:"name"`
	Rules     *sources.Status `json:"rules"`     // null without rules
	Audiences *sources.Status `json:"audiences"` // null without a catalog
	Error     string          `json:"error,omitempty"`
}

func (adminAPI) handleAudiences(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	now := time.Now()
	resp := audiencesResponse{Handlers: []handlerAudiences{}}
	for _, s := range handlerStates() {
		resp.Handlers = append(resp.Handlers, s.audienceTable(now))
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (adminAPI) handleRules(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	now := time.Now()
	resp := rulesResponse{Handlers: []handlerRules{}}
	for _, s := range handlerStates() {
		resp.Handlers = append(resp.Handlers, s.ruleTable(now))
	}
	return writeJSON(w, http.StatusOK, resp)
}

// handleSimulate evaluates a cart snapshot (with products and blocks for merchandising
// rules) and answers with the engine's result JSON, byte for byte what `caddy audiences
// simulate` prints. A cart the engine cannot evaluate
// gets 422 with that result (its error field says why).
func (adminAPI) handleSimulate(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodPost); err != nil {
		return err
	}
	req, err := decodeSimulate(w, r)
	if err != nil {
		return err
	}
	s, err := pickHandler(handlerStates(), req.Handler)
	if err != nil {
		return badRequest(err)
	}
	rs := s.ruleSet()
	if rs == nil {
		return badRequest(fmt.Errorf("handler %q has no rules", s.name))
	}
	if len(bytes.TrimSpace(req.Cart)) == 0 || bytes.Equal(bytes.TrimSpace(req.Cart), []byte("null")) {
		return badRequest(errors.New("cart: required"))
	}
	sim, err := rules.DecodeSimulation(req.Cart)
	if err != nil {
		return badRequest(fmt.Errorf("cart: %s", report.DescribeDecodeError(err)))
	}
	if req.Store != "" {
		sim.Cart.Store = req.Store
	}
	at, err := report.ParseAt(req.At, rs.Timezone())
	if err != nil {
		return badRequest(fmt.Errorf("at: %w", err))
	}
	res := rs.Simulate(sim, report.ParseSegments(strings.Join(req.Segments, ",")), at)
	out, err := report.IndentJSON(res)
	if err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	writeBody(w, status, "application/json", out)
	return nil
}

// decodeSimulate reads a simulate request strictly: at most maxSimulateBody bytes, one JSON
// object, no unknown fields.
func decodeSimulate(w http.ResponseWriter, r *http.Request) (simulateRequest, error) {
	var req simulateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSimulateBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if _, next := dec.Token(); next != io.EOF {
			err = errors.New("data after the JSON object")
			if errors.As(next, new(*http.MaxBytesError)) {
				err = next
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return req, nil
	case errors.As(err, &tooBig):
		return req, caddy.APIError{
			HTTPStatus: http.StatusRequestEntityTooLarge,
			Err:        fmt.Errorf("request body: larger than %d bytes", maxSimulateBody),
		}
	case errors.Is(err, io.EOF):
		return req, badRequest(errors.New(`request body: empty; want {"cart": {...}, "segments": [...], "at": "RFC 3339", "store": "code", "handler": "name"}`))
	}
	return req, badRequest(fmt.Errorf("request body: %s", describeJSONError(err)))
}

// describeJSONError says what is wrong with a request body in JSON's terms, not Go's.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field == "":
		return "must be a JSON object, got " + typ.Value
	case errors.As(err, &typ):
		want := map[reflect.Kind]string{reflect.String: "a string", reflect.Slice: "an array"}[typ.Type.Kind()]
		if want == "" {
			want = typ.Type.Kind().String()
		}
		return fmt.Sprintf("%s: must be %s, got %s", typ.Field, want, typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// handleReload checks every handler's sources now, or those of ?handler=name.
func (adminAPI) handleReload(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethods(w, r, http.MethodPost); err != nil {
		return err
	}
	states := handlerStates()
	if name := r.URL.Query().Get("handler"); name != "" {
		states = slices.DeleteFunc(states, func(s *handlerState) bool { return s.name != name })
		if len(states) == 0 {
			return badRequest(unknownHandler(name, handlerStates()))
		}
	}
	resp := reloadResponse{Handlers: []handlerReload{}}
	var errs []string
	for _, s := range states {
		hr := handlerReload{Name: s.name}
		if err := s.reload(r.Context()); err != nil {
			hr.Error = err.Error()
			errs = append(errs, s.name+": "+hr.Error)
		}
		hr.Rules, hr.Audiences = s.sourceStatus()
		resp.Handlers = append(resp.Handlers, hr)
	}
	if len(errs) > 0 {
		resp.Error = strings.Join(errs, "; ")
		return writeJSON(w, http.StatusUnprocessableEntity, resp)
	}
	return writeJSON(w, http.StatusOK, resp)
}

// handlerStates returns the state of every configured handler, by name and newest first
// among equal names (while a config reload replaces a handler, both exist for a moment).
func handlerStates() []*handlerState {
	var out []*handlerState
	statePool.Range(func(_, value any) bool {
		if s, ok := value.(*handlerState); ok && s != nil {
			out = append(out, s)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *handlerState) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return b.createdAt.Compare(a.createdAt)
	})
	return out
}

// pickHandler returns the handler called name, or without a name the first that has rules.
func pickHandler(states []*handlerState, name string) (*handlerState, error) {
	for _, s := range states {
		if name != "" && s.name == name {
			return s, nil
		}
		if name == "" && s.ruleSet() != nil {
			return s, nil
		}
	}
	switch {
	case name != "":
		return nil, unknownHandler(name, states)
	case len(states) == 0:
		return nil, errors.New("no audiences handler is configured")
	}
	return nil, errors.New("no audiences handler has rules")
}

func unknownHandler(name string, states []*handlerState) error {
	names := make([]string, 0, len(states))
	for _, s := range states {
		names = append(names, s.name)
	}
	names = slices.Compact(names)
	if len(names) == 0 {
		return fmt.Errorf("handler: unknown %q (no audiences handler is configured)", name)
	}
	return fmt.Errorf("handler: unknown %q (configured: %s)", name, strings.Join(names, ", "))
}

// sourceStatus returns the status of the rule and catalog sources, nil when not configured.
func (s *handlerState) sourceStatus() (rulesStatus, catalogStatus *sources.Status) {
	if s.rules != nil {
		st := s.rules.Status()
		rulesStatus = &st
	}
	if s.catalog != nil {
		st := s.catalog.Status()
		catalogStatus = &st
	}
	return rulesStatus, catalogStatus
}

// audienceTable is the handler's audience table (see report.AudienceTable).
func (s *handlerState) audienceTable(now time.Time) handlerAudiences {
	_, catalogStatus := s.sourceStatus()
	rows, warnings := report.AudienceTable(s.ruleSet(), s.audienceCatalog(), s.hits, now)
	return handlerAudiences{Name: s.name, Catalog: catalogStatus, Audiences: rows, Warnings: warnings}
}

// ruleTable is the handler's rule set in force with each rule's status at now.
func (s *handlerState) ruleTable(now time.Time) handlerRules {
	rulesStatus, _ := s.sourceStatus()
	out := handlerRules{Name: s.name, Status: rulesStatus, Rules: report.RuleTable(s.ruleSet(), s.audienceCatalog(), &s.gateStats, now),
		Merchandising: report.MerchTable(s.ruleSet(), &s.merchHits, now)}
	if rs := s.ruleSet(); rs != nil {
		out.Timezone, out.Count = rs.Timezone().String(), rs.Len()
	}
	return out
}

// allowMethods answers 405 with an Allow header unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) error {
	if slices.Contains(methods, r.Method) {
		return nil
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	return caddy.APIError{
		HTTPStatus: http.StatusMethodNotAllowed,
		Err:        fmt.Errorf("method %s not allowed; use %s", r.Method, strings.Join(methods, " or ")),
	}
}

func badRequest(err error) error {
	return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
}

// writeJSON writes v indented, as Caddy's own admin endpoints do for humans with curl.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	out, err := report.IndentJSON(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	writeBody(w, status, "application/json", out)
	return nil
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Interface guards
var (
	_ caddy.Module      = (*adminAPI)(nil)
	_ caddy.AdminRouter = (*adminAPI)(nil)
)
