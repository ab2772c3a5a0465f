package demostore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxRequestBody caps POST bodies.
const maxRequestBody = 8 << 20

// requestInfo is what resolvers need to know about the HTTP request. It travels in the context.
type requestInfo struct {
	segments    []string
	store       string
	token       string // bearer token, "" for guests
	cartTouched atomic.Bool
}

type requestKey struct{}

func withRequest(ctx context.Context, req *requestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, req)
}

// requestFrom returns the request info of ctx; a guest without segments when there is none.
func requestFrom(ctx context.Context) *requestInfo {
	if req, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return req
	}
	return &requestInfo{store: "default"}
}

func (r *requestInfo) isCustomer() bool { return r.token == demoCustomerToken }

func (r *requestInfo) customerID() int {
	if r.isCustomer() {
		return demoCustomerID
	}
	return 0
}

// touchCart marks the response as carrying cart data (Cache-Control: no-store).
func (r *requestInfo) touchCart() { r.cartTouched.Store(true) }

func newRequestInfo(r *http.Request) *requestInfo {
	req := &requestInfo{store: strings.TrimSpace(r.Header.Get("Store"))}
	if req.store == "" {
		req.store = "default"
	}
	req.segments = parseSegments(r.Header.Get("X-Audience-Segments"))
	if auth := strings.TrimSpace(r.Header.Get("Authorization")); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		req.token = strings.TrimSpace(auth[7:])
	}
	return req
}

// parseSegments splits the normalized membership header the sidecar forwards.
func parseSegments(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// graphQLRequest is a GraphQL-over-HTTP request.
type graphQLRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// httpError is a request that fails before execution, with Magento's status code.
type httpError struct {
	status  int
	message string
	ext     map[string]any
	loc     *gqlerror.Location
}

func (s *Store) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	req := newRequestInfo(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Magento-Cache-Id", cacheID(req))
	switch r.Method {
	case http.MethodGet, http.MethodPost:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, response{Errors: []responseError{{Message: "Request method not allowed"}}})
		return
	}

	gr, herr := readRequest(w, r)
	if herr == nil {
		herr = checkDocument(r.Method, gr)
	}
	if herr != nil {
		w.Header().Set("Cache-Control", "no-store")
		e := responseError{Message: herr.message, Extensions: herr.ext}
		if herr.loc != nil {
			e.Locations = []gqlerrors.Location{{Line: herr.loc.Line, Column: herr.loc.Column}}
		}
		writeJSON(w, herr.status, response{Errors: []responseError{e}})
		return
	}

	res := s.schema.Exec(withRequest(r.Context(), req), gr.Query, gr.OperationName, gr.Variables)
	out := convertResponse(res, gr)
	cacheable := r.Method == http.MethodGet && !req.cartTouched.Load() && len(out.Errors) == 0
	if cacheable {
		w.Header().Set("Cache-Control", "max-age=86400, public, s-maxage=86400")
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, statusFor(out.Errors), out)
}

// readRequest extracts the GraphQL request from the query string or the body.
func readRequest(w http.ResponseWriter, r *http.Request) (graphQLRequest, *httpError) {
	var gr graphQLRequest
	q := r.URL.Query()
	if r.Method == http.MethodGet {
		gr.Query = q.Get("query")
		gr.OperationName = q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &gr.Variables); err != nil {
				return gr, syntaxError("Unable to parse the variables.")
			}
		}
		return gr, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return gr, &httpError{status: http.StatusOK, message: "Request body is too large.", ext: map[string]any{"category": categoryInput}}
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		if len(bytes.TrimSpace(body)) == 0 {
			return gr, nil
		}
		if err := json.Unmarshal(body, &gr); err != nil {
			return gr, syntaxError("Unable to parse the request.")
		}
	case "application/graphql":
		gr.Query = string(body)
		gr.OperationName = q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &gr.Variables); err != nil {
				return gr, syntaxError("Unable to parse the variables.")
			}
		}
	default:
		return gr, &httpError{status: http.StatusUnsupportedMediaType, message: "Request content type must be application/json"}
	}
	return gr, nil
}

func syntaxError(message string) *httpError {
	return &httpError{status: http.StatusBadRequest, message: message, loc: &gqlerror.Location{Line: 1, Column: 1}}
}

// checkDocument parses the document as Magento's controller does before execution: syntax
// errors are 400, a mutation over GET is refused (HttpVerbValidator looks at the last
// operation of the document) and the operation name must select an operation.
func checkDocument(method string, gr graphQLRequest) *httpError {
	doc, err := parser.ParseQuery(&ast.Source{Input: gr.Query})
	if err != nil {
		he := &httpError{status: http.StatusBadRequest, message: "Syntax Error: " + err.Error()}
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			he.message = "Syntax Error: " + gerr.Message
			if len(gerr.Locations) > 0 {
				he.loc = &gerr.Locations[0]
			}
		}
		return he
	}
	if method == http.MethodGet && len(doc.Operations) > 0 &&
		doc.Operations[len(doc.Operations)-1].Operation == ast.Mutation {
		return &httpError{status: http.StatusOK, message: "Mutation requests allowed only for POST requests",
			ext: map[string]any{"category": categoryInput}}
	}
	switch {
	case gr.OperationName != "" && doc.Operations.ForName(gr.OperationName) == nil:
		return &httpError{status: http.StatusOK, message: `Unknown operation named "` + gr.OperationName + `".`}
	case gr.OperationName == "" && len(doc.Operations) > 1:
		return &httpError{status: http.StatusOK, message: "Must provide operation name if query contains multiple operations."}
	}
	return nil
}

