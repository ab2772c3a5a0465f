// Decoding: the strict reading of the rule file with field-path errors for every part of a
// rule, in one file (over 500 lines) so every error is worded the same way.

package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // rule files name IANA zones; do not depend on the host's zoneinfo

	"github.com/govalues/decimal"
)

// Limits on a rule file.
const (
	MaxFileSize = 16 << 20 // bytes
	MaxDepth    = 32       // nesting of JSON arrays and objects
	maxProblems = 1000     // problems listed before the rest are counted
)

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// DecodeError lists every problem found in a rule file, each naming the rule and the field
// path, e.g. `rules[3] "vip-50": action.type: unknown value "by_percnt"`.
type DecodeError struct {
	Problems []string
}

func (e *DecodeError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems:\n%s", len(e.Problems), strings.Join(e.Problems, "\n"))
}

// Option configures a RuleSet.
type Option func(*config)

type config struct {
	cacheSize int
}

// DefaultCacheSize is the default number of distinct segment sets whose candidate rules are
// cached.
const DefaultCacheSize = 4096

// WithCacheSize sets how many distinct segment sets keep their candidate rule list cached
// (default DefaultCacheSize; values below 1 mean the default).
func WithCacheSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.cacheSize = n
		}
	}
}

// LoadFile reads and decodes a rule file. Files over MaxFileSize are refused.
func LoadFile(path string, opts ...Option) (*RuleSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return Decode(data, opts...)
}

// Decode validates a rule file strictly and compiles it. On failure the error is a
// *DecodeError listing every problem.
func Decode(data []byte, opts ...Option) (*RuleSet, error) {
	cfg := config{cacheSize: DefaultCacheSize}
	for _, o := range opts {
		o(&cfg)
	}
	var probs []string
	ck := checker{probs: &probs}
	top, ok := decodeTop(data, ck)
	if !ok {
		return nil, newDecodeError(probs)
	}
	tz := top.tz
	var rules []*rule
	for i, raw := range top.rules {
		if r := parseRule(raw, i, tz, &probs); r != nil {
			rules = append(rules, r)
		}
	}
	var merch []*merchRule
	for i, raw := range top.merch {
		if m := parseMerchRule(raw, i, tz, &probs); m != nil {
			merch = append(merch, m)
		}
	}
	// Rules with problems are kept until here so duplicates among them are reported too.
	checkUnique(rules, &probs)
	checkUniqueMerch(rules, merch, &probs)
	if len(probs) > 0 {
		return nil, newDecodeError(probs)
	}
	rs, err := compile(data, tz, rules, cfg)
	if err != nil {
		return nil, err
	}
	if err := rs.compileMerch(merch, cfg); err != nil {
		return nil, err
	}
	return rs, nil
}

func newDecodeError(probs []string) *DecodeError {
	if len(probs) > maxProblems {
		more := len(probs) - maxProblems
		probs = append(probs[:maxProblems:maxProblems], fmt.Sprintf("… and %d more problems", more))
	}
	return &DecodeError{Problems: probs}
}

// fileTop is a rule file split into its parts.
type fileTop struct {
	tz    *time.Location
	rules []json.RawMessage
	merch []json.RawMessage
}

// decodeTop checks size, depth and syntax and splits the file into its time zone, raw cart
// rules and raw merchandising rules. It reports false when the rules cannot be looked at; an
// unknown time zone or top-level field is reported without stopping there (dates are then
// read in UTC). "rules" may be left out of a file with "merchandising".
func decodeTop(data []byte, ck checker) (fileTop, bool) {
	top := fileTop{tz: time.UTC}
	if len(data) > MaxFileSize {
		ck.errf("", "file is larger than %d MiB", MaxFileSize>>20)
		return top, false
	}
	if err := checkDepth(data, MaxDepth); err != nil {
		ck.errf("", "%v", err)
		return top, false
	}
	if err := checkSyntax(data); err != nil {
		ck.errf("", "%v", err)
		return top, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		ck.errf("", "must be a JSON object with \"rules\"")
		return top, false
	}
	for _, key := range sortedKeys(obj) {
		switch key {
		case "$schema", "rules", "merchandising":
		case "timezone":
			var name string
			if err := json.Unmarshal(obj[key], &name); err != nil {
				ck.errf("timezone", "must be a string")
				continue
			}
			loc, err := loadZone(name)
			if err != nil {
				ck.errf("timezone", "%v", err)
				continue
			}
			top.tz = loc
		default:
			ck.errf(key, "unknown field")
		}
	}
	if s, ok := obj["$schema"]; ok {
		var v string
		if json.Unmarshal(s, &v) != nil {
			ck.errf("$schema", "must be a string")
		}
	}
	rawRules, hasRules := obj["rules"]
	rawMerch, hasMerch := obj["merchandising"]
	if !hasRules && !hasMerch {
		ck.errf("rules", "required")
		return top, false
	}
	ok := true
	if hasRules {
		if err := json.Unmarshal(rawRules, &top.rules); err != nil || top.rules == nil {
			ck.errf("rules", "must be an array")
			ok = false
		}
	}
	if hasMerch {
		if err := json.Unmarshal(rawMerch, &top.merch); err != nil || top.merch == nil {
			ck.errf("merchandising", "must be an array")
			ok = false
		}
	}
	return top, ok
}

