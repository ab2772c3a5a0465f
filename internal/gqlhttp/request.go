// Package gqlhttp reads GraphQL-over-HTTP requests (GET query strings, POST JSON and
// application/graphql bodies) and re-encodes them with a different query text.
package gqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrNotGraphQL means the request is not a single GraphQL operation this package can read
// (wrong method or content type, a batch, an empty query); the caller lets it pass.
var ErrNotGraphQL = errors.New("not a single graphql operation")

// Request is one GraphQL operation as the client sent it.
type Request struct {
	// Query is the document; for GET requests it is decoded on first use (Text).
	Query         string
	OperationName string
	// Variables are the raw JSON variables, or nil.
	Variables json.RawMessage

	encoding encoding
	body     map[string]json.RawMessage // the POST JSON object, for re-encoding
	rawQuery string                     // the GET query parameter, still URL-escaped
	// decoded is Variables as a strict read decoded them (decodedFrom), until taken. A
	// Request is not copied: two copies would hand out the same map.
	decoded     map[string]any
	decodedFrom json.RawMessage
	// valid is Variables as a read found them valid JSON: CheckVariables does not validate
	// them again while Variables still holds them.
	valid json.RawMessage
}

// same reports whether a and b are the same bytes in memory.
func same(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// Text returns the query document, decoding a GET parameter the first time.
func (req *Request) Text() (string, error) {
	if req.Query == "" && req.rawQuery != "" {
		q, err := url.QueryUnescape(req.rawQuery)
		if err != nil {
			return "", fmt.Errorf("query: %w", err)
		}
		req.Query = q
	}
	return req.Query, nil
}

// Key identifies a GET operation by its encoded text and operation name, so callers can
// cache what they derive from it without decoding it (or copying it); it is the zero Key for
// POST requests.
func (req *Request) Key() Key {
	if req.rawQuery == "" {
		return Key{}
	}
	return Key{Query: req.rawQuery, OperationName: req.OperationName}
}

// Key is a GET operation's identity: its still URL-escaped query parameter and its operation
// name. It is comparable, a map or cache key.
type Key struct {
	Query, OperationName string
}

type encoding int

const (
	encGET encoding = iota
	encJSON
	encGraphQL
)

// Read extracts the GraphQL operation of r. A POST body is read up to maxBody bytes and put
// back, so r can still be forwarded whatever Read returns. When wanted is set, it is first
// given the raw request text (the query string, or the body) and an operation it does not
// want is reported as ErrNotGraphQL without being decoded.
func Read(r *http.Request, maxBody int64, wanted func(raw string) bool) (*Request, error) {
	switch r.Method {
	case http.MethodGet:
		if wanted != nil && !wanted(r.URL.RawQuery) {
			return nil, ErrNotGraphQL
		}
		return readGET(r.URL.RawQuery)
	case http.MethodPost:
		return readPOST(r, maxBody, wanted)
	}
	return nil, ErrNotGraphQL
}

// readGET reads the three GraphQL parameters of a query string, leaving the rest encoded.
func readGET(rawQuery string) (*Request, error) {
	req := &Request{encoding: encGET}
	var variables string
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		key, value, _ := strings.Cut(pair, "=")
		var dst *string
		switch key {
		case "query":
			if req.rawQuery == "" {
				req.rawQuery = value
			}
			continue
		case "operationName":
			dst = &req.OperationName
		case "variables":
			dst = &variables
		default:
			continue
		}
		if *dst != "" {
			continue // the first value wins, as url.Values.Get
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		*dst = v
	}
	if req.rawQuery == "" {
		return nil, ErrNotGraphQL
	}
	if variables != "" {
		raw := json.RawMessage(variables)
		if !json.Valid(raw) {
			return nil, fmt.Errorf("variables: invalid json")
		}
		req.Variables, req.valid = raw, raw
	}
	return req, nil
}

func readPOST(r *http.Request, maxBody int64, wanted func(string) bool) (*Request, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" && mediaType != "application/graphql" {
		return nil, ErrNotGraphQL
	}
	if r.ContentLength > maxBody {
		return nil, fmt.Errorf("request body of %d bytes is over the %d byte limit", r.ContentLength, maxBody)
	}
	body, err := PeekBody(r, maxBody)
	if err != nil {
		return nil, err
	}
	if wanted != nil && !wanted(string(body)) {
		return nil, ErrNotGraphQL
	}
	if mediaType == "application/graphql" {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, ErrNotGraphQL
		}
		return &Request{Query: string(body), encoding: encGraphQL}, nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrNotGraphQL // batches and garbage pass through
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	req := &Request{encoding: encJSON, body: fields}
	if err := stringField(fields, "query", &req.Query); err != nil || req.Query == "" {
		return nil, ErrNotGraphQL
	}
	if err := stringField(fields, "operationName", &req.OperationName); err != nil {
		return nil, err
	}
	if v, ok := fields["variables"]; ok && string(v) != "null" {
		req.Variables, req.valid = v, v // a member of the decoded body: valid JSON
	}
	return req, nil
}

