package catalog

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	c, err := Decode([]byte(`{"audiences":[{"id":"a","name":"VIP","origin":"Experience Platform","websites":["base"],"last_updated":"2026-11-01"},{"id":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Has("a") || !c.Has("b") || c.Has("c") || c.Len() != 2 {
		t.Fatalf("catalog %+v", c.All())
	}
	if a, _ := c.Get("a"); a.Name != "VIP" || a.Websites[0] != "base" {
		t.Fatalf("Get(a) = %+v", a)
	}
	var nilCatalog *Catalog
	if nilCatalog.Has("a") || nilCatalog.Len() != 0 || nilCatalog.All() != nil {
		t.Fatal("a nil catalog has nothing")
	}
}

func TestDecodeErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"audiences":[{"id":"a","colour":"red"}]}`: "unknown field",
		`{"audiences":[{"id":"a"},{"id":"a"}]}`:     "duplicate",
		`{"audiences":[{"name":"x"},{"id":" "}]}`:   "audiences[1]: id: required",
		`{"audiences":[]} {}`:                       "after the top-level",
		`{"audiences":`:                             "unexpected EOF",
	} {
		_, err := Decode([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestDecodeSyncedFields(t *testing.T) {
	c, err := Decode([]byte(`{"audiences":[
		{"id":"a","name":"VIP","lifecycle":"published","activated":true,"flows":["f1","f2"]},
		{"id":"b","lifecycle":"inactive","activated":false},
		{"id":"c","name":"hand-written"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.Get("a")
	if a.Lifecycle != LifecyclePublished || a.Activated == nil || !*a.Activated || len(a.Flows) != 2 {
		t.Fatalf("a = %+v", a)
	}
	b, _ := c.Get("b")
	if b.Activated == nil || *b.Activated {
		t.Fatalf("b = %+v", b)
	}
	if hand, _ := c.Get("c"); hand.Activated != nil || hand.Lifecycle != "" || hand.Warning() != "" {
		t.Fatalf("a hand-written entry has no sync fields and no warning: %+v", hand)
	}

	// Copies handed out cannot change the catalog.
	all := c.All()
	*a.Activated, a.Flows[0] = false, "changed"
	*all[0].Activated, all[0].Flows[1] = false, "changed"
	if again, _ := c.Get("a"); !*again.Activated || again.Flows[0] != "f1" || again.Flows[1] != "f2" {
		t.Fatalf("the catalog changed through a copy: %+v", again)
	}
}

func TestExampleCatalogDecodes(t *testing.T) {
	data, err := os.ReadFile("../../examples/audiences.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(data)
	if err != nil || c.Len() != 3 {
		t.Fatalf("examples/audiences.json: %v (%d audiences)", err, c.Len())
	}
	for _, a := range c.All() {
		if a.Activated != nil || a.Lifecycle != "" || a.Warning() != "" {
			t.Fatalf("%s: a catalog without the new fields must decode as before: %+v", a.ID, a)
		}
	}
}

func TestWarning(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		a    Audience
		want string
	}{
		{Audience{}, ""},
		{Audience{Lifecycle: "published", Activated: &yes}, ""},
		{Audience{Lifecycle: "inactive", Activated: &yes}, "deactivated in Experience Platform"},
		{Audience{Lifecycle: "draft"}, "a draft, not published in Experience Platform"},
		{Audience{Lifecycle: "archived"}, `in state "archived" in Experience Platform`},
		{Audience{Lifecycle: "published", Activated: &no}, "not activated to the store's destination"},
		{Audience{Lifecycle: "inactive", Activated: &no}, "deactivated in Experience Platform; not activated to the store's destination"},
	}
	for _, tt := range tests {
		if got := tt.a.Warning(); got != tt.want {
			t.Errorf("Warning(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	yes, no := true, false
	in := []Audience{
		{ID: "a", Name: "VIP \"gold\"", Origin: "Experience Platform", LastUpdated: "2026-11-20T10:00:00Z", Lifecycle: "published", Activated: &yes, Flows: []string{"f1"}},
		{ID: "b", Lifecycle: "inactive", Activated: &no},
	}
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Encode(in)
	if string(data) != string(again) {
		t.Fatal("Encode is not deterministic")
	}
	c, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(Encode(...)): %v\n%s", err, data)
	}
	if !reflect.DeepEqual(c.All(), in) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", c.All(), in)
	}
	for _, empty := range [][]Audience{nil, {}} {
		data, err := Encode(empty)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := Decode(data); err != nil || c.Len() != 0 {
			t.Fatalf("empty catalog %s: %v", data, err)
		}
	}
}
