// Package aeptest is a fake Adobe Experience Platform for tests: an http.Handler that serves
// IMS's token endpoint, the Segmentation Service's audiences list and bulk-get, and the Flow
// Service's dataflows, checks the headers every Platform call must carry, pages with opaque
// cursors it refuses to see computed, and misbehaves on demand (429 with Retry-After, 5xx,
// missing product profile, missing permission, expired tokens). cmd/fakeaep serves it as a
// binary. It speaks only the wire format and does not import the client it tests.
//
// The error bodies follow Adobe's public documentation where it has one (IMS's
// {error, error_description}, the gateway's {error_code, message} for 401 and 403025, RFC 7807
// problems elsewhere); the words of the wrong-sandbox and wrong-organization answers are the
// fake's own, since Adobe documents none.
//
// The fake is one file (over 500 lines) so each endpoint sits beside the misbehaviour it can show.
package aeptest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Paths the fake serves.
const (
	TokenPath     = "/ims/token/v3"
	AudiencesPath = "/data/core/ups/audiences"
	BulkGetPath   = "/data/core/ups/audiences/bulk-get"
	FlowsPath     = "/data/foundation/flowservice/flows"
)

// Endpoints, for counting calls and injecting failures.
const (
	EndpointToken     = "token"
	EndpointAudiences = "audiences"
	EndpointBulkGet   = "bulk-get"
	EndpointFlows     = "flows" // the list of flows
	EndpointFlow      = "flow"  // one flow by ID
)

// MaxBulkIDs is the most IDs one bulk-get request may ask for.
const MaxBulkIDs = 100

// Audience is an audience of the fake Segmentation Service.
type Audience struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	OriginName  string    `json:"originName,omitempty"`     // default REAL_TIME_CUSTOMER_PROFILE
	Lifecycle   string    `json:"lifecycleState,omitempty"` // default published
	Type        string    `json:"type,omitempty"`           // default SegmentDefinition
	Updated     time.Time `json:"updated,omitzero"`         // sent as updateTime (ms) and updateEpoch (s)
}

// Flow is a dataflow of the fake Flow Service.
type Flow struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	State     string   `json:"state,omitempty"`  // default enabled
	Source    bool     `json:"source,omitempty"` // a source (ingestion) flow, not a destination flow
	Audiences []string `json:"audiences"`        // IDs of the audiences it activates
}

// Failure makes an endpoint answer with an error status.
type Failure struct {
	Status     int    // the status; its body is a problem+json document
	RetryAfter string // Retry-After header, if any
	Times      int    // fail this many requests, then answer normally (0: always)
}

// Fake is the fake Experience Platform. Set the exported fields before serving; Audiences and
// Flows may also be replaced while serving with SetAudiences and SetFlows.
type Fake struct {
	ClientID     string // required
	ClientSecret string // required
	OrgID        string // required x-gw-ims-org-id
	Sandbox      string // the one sandbox that exists; default "prod"
	Audiences    []Audience
	Flows        []Flow
	// PageSize caps the audiences per page (whatever limit asks) and the flows per page;
	// default 50.
	PageSize int
	// ExpiresIn is the lifetime of issued tokens in seconds; default 86399.
	ExpiresIn int
	// TokenDelay delays every token answer, to make concurrent callers queue.
	TokenDelay time.Duration
	// NoProductProfile makes every Platform call answer 403 403025 "Profile is not valid", as
	// for a credential in no product profile.
	NoProductProfile bool
	// Denied lists endpoints that answer 403 for a missing permission (EndpointAudiences, ...).
	Denied []string
	// Now is the fake's clock for token expiry; default time.Now.
	Now func() time.Time
	// OnFailure, when set, is told why a malformed request was refused.
	OnFailure func(r *http.Request, reason string)

	mu       sync.Mutex
	tokens   map[string]time.Time // token -> expiry
	cursors  map[string]int       // issued cursor -> offset
	failures map[string]*Failure
	calls    map[string]int
	refused  []string
	issued   int
}

// SetAudiences replaces the audiences while serving.
func (f *Fake) SetAudiences(a []Audience) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Audiences = slices.Clone(a)
}

// SetFlows replaces the flows while serving.
func (f *Fake) SetFlows(flows []Flow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Flows = slices.Clone(flows)
}

// Fail makes endpoint answer with failure.Status (failure.Times times, or always).
func (f *Fake) Fail(endpoint string, failure Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures == nil {
		f.failures = map[string]*Failure{}
	}
	f.failures[endpoint] = &failure
}

// ClearFailures makes every endpoint answer normally again.
func (f *Fake) ClearFailures() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = nil
}

// ExpireTokens makes every issued token expired: the next Platform call with one gets 401.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = nil
}

// TokenCalls returns the number of token requests received.
func (f *Fake) TokenCalls() int { return f.Calls(EndpointToken) }

