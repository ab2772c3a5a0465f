// Command benchrecord records the demo store's answers that cmd/fixedupstream serves during
// `make bench`, and writes the requests the load generator sends.
//
//	benchrecord -store http://127.0.0.1:9080 -fixture venia-cart-operations.json -out DIR \
//	    [-lines 20] [-soak-queries 1000] [-soak-segments 10000] [-soak-audiences id,id]
//
// It builds a cart of -lines lines on the store (shipping address, flat-rate shipping and the
// WELCOME10 coupon included), takes Venia's cart page query as Apollo Client sends it
// (__typename added, minified, GET), and writes to DIR:
//
//	cart.path             the client's GET path of the cart page query
//	nocart.path           the GET path of a product search (no cart)
//	cart.json             the store's answer to the client's cart query
//	cart-augmented.json   its answer to the query the sidecar sends instead (hidden _aud_ fields)
//	nocart.json           its answer to the product search
//	soak-paths.txt        the cart query under -soak-queries distinct operation names
//	soak-segments.txt     -soak-segments distinct aep-segments-membership header values
//	augment.json          what the augmented query adds to every operation of the fixture
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
)

// cartPageSource names the Venia operation the cart variants send.
const cartPageSource = "cartPage.gql.js#default.getCartDetailsQuery"

// noCartQuery is a product search as Venia's search page sends it: no cart anywhere.
const noCartQuery = `query ProductSearch($search:String!){products(search:$search,pageSize:12){items{uid sku name url_key stock_status small_image{url label __typename} price_range{maximum_price{final_price{value currency __typename} regular_price{value currency __typename} __typename} __typename} __typename} total_count __typename}}`

func main() {
	var o options
	flag.StringVar(&o.store, "store", "", "base URL of the demo store (loopback, required)")
	flag.StringVar(&o.fixture, "fixture", "", "path of venia-cart-operations.json (required)")
	flag.StringVar(&o.out, "out", "", "directory to write the recordings to (required)")
	flag.IntVar(&o.lines, "lines", 20, "cart lines")
	flag.IntVar(&o.soakQueries, "soak-queries", 1000, "distinct query texts for the soak")
	flag.IntVar(&o.soakSegments, "soak-segments", 10000, "distinct segment sets for the soak")
	audiences := flag.String("soak-audiences", "", "comma-separated segment IDs the rules target, mixed into half the soak's sets")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchrecord: ")
	if *audiences != "" {
		o.audiences = strings.Split(*audiences, ",")
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	store, fixture, out       string
	lines                     int
	soakQueries, soakSegments int
	audiences                 []string
}

func run(o options) error {
	if o.store == "" || o.fixture == "" || o.out == "" {
		return errors.New("-store, -fixture and -out are required")
	}
	if o.lines < 1 || o.lines > 200 || o.soakQueries < 1 || o.soakSegments < 1 {
		return errors.New("-lines must be 1..200 and the soak counts positive")
	}
	base, err := loopback.CheckURL(o.store)
	if err != nil {
		return err
	}
	st := &store{base: strings.TrimSuffix(base.String(), "/"), client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, DialContext: loopback.DialContext},
	}}
	raw, err := fixtureQuery(o.fixture, cartPageSource)
	if err != nil {
		return err
	}
	query, err := apollo.Prepare(raw)
	if err != nil {
		return err
	}
	opName, err := operationName(query)
	if err != nil {
		return err
	}
	planner, err := cartql.NewPlanner(cartql.Options{})
	if err != nil {
		return err
	}
	plan, err := planner.Plan(query, opName)
	if err != nil {
		return fmt.Errorf("plan the cart page query: %w", err)
	}
	if !plan.HasCart() {
		return errors.New("the cart page query has no cart: nothing to rewrite")
	}
	cartID, err := st.buildCart(o.lines)
	if err != nil {
		return err
	}
	vars := fmt.Sprintf(`{"cartId":%q}`, cartID)
	cartPath := getPath(query, opName, vars)
	noCartPath := getPath(noCartQuery, "ProductSearch", `{"search":"demo"}`)

	files := map[string][]byte{
		"cart.path":   []byte(cartPath + "\n"),
		"nocart.path": []byte(noCartPath + "\n"),
	}
	for name, path := range map[string]string{
		"cart.json":           cartPath,
		"cart-augmented.json": getPath(plan.Query(), opName, vars),
		"nocart.json":         noCartPath,
	} {
		if files[name], err = st.get(path); err != nil {
			return fmt.Errorf("record %s: %w", name, err)
		}
	}
	if strings.Contains(plan.Query(), cartql.HiddenPrefix) && !bytes.Contains(files["cart-augmented.json"], []byte(cartql.HiddenPrefix)) {
		return errors.New("the store's answer to the augmented query has no hidden fields")
	}
	rows, err := augmentation(o.fixture)
	if err != nil {
		return err
	}
	if files["augment.json"], err = json.MarshalIndent(rows, "", "  "); err != nil {
		return err
	}
	files["soak-paths.txt"] = soakPaths(query, opName, vars, o.soakQueries)
	files["soak-segments.txt"] = soakSegments(o.soakSegments, o.audiences)

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(o.out, name), b, 0o644); err != nil {
			return err
		}
	}
	log.Printf("recorded a %d-line cart (%d bytes, %d augmented) and a product search (%d bytes) in %s",
		o.lines, len(files["cart.json"]), len(files["cart-augmented.json"]), len(files["nocart.json"]), o.out)
	return nil
}