func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as \"America/Los_Angeles\")", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as \"America/Los_Angeles\")", name)
	}
	return loc, nil
}

// checkDepth refuses documents nested deeper than max, before anything recursive runs.
func checkDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fmt.Errorf("nested deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// checkSyntax reports a JSON syntax error with its line and column.
func checkSyntax(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return errors.New("invalid JSON: data after the top-level value")
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// checker collects problems under a common prefix (the rule).
type checker struct {
	prefix string
	probs  *[]string
}

func (c checker) errf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	if c.prefix != "" {
		msg = c.prefix + ": " + msg
	}
	*c.probs = append(*c.probs, msg)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

var ruleFields = []string{
	"id", "name", "label", "labels", "active", "from", "to", "priority", "stop_further_rules",
	"audiences", "stores", "websites", "currencies", "conditions", "items", "coupon", "action", "enforce",
}

// ruleObject decodes element i of a rule list (numbers kept exact) and returns it with its id
// and a checker whose problems name the rule: list[i] "id". ok is false, with the problem
// reported, when the element is not an object.
func ruleObject(raw json.RawMessage, list string, i int, probs *[]string) (obj map[string]any, id string, ck checker, ok bool) {
	ck = checker{prefix: fmt.Sprintf("%s[%d]", list, i), probs: probs}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		ck.errf("", "must be an object")
		return nil, "", ck, false
	}
	if id, ok = obj["id"].(string); ok {
		ck.prefix += " " + strconv.Quote(id)
	}
	return obj, id, ck, true
}

// parseRule validates and compiles one rule, reporting every problem. It returns nil only
// when the rule is not an object.
func parseRule(raw json.RawMessage, i int, tz *time.Location, probs *[]string) *rule {
	obj, id, ck, ok := ruleObject(raw, "rules", i, probs)
	if !ok {
		return nil
	}
	r := &rule{pos: i}
	r.ID = id
	for _, key := range sortedKeys(obj) {
		if !slices.Contains(ruleFields, key) {
			ck.errf(key, "unknown field")
		}
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		r.Raw = compact.Bytes()
	}
	r.parseIdentity(obj, ck)
	r.parseSchedule(obj, tz, ck)
	r.parseScope(obj, ck)
	if v, ok := obj["conditions"]; ok {
		if n, ok := parseCond(v, "conditions", scopeCart, ck); ok {
			r.cond = &n
		}
	}
	if v, ok := obj["items"]; ok {
		if n, ok := parseCond(v, "items", scopeItem, ck); ok {
			r.items = &n
		}
	}
	r.parseCoupon(obj, ck)
	r.parseOutcome(obj, ck)
	return r
}

// parseCoupon reads Magento's "Specific coupon": the rule applies only to carts carrying the
// code. An enforced rule keeps its coupon in enforce instead.
func (r *rule) parseCoupon(obj map[string]any, ck checker) {
	v, ok := obj["coupon"]
	if !ok {
		return
	}
	s, ok := v.(string)
	switch {
	case !ok:
		ck.errf("coupon", "must be a string, got %s", jsonType(v))
	case strings.TrimSpace(s) == "":
		ck.errf("coupon", "must not be empty")
	case hasKey(obj, "enforce"):
		ck.errf("coupon", "an enforced rule names its coupon in enforce.coupon")
	default:
		r.Coupon = s
	}
}

func (r *rule) parseIdentity(obj map[string]any, ck checker) {
	switch id, ok := obj["id"]; {
	case !ok:
		ck.errf("id", "required")
	case jsonType(id) != "string":
		ck.errf("id", "must be a string, got %s", jsonType(id))
	case !idPattern.MatchString(r.ID):
		ck.errf("id", "must match %s", idPattern)
	}
	r.Name = optString(obj, "name", ck)
	r.Label = optString(obj, "label", ck)
	if v, ok := obj["labels"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			ck.errf("labels", "must be an object, got %s", jsonType(v))
		}
		for _, store := range sortedKeys(m) {
			s, ok := m[store].(string)
			switch {
			case store == "":
				ck.errf("labels", "store code must not be empty")
			case !ok:
				ck.errf(joinPath("labels", store), "must be a string, got %s", jsonType(m[store]))
			default:
				if r.Labels == nil {
					r.Labels = make(map[string]string, len(m))
				}
				r.Labels[store] = s
			}
		}
	}
	r.Active = true
	if v, ok := obj["active"]; ok {
		b, ok := v.(bool)
		if !ok {
			ck.errf("active", "must be a boolean, got %s", jsonType(v))
		}
		r.Active = b
	}
	if v, ok := obj["priority"]; ok {
		n, ok := v.(json.Number)
		d, err := decimal.Parse(n.String())
		p, _, inRange := d.Int64(0)
		switch {
		case !ok:
			ck.errf("priority", "must be an integer, got %s", jsonType(v))
		case err != nil || !d.IsInt() || !inRange || p < math.MinInt32 || p > math.MaxInt32:
			ck.errf("priority", "must be a 32-bit integer, got %s", n)
		}
		r.Priority = int(p)
	}
	if v, ok := obj["stop_further_rules"]; ok {
		b, ok := v.(bool)
		if !ok {
			ck.errf("stop_further_rules", "must be a boolean, got %s", jsonType(v))
		}
		r.StopFurtherRules = b
	}
}