// response is the JSON body, keys in the order Magento's graphql-php writes them.
type response struct {
	Errors []responseError `json:"errors,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
	Ext    map[string]any  `json:"extensions,omitempty"`
}

type responseError struct {
	Message    string               `json:"message"`
	Extensions map[string]any       `json:"extensions,omitempty"`
	Locations  []gqlerrors.Location `json:"locations,omitempty"`
	Path       []any                `json:"path,omitempty"`
}

// convertResponse turns graphql-go's response into Magento's shape: resolver errors get the
// locations of their fields, cmsBlocks gets its per-item errors (cmsBlockErrors), and a null
// data is omitted as graphql-php does.
func convertResponse(res *graphql.Response, gr graphQLRequest) response {
	out := response{Data: res.Data, Ext: res.Extensions}
	if bytes.Equal(bytes.TrimSpace(out.Data), []byte("null")) {
		out.Data = nil
	}
	var doc *ast.QueryDocument
	for _, e := range res.Errors {
		re := responseError{Message: magentoMessage(e.Message, gr.Variables), Extensions: e.Extensions, Locations: e.Locations, Path: e.Path}
		if len(re.Locations) == 0 && len(re.Path) > 0 {
			if doc == nil {
				doc, _ = parser.ParseQuery(&ast.Source{Input: gr.Query})
			}
			if pos := locateField(doc, gr.OperationName, re.Path); pos != nil {
				re.Locations = []gqlerrors.Location{{Line: pos.Line, Column: pos.Column}}
			}
		}
		out.Errors = append(out.Errors, re)
	}
	if strings.Contains(gr.Query, "cmsBlocks") {
		if doc == nil {
			doc, _ = parser.ParseQuery(&ast.Source{Input: gr.Query})
		}
		out.Errors = append(out.Errors, cmsBlockErrors(doc, gr.OperationName, gr.Variables, out.Data)...)
	}
	return out
}

// nullVariable matches graphql-go's message for a null or missing non-null variable.
var nullVariable = regexp.MustCompile(`^Variable "(\w+)" has invalid value null\.\nExpected type "([^"]+)", found null\.$`)

// magentoMessage rewords the graphql-go messages whose graphql-php wording differs.
func magentoMessage(msg string, vars map[string]any) string {
	m := nullVariable.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	if _, given := vars[m[1]]; given {
		return `Variable "$` + m[1] + `" of non-null type "` + m[2] + `" must not be null.`
	}
	return `Variable "$` + m[1] + `" of required type "` + m[2] + `" was not provided.`
}

// locateField finds the position of the field a response path points at.
func locateField(doc *ast.QueryDocument, opName string, path []any) *ast.Position {
	if doc == nil {
		return nil
	}
	op := doc.Operations.ForName(opName)
	if op == nil {
		return nil
	}
	sets := []ast.SelectionSet{op.SelectionSet}
	var pos *ast.Position
	for _, seg := range path {
		key, ok := seg.(string)
		if !ok {
			continue
		}
		hasKey := func(f *ast.Field) bool { return responseKey(f) == key }
		var fields []*ast.Field
		for _, set := range sets {
			fields = collectFields(doc, set, hasKey, fields, 0)
		}
		if len(fields) == 0 {
			return nil
		}
		pos = fields[0].Position
		sets = sets[:0]
		for _, f := range fields {
			sets = append(sets, f.SelectionSet)
		}
	}
	return pos
}

// collectFields collects the fields of a selection set that match, looking through inline
// fragments and fragment spreads.
func collectFields(doc *ast.QueryDocument, set ast.SelectionSet, match func(*ast.Field) bool, out []*ast.Field, depth int) []*ast.Field {
	if depth > 32 {
		return out
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if match(s) {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			out = collectFields(doc, s.SelectionSet, match, out, depth+1)
		case *ast.FragmentSpread:
			if def := doc.Fragments.ForName(s.Name); def != nil {
				out = collectFields(doc, def.SelectionSet, match, out, depth+1)
			}
		}
	}
	return out
}

// responseKey is the key a field answers under: its alias, else its name.
func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

// statusFor follows Magento's GraphQl controller: the first error with a category decides.
func statusFor(errs []responseError) int {
	for _, e := range errs {
		category, ok := e.Extensions["category"].(string)
		if !ok {
			continue
		}
		switch category {
		case categoryAuthentication:
			return http.StatusUnauthorized
		case categoryAuthorization:
			return http.StatusForbidden
		default:
			return http.StatusOK
		}
	}
	return http.StatusOK
}

// cacheID imitates Magento's X-Magento-Cache-Id: a hash of the cache-relevant context
// (store, currency, customer group).
func cacheID(req *requestInfo) string {
	group := "0"
	if req.isCustomer() {
		group = "1"
	}
	sum := sha256.Sum256([]byte(req.store + "|" + currencyUSD + "|" + group))
	return hex.EncodeToString(sum[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"errors":[{"message":"Internal server error"}]}`, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}