// stringField decodes fields[name] into dst when present and not null.
func stringField(fields map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// PeekBody reads up to limit bytes of r's body and restores it for the next reader; a body
// over limit is an error.
func PeekBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	rest := r.Body
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), rest), rest}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", errOverLimit, limit)
	}
	return body, nil
}

// errOverLimit is a request body larger than the caller's limit.
var errOverLimit = errors.New("request body is over the limit")

type readCloser struct {
	io.Reader
	io.Closer
}

// DecodeVariables decodes the operation's variables (nil when none).
func (req *Request) DecodeVariables() (map[string]any, error) {
	if len(req.Variables) == 0 {
		return nil, nil
	}
	if vars := req.decoded; vars != nil && same(req.decodedFrom, req.Variables) {
		req.decoded = nil // the caller owns it; a second call decodes afresh
		return vars, nil
	}
	var vars map[string]any
	if err := json.Unmarshal(req.Variables, &vars); err != nil {
		return nil, fmt.Errorf("variables: %w", err)
	}
	return vars, nil
}

// CheckVariables fails where DecodeVariables would, without decoding: for callers that do
// not need the values. One difference: a number beyond float64's range, which decoding
// refuses, passes (PHP's json_decode reads it as INF, so Magento takes the request).
func (req *Request) CheckVariables() error {
	if len(req.Variables) == 0 {
		return nil
	}
	if !same(req.valid, req.Variables) && !json.Valid(req.Variables) {
		return errors.New("variables: invalid JSON")
	}
	switch bytes.TrimLeft(req.Variables, " \t\r\n")[0] {
	case '{', 'n': // an object or null
		return nil
	}
	return errors.New("variables: not a JSON object")
}

// Replace makes r carry query instead of the client's query, in the client's own encoding;
// every other parameter and member is kept as it was. escaped, when set, returns query
// already URL-escaped (callers cache it), for GET requests.
func (req *Request) Replace(r *http.Request, query string, escaped func() string) error {
	switch req.encoding {
	case encGET:
		e := ""
		if escaped != nil {
			e = escaped()
		} else {
			e = url.QueryEscape(query)
		}
		r.URL.RawQuery = replaceParam(r.URL.RawQuery, "query", e)
		r.RequestURI = ""
		return nil
	case encGraphQL:
		setBody(r, []byte(query))
		return nil
	}
	encoded, err := json.Marshal(query)
	if err != nil {
		return fmt.Errorf("encode query: %w", err)
	}
	fields := make(map[string]json.RawMessage, len(req.body))
	for k, v := range req.body {
		fields[k] = v
	}
	fields["query"] = encoded
	body, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	setBody(r, body)
	return nil
}

// replaceParam returns rawQuery with the first value of key set to the escaped value; every
// other byte is kept as it was.
func replaceParam(rawQuery, key, escaped string) string {
	for at := 0; at < len(rawQuery); {
		end := strings.IndexByte(rawQuery[at:], '&')
		if end < 0 {
			end = len(rawQuery)
		} else {
			end += at
		}
		if k, _, _ := strings.Cut(rawQuery[at:end], "="); k == key {
			return rawQuery[:at] + key + "=" + escaped + rawQuery[end:]
		}
		at = end + 1
	}
	return rawQuery
}

func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}