func hasKey(obj map[string]any, key string) bool {
	_, ok := obj[key]
	return ok
}

func optString(obj map[string]any, key string, ck checker) string {
	v, ok := obj[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		ck.errf(key, "must be a string, got %s", jsonType(v))
	}
	return s
}

func (r *rule) parseSchedule(obj map[string]any, tz *time.Location, ck checker) {
	r.From = optString(obj, "from", ck)
	r.To = optString(obj, "to", ck)
	var err error
	if r.From != "" {
		if r.from, err = parseDate(r.From, tz, false); err != nil {
			ck.errf("from", "%v", err)
		}
	}
	if r.To != "" {
		if r.to, err = parseDate(r.To, tz, true); err != nil {
			ck.errf("to", "%v", err)
		}
	}
	if !r.from.IsZero() && !r.to.IsZero() && !r.from.Before(r.to) {
		ck.errf("to", "%q is before from %q", r.To, r.From)
	}
}

// parseDate reads "2006-01-02" as a whole day in tz, or an RFC 3339 instant. The result is
// the first instant of the period for from, and the first instant after it for to.
func parseDate(s string, tz *time.Location, end bool) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, s, tz); err == nil {
		if end {
			d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, tz)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid date %q (want 2006-01-02 or RFC 3339)", s)
	}
	if end {
		t = t.Add(time.Nanosecond)
	}
	return t, nil
}

func (r *rule) parseScope(obj map[string]any, ck checker) {
	if v, ok := obj["audiences"]; ok {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			ck.errf("audiences", "must be an object with exactly one of any, all, none")
		}
		for _, mode := range sortedKeys(m) {
			ids := m[mode]
			p := joinPath("audiences", mode)
			if mode != "any" && mode != "all" && mode != "none" {
				ck.errf(p, "unknown field")
				continue
			}
			r.Audiences.Mode = mode
			r.Audiences.IDs = stringList(ids, p, idPattern, ck)
			slices.Sort(r.Audiences.IDs)
			r.Audiences.IDs = slices.Compact(r.Audiences.IDs)
		}
	}
	if v, ok := obj["stores"]; ok {
		r.Stores = stringList(v, "stores", nil, ck)
	}
	if v, ok := obj["websites"]; ok {
		r.Websites = stringList(v, "websites", nil, ck)
	}
	if v, ok := obj["currencies"]; ok {
		r.Currencies = stringList(v, "currencies", currencyPattern, ck)
	}
}

// stringList reads a non-empty array of non-empty strings, each matching pattern if given.
func stringList(v any, path string, pattern *regexp.Regexp, ck checker) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		ck.errf(path, "must be a non-empty array of strings")
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		switch {
		case !ok:
			ck.errf(indexPath(path, i), "must be a string, got %s", jsonType(x))
		case s == "":
			ck.errf(indexPath(path, i), "must not be empty")
		case pattern != nil && !pattern.MatchString(s):
			ck.errf(indexPath(path, i), "%q must match %s", s, pattern)
		default:
			out = append(out, s)
		}
	}
	return out
}

var actionFields = []string{"type", "amount", "max_qty", "step", "apply_to_shipping"}

