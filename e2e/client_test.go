package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
)

// fixture is one GraphQL operation a real storefront sends.
type fixture struct {
	Client string `json:"client"`
	Source string `json:"source"`
	Query  string `json:"query"`
}

// fixturePath is where the shared fixtures live relative to a shared/ folder.
var fixturePath = filepath.Join("fixtures", "clients", "venia-cart-operations.json")

// loadFixtures reads the Venia operations from $SHARED_DIR, or from the shared/ folder that
// sits beside the repository (or any folder above it).
func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	path := filepath.Join(os.Getenv("SHARED_DIR"), fixturePath)
	if os.Getenv("SHARED_DIR") == "" {
		path = findShared(fixturePath)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	var fixtures []fixture
	if err := json.Unmarshal(raw, &fixtures); err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	return fixtures
}

// findShared looks for shared/<rel> in the working directory and every directory above it.
func findShared(rel string) string {
	dir, _ := os.Getwd()
	for {
		candidate := filepath.Join(dir, "shared", rel)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "..", "shared", rel)
		}
		dir = parent
	}
}

// apolloize does to a query what Apollo Client does before sending it.
func apolloize(t *testing.T, query string) string {
	t.Helper()
	out, err := apollo.Prepare(query)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return out
}

// operationKind returns "mutation" or "query" for the first operation of query.
func operationKind(t *testing.T, query string) string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil || len(doc.Operations) == 0 {
		t.Fatalf("parse: %v", err)
	}
	return string(doc.Operations[0].Operation)
}

// response is what a GraphQL call returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

// graphql sends an operation the way Venia does: queries as GET with the query in the URL,
// mutations as POST JSON.
func graphql(t *testing.T, base, query string, variables map[string]any, header map[string]string) response {
	t.Helper()
	vars, err := json.Marshal(variables)
	if err != nil {
		t.Fatal(err)
	}
	var req *http.Request
	if operationKind(t, query) == "mutation" {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(vars)})
		req, err = http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		q := url.Values{"query": {query}, "variables": {string(vars)}}
		req, err = http.NewRequest(http.MethodGet, base+"/graphql?"+q.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// data decodes the data member of a GraphQL response, failing on GraphQL errors.
func data(t *testing.T, r response) map[string]any {
	t.Helper()
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("graphql errors: %s", r.body)
	}
	return out.Data
}

// newCart creates a guest cart on base and adds the given sku → quantity lines.
func newCart(t *testing.T, base string, lines ...line) string {
	t.Helper()
	d := data(t, graphql(t, base, `mutation { createEmptyCart }`, nil, nil))
	cartID, _ := d["createEmptyCart"].(string)
	if cartID == "" {
		t.Fatalf("no cart id in %v", d)
	}
	for _, l := range lines {
		data(t, graphql(t, base, `mutation($c: String!, $i: [CartItemInput!]!) { addProductsToCart(cartId: $c, cartItems: $i) { cart { id } } }`,
			map[string]any{"c": cartID, "i": []map[string]any{{"sku": l.sku, "quantity": l.qty}}}, nil))
	}
	return cartID
}

// line is one cart line to add.
type line struct {
	sku string
	qty float64
}