// Calls returns the number of requests an endpoint received, refused ones included.
func (f *Fake) Calls(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[endpoint]
}

// Refused returns why malformed requests were refused (missing headers, computed cursors...);
// a test expects none.
func (f *Fake) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refused)
}

// ServeHTTP serves TokenPath, AudiencesPath, BulkGetPath, FlowsPath and FlowsPath/{id}.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint, flowID := route(r)
	if endpoint == "" {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such endpoint: "+r.URL.Path)
		return
	}
	f.count(endpoint)
	if endpoint == EndpointToken {
		f.serveToken(w, r)
		return
	}
	if !f.authorize(w, r, endpoint) || f.injected(w, endpoint) {
		return
	}
	switch endpoint {
	case EndpointAudiences:
		f.serveAudiences(w, r)
	case EndpointBulkGet:
		f.serveBulkGet(w, r)
	case EndpointFlows:
		f.serveFlows(w, r)
	case EndpointFlow:
		f.serveFlow(w, flowID)
	}
}

// route names the endpoint of r ("" for none) and the flow ID of a lookup.
func route(r *http.Request) (endpoint, flowID string) {
	switch p := r.URL.Path; {
	case p == TokenPath && r.Method == http.MethodPost:
		return EndpointToken, ""
	case p == AudiencesPath && r.Method == http.MethodGet:
		return EndpointAudiences, ""
	case p == BulkGetPath && r.Method == http.MethodPost:
		return EndpointBulkGet, ""
	case p == FlowsPath && r.Method == http.MethodGet:
		return EndpointFlows, ""
	case strings.HasPrefix(p, FlowsPath+"/") && r.Method == http.MethodGet:
		id, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), FlowsPath+"/"))
		if err == nil && id != "" && !strings.Contains(id, "/") {
			return EndpointFlow, id
		}
	}
	return "", ""
}

func (f *Fake) count(endpoint string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[endpoint]++
}

func (f *Fake) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	f.mu.Lock()
	f.refused = append(f.refused, reason)
	f.mu.Unlock()
	if f.OnFailure != nil {
		f.OnFailure(r, reason)
	}
	writeProblem(w, status, http.StatusText(status), reason)
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// serveToken implements IMS's client-credentials grant.
func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	if f.TokenDelay > 0 {
		select {
		case <-time.After(f.TokenDelay):
		case <-r.Context().Done():
			return
		}
	}
	if f.injected(w, EndpointToken) {
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "want a form"})
		return
	}
	form := r.PostForm
	switch {
	case form.Get("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	case form.Get("client_id") != f.ClientID:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client_id parameter"})
		return
	case form.Get("client_secret") != f.ClientSecret:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "invalid client_secret parameter"})
		return
	}
	expires := f.ExpiresIn
	if expires <= 0 {
		expires = 86399
	}
	f.mu.Lock()
	f.issued++
	token := fmt.Sprintf("fake-aep-token-%d-%s", f.issued, randomHex(8))
	if f.tokens == nil {
		f.tokens = map[string]time.Time{}
	}
	f.tokens[token] = f.now().Add(time.Duration(expires) * time.Second)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "bearer", "expires_in": expires})
}

// authorize checks the headers of a Platform call the way the API gateway and the services
// do, and answers the refusal itself.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	expiry, known := f.tokens[token]
	f.mu.Unlock()
	sandbox := f.sandbox()
	switch {
	case !ok || !known || !f.now().Before(expiry):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_code": "401013", "message": "Oauth token is not valid"})
	case r.Header.Get("x-api-key") != f.ClientID:
		f.refuse(w, r, http.StatusForbidden, fmt.Sprintf("x-api-key %q is not the client ID", r.Header.Get("x-api-key")))
	case r.Header.Get("x-gw-ims-org-id") != f.OrgID:
		writeProblem(w, http.StatusForbidden, "Forbidden",
			fmt.Sprintf("the IMS org %q in x-gw-ims-org-id is not the organization of the access token", r.Header.Get("x-gw-ims-org-id")))
	case f.NoProductProfile:
		writeJSON(w, http.StatusForbidden, map[string]string{"error_code": "403025", "message": "Profile is not valid"})
	case r.Header.Get("x-sandbox-name") != sandbox:
		writeProblem(w, http.StatusForbidden, "Sandbox not found",
			fmt.Sprintf("sandbox %q does not exist or is not accessible", r.Header.Get("x-sandbox-name")))
	case slices.Contains(f.Denied, endpoint):
		writeProblem(w, http.StatusForbidden, "Forbidden", "the user is not allowed to access this resource: missing permission")
	default:
		return true
	}
	return false
}

