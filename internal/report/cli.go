package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Validate checks a rule file: a one-line summary on stdout and 0 when it is valid,
// every problem on stderr and 1 otherwise.
func Validate(stdout, stderr io.Writer, path string) int {
	return ValidateWith(stdout, stderr, path, nil)
}

// ValidateWith is Validate that also warns, against an audience catalog (nil for none), of
// rules naming audiences the catalog lacks or flags (deactivated, unpublished, not activated
// to the store's destination).
func ValidateWith(stdout, stderr io.Writer, path string, cat *catalog.Catalog) int {
	if path == "" {
		fmt.Fprintln(stderr, "audiences validate: --rules is required")
		return 1
	}
	rs, ok := loadRules(stderr, path)
	if !ok {
		return 1
	}
	fmt.Fprintln(stdout, summary(path, rs))
	for _, w := range append(GateWarnings(rs), AudienceWarnings(rs, cat)...) {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	return 0
}

// GateWarnings lists enforced rules whose secret code is weak: the gate cuts codes out of
// every response, so a short or word-like code would also cut ordinary text.
func GateWarnings(rs *rules.RuleSet) []string {
	var out []string
	for _, e := range rs.Enforced() {
		if e.Coupon != "" && gate.Weak(e.Coupon) {
			out = append(out, fmt.Sprintf("rule %q: enforce.coupon should be a random code of at least %d letters, digits, - or _", e.RuleID, gate.MinCodeLength))
		}
	}
	return out
}

func summary(path string, rs *rules.RuleSet) string {
	active, enforced := 0, 0
	for _, r := range rs.Rules() {
		if r.Active {
			active++
		}
		if r.Enforce != nil {
			enforced++
		}
	}
	merch := ""
	if ms := rs.Merchandising(); len(ms) > 0 {
		merchActive := 0
		for _, m := range ms {
			if m.Active {
				merchActive++
			}
		}
		merch = fmt.Sprintf(", %d merchandising rules (%d active)", len(ms), merchActive)
	}
	return fmt.Sprintf("%s: valid: %d rules (%d active, %d enforced)%s, %d audiences, time zone %s, version %s",
		path, rs.Len(), active, enforced, merch, len(rs.Audiences()), rs.Timezone(), rs.Version())
}

// loadRules loads a rule file, printing every problem prefixed with the file name.
func loadRules(stderr io.Writer, path string) (*rules.RuleSet, bool) {
	rs, err := rules.LoadFile(path)
	if err == nil {
		return rs, true
	}
	if de := printError(stderr, path, err); de != nil {
		fmt.Fprintf(stderr, "%s: %d problem(s); the rule file is not valid\n", path, len(de.Problems))
	}
	return nil, false
}

// printError prints err prefixed with name, a line per problem of a *rules.DecodeError,
// which it returns (nil for any other error).
func printError(stderr io.Writer, name string, err error) *rules.DecodeError {
	var de *rules.DecodeError
	if !errors.As(err, &de) {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil
	}
	for _, p := range de.Problems {
		fmt.Fprintf(stderr, "%s: %s\n", name, p)
	}
	return de
}

// SimulateOptions are the simulate command's flags.
type SimulateOptions struct {
	Rules    string
	Cart     string // path, or - for stdin
	Segments string // comma-separated
	At       string // RFC 3339 or 2006-01-02; empty means now
	Store    string // overrides the cart's store when set
}

// Simulate evaluates a cart snapshot and prints the result JSON with its trace. When the
// snapshot also carries products (with their related, upsell and crosssell lists) or blocks,
// the result has their merchandising outcome under "merchandising" (see
// rules.DecodeSimulation); without them it is the cart result alone.
func Simulate(stdin io.Reader, stdout, stderr io.Writer, o SimulateOptions) int {
	switch {
	case o.Rules == "":
		fmt.Fprintln(stderr, "audiences simulate: --rules is required")
		return 1
	case o.Cart == "":
		fmt.Fprintln(stderr, "audiences simulate: --cart is required (a file, or - for stdin)")
		return 1
	}
	rs, ok := loadRules(stderr, o.Rules)
	if !ok {
		return 1
	}
	sim, ok := loadSimulation(stdin, stderr, o.Cart)
	if !ok {
		return 1
	}
	if o.Store != "" {
		sim.Cart.Store = o.Store
	}
	at, err := ParseAt(o.At, rs.Timezone())
	if err != nil {
		fmt.Fprintf(stderr, "audiences simulate: --at: %v\n", err)
		return 1
	}
	res := rs.Simulate(sim, ParseSegments(o.Segments), at)
	out, err := IndentJSON(res)
	if err == nil {
		_, err = stdout.Write(out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "audiences simulate: writing the result: %v\n", err)
		return 1
	}
	if res.Error != "" {
		fmt.Fprintf(stderr, "audiences simulate: %s\n", res.Error)
		return 1
	}
	return 0
}

// IndentJSON marshals v as Simulate prints results (and the admin API answers them): two-space
// indent and a final newline.
func IndentJSON(v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func loadSimulation(stdin io.Reader, stderr io.Writer, path string) (*rules.Simulation, bool) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = "cart (stdin)", stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "audiences simulate: reading the cart: %v\n", err)
			return nil, false
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, rules.MaxFileSize+1))
	if err != nil {
		fmt.Fprintf(stderr, "audiences simulate: reading %s: %v\n", name, err)
		return nil, false
	}
	sim, err := rules.DecodeSimulation(data)
	if err != nil {
		printError(stderr, name, err)
		return nil, false
	}
	return sim, true
}
