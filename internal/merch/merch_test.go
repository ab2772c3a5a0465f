package merch

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

const (
	vip       = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	bagLovers = "0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5"
)

// sampleRules are the merchandising rules of examples/rules.json.
func sampleRules(t testing.TB) *rules.RuleSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func ruleSet(t testing.TB, doc string) *rules.RuleSet {
	t.Helper()
	rs, err := rules.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// store is the demo store in process, answering as Adobe Commerce.
type store struct {
	t     testing.TB
	h     http.Handler
	calls atomic.Int64
	fail  error
}

func newStore(t testing.TB) *store {
	return &store{t: t, h: demostore.New(demostore.Options{Edition: demostore.EditionCommerce})}
}

// post sends one operation and returns the raw answer.
func (s *store) post(query string, vars map[string]any) []byte {
	s.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		s.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		s.t.Fatalf("store answered %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// Do implements Doer: the lookups the rewriter sends.
func (s *store) Do(query, operationName string, vars map[string]any) ([]byte, error) {
	s.calls.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.post(query, vars), nil
}

// cart creates a guest cart holding the configurable MH01 and 24-MB01.
func (s *store) cart() string {
	s.t.Helper()
	id := str(s.post(`mutation { createGuestCart { cart { id } } }`, nil), "data.createGuestCart.cart.id")
	for _, item := range []string{`{sku: "24-MB01", quantity: 1}`, `{sku: "MH01-S-Black", parent_sku: "MH01", quantity: 1}`} {
		if out := s.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [`+item+`]) { user_errors { code } } }`, map[string]any{"id": id}); len(items(out, "data.addProductsToCart.user_errors")) != 0 {
			s.t.Fatalf("add %s: %s", item, out)
		}
	}
	return id
}

// run plans query, sends what the sidecar would send, applies the rules for a shopper with
// segments and strips the hidden fields; it returns the backend's answer to the client's own
// query and the answer the client gets.
func run(t *testing.T, s *store, rw *Rewriter, rs *rules.RuleSet, query string, vars map[string]any, segments ...string) (backend, got []byte, res Result) {
	t.Helper()
	planner, err := cartql.NewPlanner(cartql.Options{Merchandising: true})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planner.Plan(query, "")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.HasMerch() {
		t.Fatalf("no product lists or blocks found in %s", query)
	}
	backend = s.post(query, vars)
	augmented := s.post(plan.Query(), vars)
	out, res, err := rw.Rewrite(Answer{Plan: plan, Variables: vars, Rules: rs, Shopper: Shopper{Segments: segments, At: time.Now(), Scope: rules.Scope{Store: "default"}, Store: "default"}, Doer: s, Body: augmented})
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	got, err = plan.Strip(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got, []byte(cartql.HiddenPrefix)) {
		t.Fatalf("hidden field left in %s", got)
	}
	return backend, got, res
}

func skus(body []byte, path string) string {
	var out []string
	for _, it := range items(body, path) {
		out = append(out, str(it, "sku"))
	}
	return strings.Join(out, " ")
}

type clientOp struct {
	Source string `json:"source"`
	Query  string `json:"query"`
}

func clientOps(t *testing.T) []clientOp { return clientOpsFrom(t) }

func clientOpsFrom(t testing.TB) []clientOp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "e2e", "testdata", "merch_operations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ops []clientOp
	if err := json.Unmarshal(b, &ops); err != nil {
		t.Fatal(err)
	}
	return ops
}

// opVariables gives a client operation's variables values the demo store has data for.
func opVariables(s *store, query string) map[string]any {
	vars := map[string]any{}
	set := func(name string, v any) {
		if strings.Contains(query, "$"+name) {
			vars[name] = v
		}
	}
	if strings.Contains(query, "$cartId") {
		vars["cartId"] = s.cart()
	}
	set("identifiers", []string{"home-hero", "spring-sale", "footer-links"})
	set("cmsBlockIdentifiers", []string{"home-hero", "spring-sale", "footer-links"})
	set("type", "SPECIFIED")
	set("uids", []string{"MQ==", "Mw=="})
	set("filter", map[string]any{"sku": map[string]any{"eq": "24-MB01"}})
	set("urlKey", "joust-duffle-bag")
	return vars
}

// TestClientOperations runs the real client operations that select product lists and blocks:
// a shopper in no audience gets exactly the backend's answer from rules that change nothing
// for non-members; a member gets the answer of testdata/<operation>.golden.
func TestClientOperations(t *testing.T) {
	memberOnly := ruleSet(t, `{"rules": [], "merchandising": [
		{"id": "bags", "audiences": {"any": ["`+bagLovers+`"]}, "products": {"field": "sku", "op": "matches", "value": "24-MB*"},
		 "lists": ["related", "upsell"], "add": ["24-MB03", "24-MB02"], "remove": ["24-WB*"], "first": ["24-MB02"]},
		{"id": "carry-more", "audiences": {"any": ["`+bagLovers+`"]}, "lists": ["crosssell"], "add": ["24-MB03"], "first": ["24-MB03"], "remove": ["VGC-*"]},
		{"id": "vip-hero", "audiences": {"any": ["`+vip+`"]}, "blocks": {"hide": ["footer-links"], "replace": {"home-hero": "vip-hero", "MQ==": "Mg=="}}}
	]}`)
	for _, op := range clientOps(t) {
		t.Run(op.Source, func(t *testing.T) {
			s := newStore(t)
			vars := opVariables(s, op.Query)
			backend, got, res := run(t, s, New(0, 0), memberOnly, op.Query, vars)
			if !bytes.Equal(got, backend) || len(res.Rules) != 0 {
				t.Fatalf("a shopper in no audience got\n%s\nthe backend answered\n%s", got, backend)
			}
			_, got, res = run(t, s, New(0, 0), memberOnly, op.Query, vars, vip, bagLovers)
			if len(res.Rules) == 0 || bytes.Equal(got, backend) {
				t.Fatalf("no rule changed the answer for a member: %s", got)
			}
			if raw(got, "errors") != nil {
				t.Fatalf("errors: %s", got)
			}
			golden(t, op.Source, redactCart(got, vars))
		})
	}
}

// redactCart replaces a cart id, new in every run, for the golden files.
func redactCart(body []byte, vars map[string]any) []byte {
	if id, ok := vars["cartId"].(string); ok {
		return bytes.ReplaceAll(body, []byte(id), []byte("CART_ID"))
	}
	return body
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, got)
	}
	buf.WriteByte('\n')
	name = strings.NewReplacer("/", "_", "#", "_", " ", "_", ":", "", ",", "").Replace(name)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs:\n%s", path, buf.Bytes())
	}
}

const relatedQuery = `query($sku: String) { products(filter: {sku: {eq: $sku}}) { items { sku related_products { sku name price_range { minimum_price { final_price { value currency } } } } } } }`

// TestRelatedProducts follows examples/rules.json for the Bag lovers: water bottles out,
// bags added up to the limit, the Fusion Backpack first; the added product is the store's own
// answer to the client's selection.
func TestRelatedProducts(t *testing.T) {
	s := newStore(t)
	rs := sampleRules(t)
	vars := map[string]any{"sku": "24-MB01"}
	backend, got, res := run(t, s, New(0, 0), rs, relatedQuery, vars, bagLovers)
	if b := skus(backend, "data.products.items.0.related_products"); b != "24-MB04 24-WB04 24-MB02" {
		t.Fatalf("backend related: %s", b)
	}
	if g := skus(got, "data.products.items.0.related_products"); g != "24-MB02 24-MB04 24-MB03" {
		t.Fatalf("related: %s\n%s", g, got)
	}
	if strings.Join(res.Rules, ",") != "bags-related" {
		t.Errorf("rules: %v", res.Rules)
	}
	direct := s.post(`{ products(filter: {sku: {eq: "24-MB03"}}) { items { sku name price_range { minimum_price { final_price { value currency } } } } } }`, nil)
	want := string(raw(direct, "data.products.items.0"))
	if added := string(raw(got, "data.products.items.0.related_products.2")); added != want {
		t.Errorf("added product\n%s\nthe store's\n%s", added, want)
	}
	// A product the rule does not match keeps its list.
	vars = map[string]any{"sku": "24-UG06"}
	backend, got, _ = run(t, s, New(0, 0), rs, relatedQuery, vars, bagLovers)
	if !bytes.Equal(got, backend) {
		t.Errorf("24-UG06 changed:\n%s\n%s", got, backend)
	}
}

// TestFragmentsAliasesInlineFragments finds the lists through aliases, named and inline
// fragments and rewrites each list it finds.
func TestFragmentsAliasesInlineFragments(t *testing.T) {
	s := newStore(t)
	query := `query Page($sku: String, $size: Int = 5) {
		bag: products(filter: {sku: {eq: $sku}}, pageSize: $size) { items { ...Bag } }
	}
	fragment Bag on ProductInterface {
		code: sku
		... on SimpleProduct { mates: related_products { ...Tile } }
		ups: upsell_products { ... on SimpleProduct { id: sku } }
	}
	fragment Tile on ProductInterface { uid label: name }`
	backend, got, _ := run(t, s, New(0, 0), sampleRules(t), query, map[string]any{"sku": "24-MB01"}, bagLovers)
	if len(items(backend, "data.bag.items.0.mates")) != 3 {
		t.Fatalf("backend: %s", backend)
	}
	labels := each(got, "data.bag.items.0.mates", "label")
	if labels != `["Fusion Backpack","Strive Shoulder Pack","Crown Summit Backpack"]` {
		t.Errorf("related: %s\n%s", labels, got)
	}
	// 24-MB01's up-sells are 24-MB02 and 24-WB04: the bottle goes, 24-MB03 and 24-MB04 come.
	if ids := each(got, "data.bag.items.0.ups", "id"); ids != `["24-MB02","24-MB03","24-MB04"]` {
		t.Errorf("up-sells: %s\n%s", ids, got)
	}
	if str(got, "data.bag.items.0.code") != "24-MB01" || raw(got, "data.bag.items.0.sku") != nil {
		t.Errorf("the client's own fields: %s", got)
	}
}

const blocksQuery = `query($ids: [String]) { cmsBlocks(identifiers: $ids) { items { identifier title } } }`

// TestBlocks shows the spring sale to VIPs only and replaces the hero for them.
func TestBlocks(t *testing.T) {
	s := newStore(t)
	rs := sampleRules(t)
	vars := map[string]any{"ids": []string{"home-hero", "spring-sale", "footer-links"}}
	ids := func(body []byte) string {
		return each(body, "data.cmsBlocks.items", "identifier")
	}
	_, got, _ := run(t, s, New(0, 0), rs, blocksQuery, vars)
	if ids(got) != `["home-hero","footer-links"]` {
		t.Errorf("non-member: %s", got)
	}
	_, got, res := run(t, s, New(0, 0), rs, blocksQuery, vars, vip)
	if ids(got) != `["vip-hero","spring-sale","footer-links"]` || str(got, "data.cmsBlocks.items.0.title") != "VIP Hero" {
		t.Errorf("VIP: %s", got)
	}
	if strings.Join(res.Rules, ",") != "vip-hero" {
		t.Errorf("rules: %v", res.Rules)
	}
}

// TestDynamicBlocks replaces a dynamic block by uid and keeps total_count right when a block
// goes.
func TestDynamicBlocks(t *testing.T) {
	s := newStore(t)
	rs := ruleSet(t, `{"rules": [], "merchandising": [
		{"id": "vip", "audiences": {"any": ["`+vip+`"]}, "blocks": {"replace": {"MQ==": "Mg=="}, "hide": ["Mw=="]}}]}`)
	query := `query($uids: [ID]!) { dynamicBlocks(input: {type: SPECIFIED, dynamic_block_uids: $uids}) { total_count items { uid content { html } } } }`
	vars := map[string]any{"uids": []string{"MQ==", "Mw=="}}
	backend, got, _ := run(t, s, New(0, 0), rs, query, vars, vip)
	if str(backend, "data.dynamicBlocks.total_count") != "2" {
		t.Fatalf("backend: %s", backend)
	}
	if each(got, "data.dynamicBlocks.items", "uid") != `["Mg=="]` || str(got, "data.dynamicBlocks.total_count") != "1" {
		t.Errorf("VIP: %s", got)
	}
	if !strings.Contains(str(got, "data.dynamicBlocks.items.0.content.html"), "VIP early access") {
		t.Errorf("replacement content: %s", got)
	}
}

// TestMissingReplacementHides: a replacing block the store does not have hides the replaced
// one (as Magento answers a missing block), for CMS and dynamic blocks alike.
func TestMissingReplacementHides(t *testing.T) {
	s := newStore(t)
	rs := ruleSet(t, `{"rules": [], "merchandising": [
		{"id": "vip", "audiences": {"any": ["`+vip+`"]}, "blocks": {"replace": {"home-hero": "no-such-block", "MQ==": "bm8tc3VjaA=="}}}]}`)
	_, got, res := run(t, s, New(0, 0), rs, blocksQuery, map[string]any{"ids": []string{"home-hero", "footer-links"}}, vip)
	if ids := each(got, "data.cmsBlocks.items", "identifier"); ids != `["footer-links"]` {
		t.Errorf("CMS blocks: %s", got)
	}
	if strings.Join(res.Rules, ",") != "vip" {
		t.Errorf("rules: %v", res.Rules)
	}
	query := `query($uids: [ID]!) { dynamicBlocks(input: {type: SPECIFIED, dynamic_block_uids: $uids}) { total_count items { uid } } }`
	_, got, _ = run(t, s, New(0, 0), rs, query, map[string]any{"uids": []string{"MQ==", "Mw=="}}, vip)
	if each(got, "data.dynamicBlocks.items", "uid") != `["Mw=="]` || str(got, "data.dynamicBlocks.total_count") != "1" {
		t.Errorf("dynamic blocks: %s", got)
	}
}

// TestLookupCache reads an added product once per store view and currency and identity.
func TestLookupCache(t *testing.T) {
	s := newStore(t)
	rw := New(0, 0)
	rs := sampleRules(t)
	vars := map[string]any{"sku": "24-MB01"}
	run(t, s, rw, rs, relatedQuery, vars, bagLovers)
	if s.calls.Load() != 1 {
		t.Fatalf("lookups: %d", s.calls.Load())
	}
	run(t, s, rw, rs, relatedQuery, vars, bagLovers)
	if s.calls.Load() != 1 {
		t.Fatalf("lookups after a cached answer: %d", s.calls.Load())
	}
	planner, _ := cartql.NewPlanner(cartql.Options{Merchandising: true})
	plan, _ := planner.Plan(relatedQuery, "")
	body := s.post(plan.Query(), vars)
	for i, sh := range []Shopper{
		{Segments: []string{bagLovers}, Store: "fr", Currency: ""},
		{Segments: []string{bagLovers}, Store: "default", Currency: "EUR"},
		{Segments: []string{bagLovers}, Store: "default", Identity: "a-customer"},
	} {
		if _, _, err := rw.Rewrite(Answer{Plan: plan, Variables: vars, Rules: rs, Shopper: sh, Doer: s, Body: body}); err != nil {
			t.Fatal(err)
		}
		if s.calls.Load() != int64(i+2) {
			t.Errorf("shopper %+v: lookups %d", sh, s.calls.Load())
		}
	}
}

// TestFailOpen returns the backend's answer unchanged on every kind of failure.
func TestFailOpen(t *testing.T) {
	s := newStore(t)
	rs := sampleRules(t)
	planner, _ := cartql.NewPlanner(cartql.Options{Merchandising: true})
	plan, _ := planner.Plan(relatedQuery, "")
	vars := map[string]any{"sku": "24-MB01"}
	body := s.post(plan.Query(), vars)
	sh := Shopper{Segments: []string{bagLovers}}
	s.fail = errors.New("connection refused")
	out, res, err := New(0, 0).Rewrite(Answer{Plan: plan, Variables: vars, Rules: rs, Shopper: sh, Doer: s, Body: body})
	if err == nil || !bytes.Equal(out, body) || len(res.Rules) != 0 {
		t.Errorf("lookup failure: err %v, changed %v", err, !bytes.Equal(out, body))
	}
	s.fail = nil
	for _, broken := range []string{``, `{`, `[]`, `{"data": {"products": {"items": [{"_aud_msku": 7, "related_products": "x"}]}}}`, `{"data": {"products": 3}}`, `{"data": null, "errors": [{"message": "x"}]}`} {
		out, _, _ := New(0, 0).Rewrite(Answer{Plan: plan, Variables: vars, Rules: rs, Shopper: sh, Doer: s, Body: []byte(broken)})
		if string(out) != broken {
			t.Errorf("%q became %q", broken, out)
		}
	}
	// A store that answers the lookup with garbage.
	out, _, err = New(0, 0).Rewrite(Answer{Plan: plan, Variables: vars, Rules: rs, Shopper: sh, Doer: doerFunc(func() ([]byte, error) { return []byte("<html>"), nil }), Body: body})
	if err == nil || !bytes.Equal(out, body) {
		t.Errorf("garbage lookup: %v", err)
	}
}

type doerFunc func() ([]byte, error)

func (f doerFunc) Do(string, string, map[string]any) ([]byte, error) { return f() }

// TestUnknownProductLeftOut leaves out an added SKU the store does not answer.
func TestUnknownProductLeftOut(t *testing.T) {
	s := newStore(t)
	rs := ruleSet(t, `{"rules": [], "merchandising": [
		{"id": "ghost", "audiences": {"any": ["`+bagLovers+`"]}, "lists": ["related"], "add": ["NO-SUCH-SKU", "24-UG04"]}]}`)
	_, got, _ := run(t, s, New(0, 0), rs, relatedQuery, map[string]any{"sku": "24-MB01"}, bagLovers)
	if g := skus(got, "data.products.items.0.related_products"); g != "24-MB04 24-WB04 24-MB02 24-UG04" {
		t.Errorf("related: %s", g)
	}
}

// raw is the JSON at a dot path (object keys, array indexes) of body; nil when missing.
func raw(body []byte, path string) json.RawMessage {
	cur := json.RawMessage(body)
	for _, k := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(k); err == nil {
			var arr []json.RawMessage
			if json.Unmarshal(cur, &arr) != nil || i >= len(arr) {
				return nil
			}
			cur = arr[i]
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(cur, &obj) != nil || obj[k] == nil {
			return nil
		}
		cur = obj[k]
	}
	return cur
}

// str is the string (or the JSON text of anything else) at path.
func str(body []byte, path string) string {
	r := raw(body, path)
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// items is the array at path.
func items(body []byte, path string) []json.RawMessage {
	var arr []json.RawMessage
	_ = json.Unmarshal(raw(body, path), &arr)
	return arr
}

// each is the JSON list of the key of each item of the array at path.
func each(body []byte, path, key string) string {
	out := []string{}
	for _, it := range items(body, path) {
		out = append(out, str(it, key))
	}
	b, _ := json.Marshal(out)
	return string(b)
}
