package gqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// Refusal is a request that must not be forwarded because Magento could read it differently
// from the sidecar; Status is the HTTP status to answer with (413 or 400).
type Refusal struct {
	Status int
	// Reason is a short, low-cardinality cause for metrics: too_large, ambiguous,
	// unreadable, batch, content_type, encoded.
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return r.Err.Error() }

func refuse(reason string, format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// The GraphQL parameters Magento reads.
const (
	paramQuery     = "query"
	paramVariables = "variables"
	paramOpName    = "operationName"
)

// ReadStrict reads r exactly as Magento's GraphQL controller (PHP) will, or refuses it with a
// *Refusal. GET parameters are read as PHP's $_GET (see phpread); a POST body as json_decode
// reads it, and only with Content-Type application/json, as Magento takes it. Magento ignores
// operationName, so the Request's OperationName is empty: its document must hold one
// operation. ErrNotGraphQL means PHP sees no operation at all; forwarding such a request is
// harmless.
func ReadStrict(r *http.Request, maxBody int64) (*Request, error) {
	switch r.Method {
	case http.MethodGet:
		return readStrictGET(r.URL.RawQuery)
	case http.MethodPost:
		return readStrictPOST(r, maxBody)
	}
	return nil, ErrNotGraphQL
}

func readStrictGET(rawQuery string) (*Request, error) {
	if plainQueryString(rawQuery) {
		// PHP registers every name as written and decodes every value as url does: the
		// plain reading is PHP's, and the query stays encoded until it is needed.
		req, err := readGET(rawQuery)
		if errors.Is(err, ErrNotGraphQL) {
			return nil, err
		}
		if err != nil {
			return nil, refuse("unreadable", "%v", err)
		}
		req.OperationName = ""
		if string(req.Variables) == "0" {
			req.Variables = nil // PHP's empty()
		}
		if req.Variables != nil {
			if err := req.setStrictVariables(req.Variables); err != nil {
				return nil, err
			}
		}
		return req, nil
	}
	vs := phpread.ParseQuery(rawQuery)
	if vs.Dropped {
		return nil, refuse("ambiguous", "query string: more than %d parameters", phpread.MaxInputVars)
	}
	for _, name := range []string{paramQuery, paramVariables, paramOpName} {
		if err := plainParam(rawQuery, vs, name); err != nil {
			return nil, err
		}
	}
	query, _, ok := vs.Lookup(paramQuery)
	if !ok || query == "" {
		return nil, ErrNotGraphQL
	}
	req := &Request{Query: query, encoding: encGET, rawQuery: rawParam(rawQuery, paramQuery)}
	if v, _, _ := vs.Lookup(paramVariables); v != "" && v != "0" { // PHP's empty()
		if err := req.setStrictVariables([]byte(v)); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// plainQueryString reports a query string that PHP reads exactly as a plain reading does:
// every name made of letters, digits, "_" and "-"; the GraphQL parameters once each; every
// escape in their values valid; not more pairs than max_input_vars.
func plainQueryString(rawQuery string) bool {
	var seen [3]bool
	pairs := 0
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		if pairs++; pairs > phpread.MaxInputVars {
			return false
		}
		name, value, _ := strings.Cut(pair, "=")
		if name == "" || !plainName(name) {
			return false
		}
		for i, p := range [...]string{paramQuery, paramVariables, paramOpName} {
			if name == p {
				if seen[i] || !validEscapes(value) {
					return false
				}
				seen[i] = true
			}
		}
	}
	return true
}

func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validEscapes reports whether every "%" in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		next := strings.IndexByte(s[i+3:], '%')
		if next < 0 {
			return true
		}
		i += 3 + next
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// plainParam refuses a GraphQL parameter PHP could read differently from a plain reading:
// given twice (PHP keeps the last), as an array, or spelled another way (percent-encoded,
// with spaces or dots PHP turns into "_").
func plainParam(rawQuery string, vs phpread.Vars, name string) error {
	n := vs.Count(name)
	if n == 0 {
		return nil
	}
	if n > 1 {
		return refuse("ambiguous", "query string: %s given %d times", name, n)
	}
	if _, array, _ := vs.Lookup(name); array {
		return refuse("ambiguous", "query string: %s given as an array", name)
	}
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if key, _, _ := strings.Cut(pair, "="); key == name {
			return nil
		}
	}
	return refuse("ambiguous", "query string: %s spelled in another way", name)
}

// rawParam returns the still-encoded value of the parameter spelled exactly name.
func rawParam(rawQuery, name string) string {
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if key, value, _ := strings.Cut(pair, "="); key == name {
			return value
		}
	}
	return ""
}

func readStrictPOST(r *http.Request, maxBody int64) (*Request, error) {
	ct := r.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "application/json" || !strings.Contains(ct, "application/json") || len(r.Header.Values("Content-Type")) > 1 {
		return nil, refuse("content_type", "content type %q: Magento takes application/json", ct)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, refuse("encoded", "request body in %q encoding", ce)
	}
	if r.ContentLength > maxBody {
		return nil, &Refusal{Status: http.StatusRequestEntityTooLarge, Reason: "too_large", Err: fmt.Errorf("request body of %d bytes is over the %d byte limit", r.ContentLength, maxBody)}
	}
	body, err := PeekBody(r, maxBody)
	if err != nil {
		if errors.Is(err, errOverLimit) {
			return nil, &Refusal{Status: http.StatusRequestEntityTooLarge, Reason: "too_large", Err: err}
		}
		return nil, refuse("unreadable", "%v", err)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || string(trimmed) == "0" {
		return nil, ErrNotGraphQL // PHP's empty body: no operation
	}
	if trimmed[0] == '[' {
		return nil, refuse("batch", "batched operations: Magento runs one operation per request")
	}
	if trimmed[0] != '{' {
		return nil, refuse("unreadable", "request body is not a JSON object")
	}
	if err := phpread.CheckJSON(body); err != nil {
		return nil, refuse("unreadable", "request body: %v", err)
	}
	var fields map[string]json.RawMessage // duplicate keys: the last wins, as in PHP
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, refuse("unreadable", "request body: %v", err)
	}
	req := &Request{encoding: encJSON, body: fields}
	if raw, ok := fields[paramQuery]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req.Query); err != nil {
			return nil, refuse("unreadable", "query is not a string")
		}
	}
	if req.Query == "" {
		return nil, ErrNotGraphQL
	}
	if raw, ok := fields[paramVariables]; ok && string(raw) != "null" {
		if err := req.setStrictVariables(raw); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// setStrictVariables accepts variables PHP and Go read alike, a JSON object (or null), and
// keeps them decoded for DecodeVariables: a gated request's variables are decoded once.
func (req *Request) setStrictVariables(raw []byte) error {
	req.Variables, req.decoded, req.decodedFrom = nil, nil, nil
	if err := phpread.CheckJSON(raw); err != nil {
		return refuse("unreadable", "variables: %v", err)
	}
	t := bytes.TrimSpace(raw)
	if string(t) == "null" {
		return nil
	}
	if len(t) == 0 || t[0] != '{' {
		return refuse("unreadable", "variables are not a JSON object")
	}
	var vars map[string]any
	if err := json.Unmarshal(t, &vars); err != nil { // Unmarshal validates the whole text first
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
			return refuse("unreadable", "variables are not a JSON object")
		}
		return refuse("unreadable", "variables: %v", err)
	}
	req.Variables, req.decoded, req.decodedFrom = json.RawMessage(t), vars, json.RawMessage(t)
	return nil
}
