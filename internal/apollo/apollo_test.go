package apollo

import "testing"

func TestPrepare(t *testing.T) {
	got, err := Prepare(`
		# a comment
		query Q($id: String!) {
			cart(cart_id: $id) { id items { uid ... on ConfigurableCartItem { configurable_options { value_label } } } __typename }
			...F
		}
		fragment F on Query { storeConfig { store_code } }`)
	if err != nil {
		t.Fatal(err)
	}
	want := `query Q($id: String!) { cart(cart_id: $id) { id items { uid ... on ConfigurableCartItem { configurable_options { value_label __typename } } __typename } __typename } ...F } fragment F on Query { storeConfig { store_code __typename } __typename }`
	if got != want {
		t.Fatalf("Prepare:\n got %s\nwant %s", got, want)
	}
	if _, err := Prepare("{ broken"); err == nil {
		t.Fatal("a syntax error must be reported")
	}
}
