package phpread

import (
	"strings"
	"testing"
)

// TestParseQuery is a table of query-string spellings with what PHP 8 registers for each
// (php_default_treat_data + php_register_variable_ex).
func TestParseQuery(t *testing.T) {
	tests := []struct {
		raw   string
		name  string
		value string
		array bool
		count int // registrations of name
	}{
		{"query=a", "query", "a", false, 1},
		{"%71uery=a", "query", "a", false, 1},
		{"qu%65ry=a", "query", "a", false, 1},
		{"QUERY=a", "query", "", false, 0}, // array keys are case-sensitive
		{"query=a&query=b", "query", "b", false, 2},
		{"query=a&%71uery=b", "query", "b", false, 2},
		{"+query=a", "query", "a", false, 1},
		{"%20%20query=a", "query", "a", false, 1},
		{"query%00junk=a", "query", "a", false, 1},
		{"que.ry=a", "que_ry", "a", false, 1},
		{"que+ry=a", "que_ry", "a", false, 1},
		{"query[]=a", "query", "a", true, 1},
		{"query[x]=a", "query", "a", true, 1},
		{"query[ ]=a", "query", "a", true, 1},
		{"query%5B%5D=a", "query", "a", true, 1},
		{"query[=a", "query_", "a", false, 1},
		{"query[]=a&query=b", "query", "b", false, 2},
		{"query=b&query[]=a", "query", "a", true, 2},
		{"coupon[code=X", "coupon_code", "X", false, 1},
		{"coupon.code=X", "coupon_code", "X", false, 1},
		{"coupon+code=X", "coupon_code", "X", false, 1},
		{"coupon[co.de=X", "coupon_co_de", "X", false, 1},
		{"a=%zz", "a", "%zz", false, 1},
		{"a=%4", "a", "%4", false, 1},
		{"a=1+2%2B3", "a", "1 2+3", false, 1},
		{"&&query=a&&", "query", "a", false, 1},
		{"query", "query", "", false, 1},
		{"query=a=b", "query", "a=b", false, 1},
		{"=a", "", "", false, 0},
		{"..Host-x=1", "__Host-x", "", false, 0},
		{"__Host-x=1", "__Host-x", "1", false, 1},
		{"query;x=a", "query;x", "a", false, 1}, // ";" is not a separator
	}
	for _, tt := range tests {
		vs := ParseQuery(tt.raw)
		value, array, ok := vs.Lookup(tt.name)
		if got := vs.Count(tt.name); got != tt.count {
			t.Errorf("%q: %d registrations of %q, want %d (%+v)", tt.raw, got, tt.name, tt.count, vs.List)
			continue
		}
		if tt.count == 0 {
			if ok {
				t.Errorf("%q: %q registered", tt.raw, tt.name)
			}
			continue
		}
		if value != tt.value || array != tt.array {
			t.Errorf("%q: %q = %q array %v, want %q array %v", tt.raw, tt.name, value, array, tt.value, tt.array)
		}
	}
}

func TestParseQueryMaxInputVars(t *testing.T) {
	raw := strings.Repeat("a=1&", MaxInputVars) + "query=x"
	vs := ParseQuery(raw)
	if !vs.Dropped {
		t.Fatal("Dropped = false past max_input_vars")
	}
	if _, _, ok := vs.Lookup("query"); ok {
		t.Fatal("a variable past max_input_vars was registered")
	}
	if vs := ParseQuery(strings.Repeat("&", 5000) + "query=x"); vs.Dropped {
		t.Fatal("empty pairs of a query string count towards max_input_vars")
	}
	if vs := ParseForm(strings.Repeat("&", 5000) + "query=x"); !vs.Dropped {
		t.Fatal("empty pairs of a form body must count towards max_input_vars")
	}
}

func TestDecode(t *testing.T) {
	for in, want := range map[string]string{"a+b": "a b", "%41%2b": "A+", "%": "%", "%g1": "%g1", "100%": "100%", "%%41": "%A"} {
		if got := URLDecode(in); got != want {
			t.Errorf("URLDecode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RawURLDecode("a+b%20c"); got != "a+b c" {
		t.Errorf("RawURLDecode = %q", got)
	}
	if got := Trim("\x00 \tCODE\r\n\x0b"); got != "CODE" {
		t.Errorf("Trim = %q", got)
	}
}
