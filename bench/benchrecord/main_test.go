package main

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
)

func TestSoakSegmentsDistinct(t *testing.T) {
	const vip = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	lines := strings.Split(strings.TrimSpace(string(soakSegments(10000, []string{vip}))), "\n")
	if len(lines) != 10000 {
		t.Fatalf("%d lines, want 10000", len(lines))
	}
	seen, withVIP := map[string]bool{}, 0
	for _, l := range lines {
		v, err := url.QueryUnescape(l)
		if err != nil || strings.Contains(l, ",") {
			t.Fatalf("%q: not a URL-encoded header value", l)
		}
		if seen[v] {
			t.Fatalf("duplicate set %q", v)
		}
		seen[v] = true
		if strings.Contains(v, vip) {
			withVIP++
		}
	}
	if withVIP < 4000 || withVIP > 6000 {
		t.Errorf("%d of 10000 sets hold the rules' audience, want about half", withVIP)
	}
	if string(soakSegments(100, nil)) != string(soakSegments(100, nil)) {
		t.Error("the sets must be the same from run to run")
	}
}

func TestSoakPathsDistinctAndPlanned(t *testing.T) {
	query, err := apollo.Prepare(`query GetCartDetails($cartId: String!) {
		cart(cart_id: $cartId) { id items { uid quantity } }
	}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `query GetCartDetails($cartId: String!) { cart(cart_id: $cartId) { id items { uid quantity __typename } __typename } }`
	if query != want {
		t.Fatalf("apolloize:\n%s\nwant\n%s", query, want)
	}
	planner, err := cartql.NewPlanner(cartql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.Split(strings.TrimSpace(string(soakPaths(query, "GetCartDetails", `{"cartId":"c"}`, 50))), "\n")
	seen := map[string]bool{}
	for _, p := range paths {
		u, err := url.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if seen[q.Get("query")] {
			t.Fatalf("duplicate query text %q", q.Get("query"))
		}
		seen[q.Get("query")] = true
		plan, err := planner.Plan(q.Get("query"), q.Get("operationName"))
		if err != nil || !plan.HasCart() {
			t.Fatalf("%s: plan %v, err %v", p, plan, err)
		}
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct texts, want 50", len(seen))
	}
}

func TestApolloizeKeepsExistingTypename(t *testing.T) {
	got, err := apollo.Prepare(`fragment F on Cart { __typename id } query Q { cart(cart_id: "x") { ...F } }`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, "__typename") != 2 {
		t.Fatalf("apolloize added a second __typename to F or missed cart's: %s", got)
	}
}

// TestAugmentation measures the Venia fixture: the planner's default adds fewer fields than
// hidden-only plans and none the client selects itself.
func TestAugmentation(t *testing.T) {
	fixture := "../../../shared/fixtures/clients/venia-cart-operations.json"
	if _, err := os.Stat(fixture); err != nil {
		fixture = "/work/shared/fixtures/clients/venia-cart-operations.json"
	}
	rows, err := augmentation(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no operations")
	}
	for _, r := range rows {
		if r.Default.Duplicates != 0 || r.Default.Fields > r.HiddenOnly.Fields || r.HiddenOnly.Fields == 0 {
			t.Errorf("%+v", r)
		}
	}
}
