package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// goldenCase is one file under testdata/golden: a rule file, a cart, a shopper and the
// result Magento prints for them.
type goldenCase struct {
	Description string          `json:"description"`
	Source      string          `json:"source"`
	Rules       json.RawMessage `json:"rules"`
	Cart        json.RawMessage `json:"cart"`
	Segments    []string        `json:"segments"`
	At          string          `json:"at"`
	Expected    json.RawMessage `json:"expected"`
}

func loadGolden(t *testing.T) map[string]goldenCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	out := make(map[string]goldenCase, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var gc goldenCase
		if err := json.Unmarshal(data, &gc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = gc
	}
	return out
}

func TestGolden(t *testing.T) {
	for name, gc := range loadGolden(t) {
		t.Run(name, func(t *testing.T) {
			rs, err := Decode(gc.Rules)
			if err != nil {
				t.Fatalf("rules: %v", err)
			}
			cart, err := DecodeCart(gc.Cart)
			if err != nil {
				t.Fatalf("cart: %v", err)
			}
			at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			if gc.At != "" {
				if at, err = time.Parse(time.RFC3339, gc.At); err != nil {
					t.Fatal(err)
				}
			}
			got, err := json.Marshal(rs.Evaluate(cart, gc.Segments, at))
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, gc.Expected) {
				t.Errorf("%s\nsource: %s\ngot:  %s\nwant: %s", gc.Description, gc.Source, got, compactJSON(t, gc.Expected))
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("invalid JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
