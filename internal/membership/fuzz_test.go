package membership

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary header and cookie values to Read and checks the invariants of the
// normalized set: valid, sorted, unique, capped.
func FuzzRead(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{vip + "," + bags, ""},
		{"", vip + "%2C" + bags},
		{"a%zz,%%,%2", "b, ,c"},
		{strings.Repeat("a,", 500), strings.Repeat("%2C", 100)},
		{"\x00,\xff,é", `"quoted"`},
	} {
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, header, cookie string, union bool) {
		r := &http.Request{Header: http.Header{}}
		r.Header.Set(HeaderName, header)
		r.Header.Set("Cookie", CookieName+"="+cookie)
		cfg := Config{MaxSegments: 16, MaxBytes: 512}
		if union {
			cfg.Source = SourceUnion
		}
		m := Read(r, cfg)
		if len(m.Segments) > cfg.MaxSegments {
			t.Fatalf("%d segments over the cap", len(m.Segments))
		}
		if !slices.IsSorted(m.Segments) {
			t.Fatalf("not sorted: %q", m.Segments)
		}
		for i, id := range m.Segments {
			if !ValidID(id) {
				t.Fatalf("invalid id kept: %q", id)
			}
			if i > 0 && m.Segments[i-1] == id {
				t.Fatalf("duplicate id: %q", id)
			}
			if strings.Contains(m.Header(), ",,") {
				t.Fatalf("empty id in header %q", m.Header())
			}
		}
	})
}