// injected answers with an injected failure, if endpoint has one, counting it down.
func (f *Fake) injected(w http.ResponseWriter, endpoint string) bool {
	f.mu.Lock()
	failure, ok := f.failures[endpoint]
	var out Failure
	if ok {
		out = *failure
		if failure.Times > 0 {
			if failure.Times--; failure.Times == 0 {
				delete(f.failures, endpoint)
			}
		}
	}
	f.mu.Unlock()
	if !ok {
		return false
	}
	if out.RetryAfter != "" {
		w.Header().Set("Retry-After", out.RetryAfter)
	}
	writeProblem(w, out.Status, http.StatusText(out.Status), "injected failure")
	return true
}

func (f *Fake) sandbox() string {
	if f.Sandbox == "" {
		return "prod"
	}
	return f.Sandbox
}

func (f *Fake) pageSize() int {
	if f.PageSize > 0 {
		return f.PageSize
	}
	return 50
}

// cursor issues an opaque cursor for offset.
func (f *Fake) cursor(offset int) string {
	c := randomHex(6)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cursors == nil {
		f.cursors = map[string]int{}
	}
	f.cursors[c] = offset
	return c
}

// offset returns the offset of an issued cursor; "" is the start.
func (f *Fake) offset(cursor string) (int, bool) {
	if cursor == "" {
		return 0, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	off, ok := f.cursors[cursor]
	return off, ok
}

// serveAudiences lists the audiences that are not inactive, as the real API does without a
// filter, in pages of at most PageSize.
func (f *Fake) serveAudiences(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := f.pageSize()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			f.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("limit %q", s))
			return
		}
		limit = min(n, limit)
	}
	start, ok := f.offset(q.Get("start"))
	if !ok {
		f.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("start %q is not a cursor this API issued", q.Get("start")))
		return
	}
	f.mu.Lock()
	var listed []Audience
	for _, a := range f.Audiences {
		if lifecycle(a) != "inactive" {
			listed = append(listed, a)
		}
	}
	f.mu.Unlock()
	end := min(start+limit, len(listed))
	children := []map[string]any{}
	for _, a := range listed[min(start, end):end] {
		children = append(children, f.wire(a))
	}
	page := map[string]any{"totalCount": len(listed), "pageSize": len(children)}
	body := map[string]any{"children": children, "_page": page, "_links": map[string]any{}}
	if end < len(listed) {
		next := f.cursor(end)
		page["next"] = next
		body["_links"] = map[string]any{"next": map[string]string{"href": "@/audiences?start=" + next + "&limit=" + strconv.Itoa(limit)}}
	}
	writeJSON(w, http.StatusOK, body)
}

