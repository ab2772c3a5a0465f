package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustDecode(t testing.TB, data string, opts ...Option) *RuleSet {
	t.Helper()
	rs, err := Decode([]byte(data), opts...)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return rs
}

func decodeProblems(t *testing.T, data string) []string {
	t.Helper()
	_, err := Decode([]byte(data))
	if err == nil {
		t.Fatalf("Decode accepted %s", data)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error is %T, want *DecodeError", err)
	}
	return de.Problems
}

// rulesFile wraps rule objects into a rule file.
func rulesFile(rules ...string) string {
	return `{"rules": [` + strings.Join(rules, ",") + `]}`
}

func TestDecodeErrorNamesRuleAndPath(t *testing.T) {
	ok := `{"id": "r%d", "action": {"type": "by_percent", "amount": 10}}`
	file := rulesFile(fmt.Sprintf(ok, 0), fmt.Sprintf(ok, 1), fmt.Sprintf(ok, 2),
		`{"id": "vip-50", "action": {"type": "by_percnt", "amount": 50}}`)
	got := decodeProblems(t, file)
	want := []string{`rules[3] "vip-50": action.type: unknown value "by_percnt"`}
	if !slices.Equal(got, want) {
		t.Fatalf("problems = %q, want %q", got, want)
	}
}