func (r *rule) parseOutcome(obj map[string]any, ck checker) {
	av, hasAction := obj["action"]
	ev, hasEnforce := obj["enforce"]
	switch {
	case hasAction && hasEnforce:
		ck.errf("", "has both action and enforce; an enforced rule has no action")
		return
	case !hasAction && !hasEnforce:
		ck.errf("action", "required (or enforce)")
		return
	case hasEnforce:
		r.parseEnforce(ev, ck)
		return
	}
	m, ok := av.(map[string]any)
	if !ok {
		ck.errf("action", "must be an object, got %s", jsonType(av))
		return
	}
	for _, key := range sortedKeys(m) {
		if !slices.Contains(actionFields, key) {
			ck.errf(joinPath("action", key), "unknown field")
		}
	}
	a := &Action{}
	r.Action = a
	switch t, ok := m["type"]; {
	case !ok:
		ck.errf("action.type", "required")
	case jsonType(t) != "string":
		ck.errf("action.type", "must be a string, got %s", jsonType(t))
	default:
		a.Type = ActionType(t.(string))
		switch a.Type {
		case ByPercent, ByFixed, CartFixed, BuyXGetY:
		default:
			ck.errf("action.type", "unknown value %q", t)
		}
	}
	if _, ok := m["amount"]; !ok {
		ck.errf("action.amount", "required")
	} else {
		a.Amount = actionNumber(m, "amount", maxAmount, ck)
	}
	a.MaxQty = actionNumber(m, "max_qty", maxQty, ck)
	a.Step = actionNumber(m, "step", maxQty, ck)
	if v, ok := m["apply_to_shipping"]; ok {
		b, ok := v.(bool)
		if !ok {
			ck.errf("action.apply_to_shipping", "must be a boolean, got %s", jsonType(v))
		}
		a.ApplyToShipping = b
	}
	if a.Type == ByPercent && a.Amount.Cmp(hundred) > 0 {
		ck.errf("action.amount", "a percentage must be at most 100, got %s", a.Amount)
	}
	if !a.Step.IsInt() {
		ck.errf("action.step", "must be a whole number, got %s", a.Step)
	}
	if a.Type == BuyXGetY && a.Step.IsZero() {
		ck.errf("action.step", "buy_x_get_y needs step (X, the quantity to buy) greater than 0")
	}
}

func actionNumber(m map[string]any, key string, limit decimal.Decimal, ck checker) decimal.Decimal {
	v, ok := m[key]
	if !ok {
		return zero
	}
	n, ok := v.(json.Number)
	if !ok {
		ck.errf(joinPath("action", key), "must be a number, got %s", jsonType(v))
		return zero
	}
	d, err := parseAmount(n.String(), limit)
	if err != nil {
		ck.errf(joinPath("action", key), "%v", err)
	}
	return d
}

func (r *rule) parseEnforce(v any, ck checker) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		ck.errf("enforce", "must be an object with exactly one of coupon, coupons_file")
		return
	}
	e := &Enforce{}
	r.Enforce = e
	for _, key := range sortedKeys(m) {
		val := m[key]
		s, ok := val.(string)
		switch {
		case key != "coupon" && key != "coupons_file":
			ck.errf(joinPath("enforce", key), "unknown field")
		case !ok:
			ck.errf(joinPath("enforce", key), "must be a string, got %s", jsonType(val))
		case strings.TrimSpace(s) == "":
			ck.errf(joinPath("enforce", key), "must not be empty")
		case key == "coupon":
			e.Coupon = s
		default:
			e.CouponsFile = s
		}
	}
}

// checkUnique reports duplicate rule ids and coupon codes used by two rules (case-insensitive,
// as Magento matches codes), whether as a rule's coupon or as its enforce.coupon.
func checkUnique(rules []*rule, probs *[]string) {
	type owner struct {
		r     *rule
		field string
	}
	ids := make(map[string]*rule, len(rules))
	coupons := make(map[string]owner)
	for _, r := range rules {
		ck := checker{prefix: fmt.Sprintf("rules[%d] %q", r.pos, r.ID), probs: probs}
		if first, dup := ids[r.ID]; dup {
			ck.errf("id", "duplicate of rules[%d]", first.pos)
		} else {
			ids[r.ID] = r
		}
		code, field := r.Coupon, "coupon"
		if r.Enforce != nil {
			code, field = r.Enforce.Coupon, "enforce.coupon"
		}
		if code == "" {
			continue
		}
		key := strings.ToLower(code)
		first, dup := coupons[key]
		switch {
		case !dup:
			coupons[key] = owner{r, field}
		case first.field == field:
			ck.errf(field, "%q is already used by rule %q", code, first.r.ID)
		default:
			ck.errf(field, "%q is already used by rule %q as its %s", code, first.r.ID, first.field)
		}
	}
}
