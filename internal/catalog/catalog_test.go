package catalog

import (
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