// getPath is the GET request Apollo Client sends for an operation.
func getPath(query, operationName, variables string) string {
	q := url.Values{"query": {query}, "operationName": {operationName}, "variables": {variables}}
	return "/graphql?" + q.Encode()
}

// soakPaths returns n GET paths of the same query under distinct operation names: n distinct
// query texts whose answer is the same cart.
func soakPaths(query, opName, vars string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		name := fmt.Sprintf("%sSoak%04d", opName, i)
		q := strings.Replace(query, "query "+opName, "query "+name, 1)
		b.WriteString(getPath(q, name, vars))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// soakSegments returns n distinct aep-segments-membership header values (URL-encoded, as a
// headless storefront sends them): 1 to 6 IDs from a pool of 2,000, with the rules' own
// audiences added to every other set so that part of the soak gets discounts.
func soakSegments(n int, audiences []string) []byte {
	rng := rand.New(rand.NewPCG(6, 2026))
	pool := make([]string, 2000)
	for i := range pool {
		pool[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
			rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
	}
	seen := map[string]bool{}
	var b bytes.Buffer
	for i := 0; len(seen) < n; i++ {
		var set []string
		for range 1 + rng.IntN(6) {
			set = append(set, pool[rng.IntN(len(pool))])
		}
		if i%2 == 0 && len(audiences) > 0 {
			set = append(set, audiences[rng.IntN(len(audiences))])
		}
		slices.Sort(set)
		set = slices.Compact(set)
		key := strings.Join(set, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		rng.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
		b.WriteString(url.QueryEscape(strings.Join(set, ",")))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// fixtureQuery returns the query of the fixture operation whose source ends with source.
func fixtureQuery(path, source string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("fixture: %w", err)
	}
	var ops []struct {
		Source string `json:"source"`
		Query  string `json:"query"`
	}
	if err := json.Unmarshal(b, &ops); err != nil {
		return "", fmt.Errorf("fixture %s: %w", path, err)
	}
	for _, op := range ops {
		if strings.HasSuffix(op.Source, source) {
			return op.Query, nil
		}
	}
	return "", fmt.Errorf("fixture %s: no operation %s", path, source)
}

// store talks GraphQL to the demo store.
type store struct {
	base   string
	client *http.Client
}

// get sends a GET path and returns the body of a 200 answer without GraphQL errors.
func (s *store) get(path string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Store", "default")
	return s.do(req)
}

// mutate POSTs a mutation as JSON.
func (s *store) mutate(query string, variables map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Store", "default")
	return s.do(req)
}

func (s *store) do(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("content type %q", ct)
	}
	var r struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if len(r.Errors) > 0 {
		return nil, fmt.Errorf("graphql errors: %.300s", body)
	}
	return body, nil
}

// buildCart creates a guest cart with the given number of lines (DEMO-001… with quantities
// 1 to 3), a shipping address, flat-rate shipping and the store's WELCOME10 coupon.
func (s *store) buildCart(lines int) (string, error) {
	body, err := s.mutate(`mutation { createEmptyCart }`, nil)
	if err != nil {
		return "", fmt.Errorf("create cart: %w", err)
	}
	var created struct {
		Data struct {
			CreateEmptyCart string `json:"createEmptyCart"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Data.CreateEmptyCart == "" {
		return "", fmt.Errorf("create cart: no cart id in %.200s", body)
	}
	id := created.Data.CreateEmptyCart
	items := make([]map[string]any, lines)
	for i := range items {
		items[i] = map[string]any{"sku": fmt.Sprintf("DEMO-%03d", i+1), "quantity": i%3 + 1}
	}
	steps := []struct {
		what, query string
		vars        map[string]any
	}{
		{"add products", `mutation($c: String!, $i: [CartItemInput!]!) { addProductsToCart(cartId: $c, cartItems: $i) { cart { id } user_errors { message } } }`,
			map[string]any{"c": id, "i": items}},
		{"shipping address", `mutation($c: String!) { setShippingAddressesOnCart(input: {cart_id: $c, shipping_addresses: [{address: {firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"], city: "Calder", region: "MI", region_id: 33, postcode: "49628", country_code: "US", telephone: "5555550100", save_in_address_book: false}}]}) { cart { id } } }`,
			map[string]any{"c": id}},
		{"shipping method", `mutation($c: String!) { setShippingMethodsOnCart(input: {cart_id: $c, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`,
			map[string]any{"c": id}},
		{"coupon", `mutation($c: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: "WELCOME10"}) { cart { id } } }`,
			map[string]any{"c": id}},
	}
	for _, st := range steps {
		body, err := s.mutate(st.query, st.vars)
		if err != nil {
			return "", fmt.Errorf("%s: %w", st.what, err)
		}
		if bytes.Contains(body, []byte(`"user_errors":[{`)) {
			return "", fmt.Errorf("%s: %.300s", st.what, body)
		}
	}
	return id, nil
}
