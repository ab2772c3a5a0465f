// Package edgetest is a fake Adobe Edge Network for tests: an http.Handler that serves the
// Server API's interact endpoint and IMS's token endpoint, checks the shape of what it is sent,
// answers with configured segments per ECID, and misbehaves on demand (error statuses,
// Retry-After, slow, invalid or oversized answers). cmd/fakeedge serves it as a binary.
package edgetest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
)

// IMSPath is where the fake serves IMS's client-credentials token endpoint.
const IMSPath = "/ims/token/v3"

// maxRequestBody mirrors the Edge Network's 64 KB request limit.
const maxRequestBody = 64 << 10

var interactPath = regexp.MustCompile(`^/ee(?:/([a-z]{2,4}[0-9]{1,2}))?/v2/interact$`)

// Destination is one personalization destination of the fake datastream.
type Destination struct {
	Alias    string
	Profiles map[string][]string // ECID -> segment IDs
}

// Auth turns on authenticated mode: the fake issues tokens at IMSPath for these credentials and
// requires one of them, the API key and the org header on every interact call.
type Auth struct {
	ClientID     string
	ClientSecret string
	ExpiresIn    int // token lifetime in seconds; default 86399
}

// Behavior makes the fake misbehave for one ECID, or for all with SetBehavior("", b).
type Behavior struct {
	Status       int           // answer with this status and a problem+json body (0: a normal answer)
	RetryAfter   string        // Retry-After header sent with Status
	Times        int           // misbehave for this many requests, then answer normally (0: always)
	Delay        time.Duration // wait this long before answering
	EmptyPayload bool          // activation:pull with payload [] (profile not on the edge yet)
	Warnings     bool          // answer 207 with warnings and errors; segments are still included
	InvalidJSON  bool          // answer 200 with a truncated JSON body
	BodySize     int           // answer 200 with a JSON body of this many bytes
	Chunked      bool          // with BodySize: omit Content-Length
}

// Request is what the fake recorded of one well-formed interact call.
type Request struct {
	Cluster      string            // region from the path, "" without one
	DatastreamID string            // datastreamId query parameter
	ECID         string            // identityMap.ECID[0].id
	EventType    string            // xdm.eventType
	Domain       string            // meta.state.domain
	Entries      map[string]string // meta.state.entries
	Token        string            // bearer token, in authenticated mode
}

// Fake is the fake Edge Network. Set the exported fields before serving; they are not
// guarded. The zero value accepts any datastream and knows no profiles.
type Fake struct {
	DatastreamID   string        // required datastreamId; "" accepts any non-empty one
	OrgID          string        // when set, the identity cookie must be forwarded and match the ECID
	Destinations   []Destination // segments per destination and ECID
	Cluster        string        // when set, requests must carry this region in the path
	RequireEntries []string      // cookie names that must be forwarded in meta.state.entries
	Auth           *Auth         // authenticated mode
	// OnFailure, when set, is told why a malformed request was refused.
	OnFailure func(r *http.Request, reason string)

	mu         sync.Mutex
	behaviors  map[string]*Behavior
	requests   []Request
	failures   []string
	tokens     map[string]bool
	calls      int
	tokenCalls int
}

// SetBehavior makes the fake misbehave for ecid ("" for every ECID without its own).
func (f *Fake) SetBehavior(ecid string, b Behavior) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.behaviors == nil {
		f.behaviors = map[string]*Behavior{}
	}
	f.behaviors[ecid] = &b
}

// ClearBehaviors makes the fake answer normally again.
func (f *Fake) ClearBehaviors() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behaviors = nil
}

// Calls returns the number of interact requests received, malformed ones included.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// TokenCalls returns the number of IMS token requests received.
func (f *Fake) TokenCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

// Requests returns the well-formed interact requests received, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Failures returns why malformed requests were refused; a test expects none.
func (f *Fake) Failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failures)
}