// serveBulkGet resolves IDs, inactive audiences included; unknown IDs are left out.
func (f *Fake) serveBulkGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []struct {
			ID string `json:"id"`
		} `json:"ids"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&req) != nil || len(req.IDs) == 0 {
		f.refuse(w, r, http.StatusBadRequest, `bulk-get body: want application/json {"ids":[{"id":...}]}`)
		return
	}
	if len(req.IDs) > MaxBulkIDs {
		f.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("bulk-get of %d IDs, at most %d", len(req.IDs), MaxBulkIDs))
		return
	}
	f.mu.Lock()
	byID := map[string]Audience{}
	for _, a := range f.Audiences {
		byID[a.ID] = a
	}
	f.mu.Unlock()
	results := map[string]any{}
	for _, ref := range req.IDs {
		if a, ok := byID[ref.ID]; ok {
			results[ref.ID] = f.wire(a)
		}
	}
	writeJSON(w, http.StatusMultiStatus, map[string]any{"results": results})
}

// serveFlows lists the flows matching the property filters, with continuation links.
func (f *Fake) serveFlows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	destinationOnly, enabledOnly := false, false
	for _, p := range q["property"] {
		switch p {
		case "inheritedAttributes.properties.isDestinationFlow==true":
			destinationOnly = true
		case "state==enabled":
			enabledOnly = true
		default:
			f.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("property %q is not supported by the fake", p))
			return
		}
	}
	start, ok := f.offset(q.Get("continuationToken"))
	if !ok {
		f.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("continuationToken %q was not issued", q.Get("continuationToken")))
		return
	}
	f.mu.Lock()
	var listed []Flow
	for _, fl := range f.Flows {
		if (!destinationOnly || !fl.Source) && (!enabledOnly || state(fl) == "enabled") {
			listed = append(listed, fl)
		}
	}
	byID := f.audienceIndex()
	f.mu.Unlock()
	end := min(start+f.pageSize(), len(listed))
	items := []map[string]any{}
	for _, fl := range listed[min(start, end):end] {
		items = append(items, wireFlow(fl, byID))
	}
	body := map[string]any{"items": items, "_links": map[string]any{}}
	if end < len(listed) {
		next := url.Values{"continuationToken": {f.cursor(end)}, "property": q["property"]}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		href := scheme + "://" + r.Host + FlowsPath + "?" + next.Encode()
		body["_links"] = map[string]any{"next": map[string]string{"href": href}}
	}
	writeJSON(w, http.StatusOK, body)
}

// serveFlow answers a lookup by ID, whatever the flow's state.
func (f *Fake) serveFlow(w http.ResponseWriter, id string) {
	f.mu.Lock()
	byID := f.audienceIndex()
	var found *Flow
	for i := range f.Flows {
		if f.Flows[i].ID == id {
			found = &f.Flows[i]
		}
	}
	var item map[string]any
	if found != nil {
		item = wireFlow(*found, byID)
	}
	f.mu.Unlock()
	if found == nil {
		writeProblem(w, http.StatusNotFound, "Not Found", fmt.Sprintf("flow %s was not found", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": []any{item}})
}

// audienceIndex maps IDs to audiences; the caller holds f.mu.
func (f *Fake) audienceIndex() map[string]Audience {
	byID := make(map[string]Audience, len(f.Audiences))
	for _, a := range f.Audiences {
		byID[a.ID] = a
	}
	return byID
}

// wire is an audience as the audiences API writes it.
func (f *Fake) wire(a Audience) map[string]any {
	origin, typ := a.OriginName, a.Type
	if origin == "" {
		origin = "REAL_TIME_CUSTOMER_PROFILE"
	}
	if typ == "" {
		typ = "SegmentDefinition"
	}
	out := map[string]any{
		"id": a.ID, "audienceId": a.ID, "name": a.Name, "description": a.Description,
		"namespace": "AEPSegments", "imsOrgId": f.OrgID, "type": typ, "originName": origin,
		"lifecycleState": lifecycle(a), "labels": []string{"core/C1"},
		"sandbox": map[string]any{"sandboxName": f.sandbox(), "type": "production", "default": true},
	}
	if !a.Updated.IsZero() {
		out["updateTime"], out["updateEpoch"] = a.Updated.UnixMilli(), a.Updated.Unix()
	}
	return out
}

// wireFlow is a flow as the Flow Service writes it; its selectors carry the audiences' names.
func wireFlow(fl Flow, audiences map[string]Audience) map[string]any {
	selectors := []map[string]any{}
	for _, id := range fl.Audiences {
		selectors = append(selectors, map[string]any{
			"type":  "PLATFORM_SEGMENT",
			"value": map[string]any{"id": id, "name": audiences[id].Name, "exportMode": "DAILY_FULL_EXPORT"},
		})
	}
	return map[string]any{
		"id": fl.ID, "name": fl.Name, "state": state(fl),
		"flowSpec":            map[string]string{"id": "71471eba-b620-49e4-90fd-23f1fa0174d8", "version": "1.0"},
		"inheritedAttributes": map[string]any{"properties": map[string]any{"isDestinationFlow": !fl.Source, "isSourceFlow": fl.Source}},
		"transformations": []any{
			map[string]any{"name": "GeneralTransform", "params": map[string]any{
				"segmentSelectors": map[string]any{"selectors": selectors},
				"profileSelectors": map[string]any{"selectors": []any{}},
			}},
		},
	}
}

func lifecycle(a Audience) string {
	if a.Lifecycle == "" {
		return "published"
	}
	return a.Lifecycle
}

func state(fl Flow) string {
	if fl.State == "" {
		return "enabled"
	}
	return fl.State
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":   "https://ns.adobe.com/aep/errors/FAKE-" + strconv.Itoa(status),
		"status": status, "title": title, "detail": detail,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Data is what a fake serves, as cmd/fakeaep reads it from a file.
type Data struct {
	Audiences []Audience `json:"audiences"`
	Flows     []Flow     `json:"flows"`
}

// DataFromJSON reads {"audiences": [...], "flows": [...]} strictly and checks that IDs are
// present and unique and that flows name known audiences.
func DataFromJSON(r io.Reader) (Data, error) {
	var d Data
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Data{}, fmt.Errorf("fake platform data: %w", err)
	}
	known := map[string]bool{}
	for i, a := range d.Audiences {
		if a.ID == "" || known[a.ID] {
			return Data{}, fmt.Errorf("fake platform data: audiences[%d]: missing or duplicate id %q", i, a.ID)
		}
		known[a.ID] = true
	}
	flows := map[string]bool{}
	for i, fl := range d.Flows {
		if fl.ID == "" || flows[fl.ID] {
			return Data{}, fmt.Errorf("fake platform data: flows[%d]: missing or duplicate id %q", i, fl.ID)
		}
		flows[fl.ID] = true
		for _, id := range fl.Audiences {
			if !known[id] {
				return Data{}, fmt.Errorf("fake platform data: flow %q: unknown audience %q", fl.ID, id)
			}
		}
	}
	return d, nil
}

var _ http.Handler = (*Fake)(nil)