func TestDecodeReportsEveryProblem(t *testing.T) {
	file := `{"timezone": "Mars/Olympus", "rules": [
	  {"id": "a", "priority": 1.5, "action": {"type": "by_percent", "amount": 120}},
	  {"id": "b", "from": "2026-02-30", "to": "tomorrow", "action": {"type": "by_fixed", "amount": -1}},
	  {"id": "c", "action": {"type": "buy_x_get_y", "amount": 1}},
	  {"id": "a", "colour": "red", "action": {"type": "cart_fixed", "amount": 5, "maxqty": 1}},
	  {"id": "d", "conditions": {"field": "subtotal", "op": "=~", "value": 1}, "action": {"type": "by_percent", "amount": 1}},
	  {"id": "e", "conditions": {"field": "sku", "op": "==", "value": "x"}, "items": {"field": "subtotal", "op": ">", "value": 1}, "action": {"type": "by_percent", "amount": 1}},
	  {"id": "f", "enforce": {"coupon": "SECRET"}, "action": {"type": "by_percent", "amount": 1}},
	  {"id": "g"},
	  {"id": "h", "enforce": {"coupon": "vip"}},
	  {"id": "i", "enforce": {"coupon": "VIP"}},
	  {"id": "j", "audiences": {"any": []}, "stores": [], "currencies": ["usd"], "action": {"type": "by_percent", "amount": 1}},
	  {"id": "k", "from": "2026-05-02", "to": "2026-05-01", "action": {"type": "by_percent", "amount": 1}},
	  {"id": "bad id!", "action": {"type": "by_percent", "amount": 1, "step": 1.5}},
	  "not an object"
	], "extra": true}`
	got := decodeProblems(t, file)
	want := []string{
		`extra: unknown field`,
		`timezone: unknown time zone "Mars/Olympus" (use an IANA name such as "America/Los_Angeles")`,
		`rules[0] "a": priority: must be a 32-bit integer, got 1.5`,
		`rules[0] "a": action.amount: a percentage must be at most 100, got 120`,
		`rules[1] "b": from: invalid date "2026-02-30" (want 2006-01-02 or RFC 3339)`,
		`rules[1] "b": to: invalid date "tomorrow" (want 2006-01-02 or RFC 3339)`,
		`rules[1] "b": action.amount: must not be negative, got -1`,
		`rules[2] "c": action.step: buy_x_get_y needs step (X, the quantity to buy) greater than 0`,
		`rules[3] "a": colour: unknown field`,
		`rules[3] "a": action.maxqty: unknown field`,
		`rules[4] "d": conditions.op: unknown operator "=~"`,
		`rules[5] "e": conditions.field: "sku" is an item field; use found, not_found or subselect`,
		`rules[5] "e": items.field: "subtotal" is a cart field, not an item field`,
		`rules[6] "f": has both action and enforce; an enforced rule has no action`,
		`rules[7] "g": action: required (or enforce)`,
		`rules[10] "j": audiences.any: must be a non-empty array of strings`,
		`rules[10] "j": stores: must be a non-empty array of strings`,
		`rules[10] "j": currencies[0]: "usd" must match ^[A-Z]{3}$`,
		`rules[11] "k": to: "2026-05-01" is before from "2026-05-02"`,
		`rules[12] "bad id!": id: must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`,
		`rules[12] "bad id!": action.step: must be a whole number, got 1.5`,
		`rules[13]: must be an object`,
		`rules[3] "a": id: duplicate of rules[0]`,
		`rules[9] "i": enforce.coupon: "VIP" is already used by rule "h"`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if _, err := Decode([]byte(file)); !strings.HasPrefix(err.Error(), fmt.Sprintf("%d problems:\n", len(want))) {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestDecodeConditionErrors(t *testing.T) {
	tests := []struct {
		cond string
		want string
	}{
		{`{"field": "sku"}`, `items.op: required`},
		{`{"field": "sku", "op": "=="}`, `items.value: required`},
		{`{"field": "skuu", "op": "==", "value": "x"}`, `items.field: unknown value "skuu"`},
		{`{"field": "qty", "op": "contains", "value": 1}`, `items.op: operator "contains" does not apply to number field "qty"`},
		{`{"field": "sku", "op": ">", "value": "a"}`, `items.op: operator ">" does not apply to text field "sku"`},
		{`{"field": "sku", "op": "in", "value": "a"}`, `items.value: operator "in" needs a non-empty array`},
		{`{"field": "qty", "op": "in", "value": [1, "2"]}`, `items.value[1]: must be a number, got string`},
		{`{"field": "qty", "op": "==", "value": "2"}`, `items.value: must be a number, got string`},
		{`{"field": "sku", "op": "matches", "value": ""}`, `items.value: pattern must not be empty`},
		{`{"field": "sku", "op": "==", "value": "a", "x": 1}`, `items.x: unknown field`},
		{`{"all": [{"any": 1}]}`, `items.all[0].any: must be an array, got number`},
		{`{"found": {"field": "sku", "op": "==", "value": "a"}}`, `items.found: not allowed in an item condition`},
		{`{"all": [], "any": []}`, `items: must have exactly one of all, any, not, or field, op and value`},
		{`[]`, `items: must be an object, got array`},
	}
	for _, tt := range tests {
		rule := `{"id": "r", "items": ` + tt.cond + `, "action": {"type": "by_percent", "amount": 1}}`
		got := decodeProblems(t, rulesFile(rule))
		if want := `rules[0] "r": ` + tt.want; !slices.Contains(got, want) {
			t.Errorf("%s: problems %q, want %q", tt.cond, got, want)
		}
	}
	cart := []struct {
		cond string
		want string
	}{
		{`{"subselect": {"field": "price", "op": ">", "value": 1}}`, `conditions.subselect.field: unknown value "price" (want qty or row_total)`},
		{`{"subselect": {"field": "qty", "op": "matches", "value": "1"}}`, `conditions.subselect.op: operator "matches" does not apply to number field "qty"`},
		{`{"not_found": {"field": "subtotal", "op": ">", "value": 1}}`, `conditions.not_found.field: "subtotal" is a cart field, not an item field`},
		{`{"foo": {}}`, `conditions.foo: unknown field`},
	}
	for _, tt := range cart {
		rule := `{"id": "r", "conditions": ` + tt.cond + `, "action": {"type": "by_percent", "amount": 1}}`
		got := decodeProblems(t, rulesFile(rule))
		if want := `rules[0] "r": ` + tt.want; !slices.Contains(got, want) {
			t.Errorf("%s: problems %q, want %q", tt.cond, got, want)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := `{"rules": [{"id": "r", "conditions": ` + strings.Repeat(`{"not": `, 30) + `{"field": "subtotal", "op": ">", "value": 1}` + strings.Repeat(`}`, 30) + `, "action": {"type": "by_percent", "amount": 1}}]}`
	if got := decodeProblems(t, deep); !slices.Equal(got, []string{"nested deeper than 32 levels"}) {
		t.Errorf("deep: %q", got)
	}
	big := make([]byte, MaxFileSize+1)
	if _, err := Decode(big); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("big: %v", err)
	}
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, append([]byte(`{"rules": []}`), big...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("big file: %v", err)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"rules": {}}`, `{"rules": null}`, `{}`, `{"rules": []} x`, `{"rules": [], "timezone": 1}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
	if got := decodeProblems(t, "{\n  \"rules\": [\n    {\"id\": \"a\",}\n  ]\n}"); !strings.HasPrefix(got[0], "invalid JSON at line 3, column") {
		t.Errorf("syntax error: %q", got)
	}
}

func TestDecodeAcceptsAndLists(t *testing.T) {
	rs := mustDecode(t, `{"$schema": "./rules.schema.json", "timezone": "America/Los_Angeles", "rules": [
	  {"id": "b", "priority": 2, "audiences": {"any": ["s2", "s1", "s1"]}, "action": {"type": "by_percent", "amount": 10}},
	  {"id": "a", "priority": 2, "audiences": {"all": ["s1", "s3"]}, "labels": {"fr": "Remise"}, "action": {"type": "by_fixed", "amount": 1.25, "max_qty": 2.5}},
	  {"id": "c", "priority": 1e0, "enforce": {"coupon": "VIP-SECRET"}, "audiences": {"none": ["s9"]}},
	  {"id": "d", "priority": -5, "enforce": {"coupons_file": "coupons.txt"}}
	]}`)
	if rs.Len() != 4 {
		t.Fatalf("Len = %d", rs.Len())
	}
	var ids []string
	for _, r := range rs.Rules() {
		ids = append(ids, r.ID)
	}
	if want := []string{"d", "c", "a", "b"}; !slices.Equal(ids, want) {
		t.Errorf("order = %q, want %q", ids, want)
	}
	rules := rs.Rules()
	rules[2].Labels["fr"] = "changed"
	if rs.Rules()[2].Labels["fr"] != "Remise" {
		t.Error("Rules() exposes internal state")
	}
	if got := rules[3].Audiences.IDs; !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("audience ids = %q", got)
	}
	aud := rs.Audiences()
	if !slices.Equal(aud["s1"], []string{"a", "b"}) || !slices.Equal(aud["s9"], []string{"c"}) {
		t.Errorf("Audiences = %v", aud)
	}
	if got := rs.Enforced(); len(got) != 2 || got[1] != (EnforcedRule{RuleID: "c", Coupon: "VIP-SECRET"}) || got[0].CouponsFile != "coupons.txt" {
		t.Errorf("Enforced = %+v", got)
	}
	if rs.Timezone().String() != "America/Los_Angeles" {
		t.Errorf("Timezone = %v", rs.Timezone())
	}
	if len(rs.Version()) != 16 || rs.Version() == mustDecode(t, `{"rules": []}`).Version() {
		t.Errorf("Version = %q", rs.Version())
	}
	raw, _ := rules[0].MarshalJSON()
	if string(raw) != `{"id": "d", "priority": -5, "enforce": {"coupons_file": "coupons.txt"}}` && !strings.Contains(string(raw), `"coupons_file":"coupons.txt"`) {
		t.Errorf("raw = %s", raw)
	}
}

func TestDecodeDates(t *testing.T) {
	rs := mustDecode(t, `{"timezone": "America/Los_Angeles", "rules": [
	  {"id": "day", "from": "2026-11-27", "to": "2026-11-27", "action": {"type": "by_percent", "amount": 10}},
	  {"id": "instant", "from": "2026-11-27T09:00:00-08:00", "to": "2026-11-27T10:00:00-08:00", "action": {"type": "by_percent", "amount": 10}}
	]}`)
	la, _ := time.LoadLocation("America/Los_Angeles")
	day, instant := rs.rules[0], rs.rules[1]
	if !day.from.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, la)) || !day.to.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, la)) {
		t.Errorf("day: %v – %v", day.from, day.to)
	}
	if !instant.from.Equal(time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)) || !instant.to.Equal(time.Date(2026, 11, 27, 18, 0, 0, 1, time.UTC)) {
		t.Errorf("instant: %v – %v", instant.from, instant.to)
	}
}

func TestLoadFile(t *testing.T) {
	rs, err := LoadFile(filepath.Join("..", "examples", "rules.json"), WithCacheSize(16))
	if err != nil {
		t.Fatalf("examples/rules.json: %v", err)
	}
	if rs.Len() < 4 {
		t.Errorf("examples/rules.json has %d rules", rs.Len())
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}