// RevokeTokens forgets every issued token, so the next interact call gets 401.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = nil
}

// ServeHTTP serves IMSPath and /ee[/{cluster}]/v2/interact.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == IMSPath && f.Auth != nil {
		f.serveToken(w, r)
		return
	}
	m := interactPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such endpoint: "+r.URL.Path)
		return
	}
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	req, status, err := f.check(r, m[1])
	if err != nil {
		f.fail(r, err.Error())
		writeProblem(w, status, http.StatusText(status), err.Error())
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	f.answer(w, r, req)
}

func (f *Fake) fail(r *http.Request, reason string) {
	f.mu.Lock()
	f.failures = append(f.failures, reason)
	f.mu.Unlock()
	if f.OnFailure != nil {
		f.OnFailure(r, reason)
	}
}

// Wire shape the fake expects; fields it does not know are refused, so the client's request
// shape cannot drift unnoticed.
type interactBody struct {
	Event struct {
		XDM struct {
			EventType   string `json:"eventType"`
			Timestamp   string `json:"timestamp"`
			IdentityMap map[string][]struct {
				ID                 string `json:"id"`
				AuthenticatedState string `json:"authenticatedState"`
				Primary            bool   `json:"primary"`
			} `json:"identityMap"`
		} `json:"xdm"`
	} `json:"event"`
	Meta struct {
		State struct {
			Domain         string `json:"domain"`
			CookiesEnabled bool   `json:"cookiesEnabled"`
			Entries        []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"entries"`
		} `json:"state"`
	} `json:"meta"`
}

// check validates one interact request and returns what it recorded, or the status to refuse
// it with and why.
func (f *Fake) check(r *http.Request, cluster string) (Request, int, error) {
	if r.Method != http.MethodPost {
		return Request{}, http.StatusMethodNotAllowed, fmt.Errorf("method %s, want POST", r.Method)
	}
	if f.Cluster != "" && cluster != f.Cluster {
		return Request{}, http.StatusBadRequest, fmt.Errorf("region %q in the path, want %q", cluster, f.Cluster)
	}
	ds := r.URL.Query().Get("datastreamId")
	if ds == "" || (f.DatastreamID != "" && ds != f.DatastreamID) {
		return Request{}, http.StatusBadRequest, fmt.Errorf("datastreamId %q, want %q", ds, f.DatastreamID)
	}
	token, err := f.checkAuth(r)
	if err != nil {
		return Request{}, http.StatusUnauthorized, err
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return Request{}, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q, want application/json", ct)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return Request{}, http.StatusBadRequest, fmt.Errorf("reading body: %v", err)
	}
	if len(raw) > maxRequestBody {
		return Request{}, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxRequestBody)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var body interactBody
	if err := dec.Decode(&body); err != nil {
		return Request{}, http.StatusBadRequest, fmt.Errorf("body: %v", err)
	}
	req := Request{
		Cluster:      cluster,
		DatastreamID: ds,
		EventType:    body.Event.XDM.EventType,
		Domain:       body.Meta.State.Domain,
		Entries:      map[string]string{},
		Token:        token,
	}
	for _, e := range body.Meta.State.Entries {
		req.Entries[e.Key] = e.Value
	}
	req.ECID, err = f.checkBody(&body, req.Entries)
	if err != nil {
		return Request{}, http.StatusBadRequest, err
	}
	return req, 0, nil
}

// checkBody checks the event and the forwarded state, and returns the ECID.
func (f *Fake) checkBody(body *interactBody, entries map[string]string) (string, error) {
	xdm := body.Event.XDM
	if xdm.EventType == "" {
		return "", fmt.Errorf("no xdm.eventType")
	}
	if _, err := time.Parse(time.RFC3339, xdm.Timestamp); err != nil {
		return "", fmt.Errorf("xdm.timestamp %q: %v", xdm.Timestamp, err)
	}
	ids := xdm.IdentityMap["ECID"]
	if len(ids) != 1 {
		return "", fmt.Errorf("identityMap.ECID has %d entries, want 1", len(ids))
	}
	id := ids[0]
	if !edge.ValidECID(id.ID) || id.AuthenticatedState != "ambiguous" || !id.Primary {
		return "", fmt.Errorf("identityMap.ECID[0] = %+v, want a 38-digit id, ambiguous, primary", id)
	}
	if !body.Meta.State.CookiesEnabled {
		return "", fmt.Errorf("meta.state.cookiesEnabled is not true")
	}
	for _, name := range f.RequireEntries {
		if _, ok := entries[name]; !ok {
			return "", fmt.Errorf("cookie %s not forwarded in meta.state.entries", name)
		}
	}
	if f.OrgID != "" {
		name := edge.IdentityCookieName(f.OrgID)
		value, ok := entries[name]
		if !ok {
			return "", fmt.Errorf("identity cookie %s not forwarded", name)
		}
		if ecid, err := edge.DecodeECID(value); err != nil || ecid != id.ID {
			return "", fmt.Errorf("identity cookie holds ECID %q (%v), identityMap has %q", ecid, err, id.ID)
		}
	}
	return id.ID, nil
}

// checkAuth checks the authenticated-mode headers and returns the bearer token.
func (f *Fake) checkAuth(r *http.Request) (string, error) {
	if f.Auth == nil {
		return "", nil
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	known := f.tokens[token]
	f.mu.Unlock()
	switch {
	case !ok || !known:
		return "", fmt.Errorf("missing or unknown bearer token")
	case r.Header.Get("x-api-key") != f.Auth.ClientID:
		return "", fmt.Errorf("x-api-key %q, want the client ID", r.Header.Get("x-api-key"))
	case f.OrgID != "" && r.Header.Get("x-gw-ims-org-id") != f.OrgID:
		return "", fmt.Errorf("x-gw-ims-org-id %q, want %q", r.Header.Get("x-gw-ims-org-id"), f.OrgID)
	}
	return token, nil
}

// behavior returns the misbehavior for ecid, counting it down.
func (f *Fake) behavior(ecid string) Behavior {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, key := range []string{ecid, ""} {
		b, ok := f.behaviors[key]
		if !ok {
			continue
		}
		out := *b
		if b.Times > 0 {
			if b.Times--; b.Times == 0 {
				delete(f.behaviors, key)
			}
		}
		return out
	}
	return Behavior{}
}

// answer writes the response to a well-formed request.
func (f *Fake) answer(w http.ResponseWriter, r *http.Request, req Request) {
	b := f.behavior(req.ECID)
	if b.Delay > 0 {
		t := time.NewTimer(b.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case b.Status != 0:
		if b.RetryAfter != "" {
			w.Header().Set("Retry-After", b.RetryAfter)
		}
		writeProblem(w, b.Status, http.StatusText(b.Status), "configured failure")
	case b.InvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"requestId":"fake","handle":[{"type":"activation:pull","payload":[`)
	case b.BodySize > 0:
		writeHuge(w, b.BodySize, b.Chunked)
	default:
		f.writeAnswer(w, req, b)
	}
}

