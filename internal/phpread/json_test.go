package phpread

import (
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		in string
		ok bool
	}{
		{`{"query":"{a}"}`, true},
		{`{"a":"\ud83d\ude00"}`, true},
		{`{"a":"\u00e9\\ud800"}`, true}, // an escaped backslash, not an escape
		{`{"a":"\ud800"}`, false},
		{`{"a":"\ud800x"}`, false},
		{`{"a":"\udc00\ud800"}`, false},
		{`{"a":"\ud800\u0041"}`, false},
		{"{\"a\":\"\xff\"}", false},
		{deep(MaxJSONDepth), true},
		{deep(MaxJSONDepth + 1), false},
		{`{"a":"[[[[["}`, true},
	}
	for _, tt := range tests {
		if err := CheckJSON([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("CheckJSON(%.40q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