// writeAnswer writes a 200 (or 207) answer with the request's segments, the cluster cookie to
// store and the region hint.
func (f *Fake) writeAnswer(w http.ResponseWriter, req Request, b Behavior) {
	payloads := []map[string]any{}
	if !b.EmptyPayload {
		for i, d := range f.Destinations {
			segs, ok := d.Profiles[req.ECID]
			if !ok {
				continue
			}
			list := make([]map[string]string, 0, len(segs))
			for _, s := range segs {
				list = append(list, map[string]string{"id": s, "namespace": "ups"})
			}
			payloads = append(payloads, map[string]any{
				"type": "profileLookup", "destinationId": "fake-destination-" + strconv.Itoa(i),
				"alias": d.Alias, "segments": list,
			})
		}
	}
	cluster := req.Cluster
	if cluster == "" {
		cluster = "or2"
	}
	handles := []map[string]any{
		{"type": "activation:pull", "payload": payloads},
		{"type": "locationHint:result", "payload": []map[string]any{
			{"scope": "EdgeNetwork", "hint": cluster, "ttlSeconds": 1800},
			{"scope": "Target", "hint": "35", "ttlSeconds": 1800},
		}},
		{"type": "personalization:decisions", "payload": []any{}, "eventIndex": 0},
	}
	if f.OrgID != "" {
		handles = append(handles, map[string]any{"type": "state:store", "payload": []map[string]any{{
			"key": edge.ClusterCookieName(f.OrgID), "value": cluster, "maxAge": 1800,
			"attrs": map[string]string{"SameSite": "None"},
		}}})
	}
	resp := map[string]any{"requestId": fmt.Sprintf("fake-%d", f.Calls()), "handle": handles}
	status := http.StatusOK
	if b.Warnings {
		status = http.StatusMultiStatus
		resp["warnings"] = []map[string]any{{
			"type": "https://ns.adobe.com/aep/errors/EXEG-0204-200", "code": "EXEG-0204-200",
			"status": 200, "title": "A warning occurred while calling the 'Audience Manager' service for this request.",
		}}
		resp["errors"] = []map[string]any{{
			"type": "https://ns.adobe.com/aep/errors/EXEG-0201-503", "status": 503,
			"title": "The 'com.adobe.target' service is temporarily unable to serve this request.",
		}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}

// writeHuge writes a syntactically valid JSON answer of about size bytes.
func writeHuge(w http.ResponseWriter, size int, chunked bool) {
	const head, tail = `{"requestId":"fake","handle":[{"type":"filler","payload":"`, `"}]}`
	fill := max(size-len(head)-len(tail), 0)
	w.Header().Set("Content-Type", "application/json")
	if !chunked {
		w.Header().Set("Content-Length", strconv.Itoa(len(head)+fill+len(tail)))
	}
	io.WriteString(w, head)
	chunk := strings.Repeat("a", 32<<10)
	for fill > 0 {
		n := min(fill, len(chunk))
		if _, err := io.WriteString(w, chunk[:n]); err != nil {
			return // the client gave up reading, as it should
		}
		fill -= n
	}
	io.WriteString(w, tail)
}

// serveToken implements IMS's client-credentials grant for f.Auth.
func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenCalls++
	n := f.tokenCalls
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != f.Auth.ClientID || r.PostForm.Get("client_secret") != f.Auth.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	token := fmt.Sprintf("fake-token-%d", n)
	f.mu.Lock()
	if f.tokens == nil {
		f.tokens = map[string]bool{}
	}
	f.tokens[token] = true
	f.mu.Unlock()
	expires := f.Auth.ExpiresIn
	if expires <= 0 {
		expires = 86399
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "bearer", "expires_in": expires})
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":   "https://ns.adobe.com/aep/errors/EXEG-0000-" + strconv.Itoa(status),
		"status": status, "title": title, "detail": detail,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ProfilesFromJSON reads {"<ecid>": ["segment", ...]} and checks every key is an ECID.
func ProfilesFromJSON(r io.Reader) (map[string][]string, error) {
	var profiles map[string][]string
	dec := json.NewDecoder(r)
	if err := dec.Decode(&profiles); err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	for _, ecid := range slices.Sorted(maps.Keys(profiles)) {
		if !edge.ValidECID(ecid) {
			return nil, fmt.Errorf("profiles: key %q is not a 38-digit ECID", ecid)
		}
		if slices.Contains(profiles[ecid], "") {
			return nil, fmt.Errorf("profiles: ECID %s has an empty segment ID", ecid)
		}
	}
	return profiles, nil
}

var _ http.Handler = (*Fake)(nil)
