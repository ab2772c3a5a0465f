package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "audiences",
		Usage: "validate|simulate [flags]",
		Short: "Checks audience rule files and simulates carts against them",
		Long: `
Tools for merchandisers to check a promotion before it goes live.

  caddy audiences validate --rules rules.json
      Checks a rule file. Prints a one-line summary and exits 0 when it is
      valid; prints every problem on stderr and exits 1 otherwise.

  caddy audiences simulate --rules rules.json --cart cart.json
      [--segments ID,ID] [--at 2026-11-27T09:00:00-08:00] [--store default]
      Evaluates a cart snapshot for a shopper in the given audience segments and
      prints the discounts with a trace of every rule. --cart - reads stdin.
`,
		CobraFunc: buildAudiencesCommand,
	})
}

// errExit makes cobra exit with status 1 after the command printed its own message.
var errExit = errors.New("exit status 1")

// buildAudiencesCommand adds the validate and simulate subcommands to cmd.
func buildAudiencesCommand(cmd *cobra.Command) {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }

	validate := &cobra.Command{
		Use:   "validate --rules <file>",
		Short: "Checks a rule file and lists every problem",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			path, _ := c.Flags().GetString("rules")
			return exitCode(c, runValidate(c.OutOrStdout(), c.ErrOrStderr(), path))
		},
	}
	validate.Flags().StringP("rules", "r", "", "Rule file to check (required)")
	cmd.AddCommand(validate)

	simulate := &cobra.Command{
		Use:   "simulate --rules <file> --cart <file|-> [--segments <id,id>] [--at <time>] [--store <code>]",
		Short: "Evaluates a cart snapshot and explains every rule",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var o simulateOptions
			o.rules, _ = c.Flags().GetString("rules")
			o.cart, _ = c.Flags().GetString("cart")
			o.segments, _ = c.Flags().GetString("segments")
			o.at, _ = c.Flags().GetString("at")
			o.store, _ = c.Flags().GetString("store")
			return exitCode(c, runSimulate(c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr(), o))
		},
	}
	simulate.Flags().StringP("rules", "r", "", "Rule file (required)")
	simulate.Flags().StringP("cart", "c", "", "Cart snapshot JSON file, or - for stdin (required)")
	simulate.Flags().StringP("segments", "s", "", "Comma-separated audience segment ids of the shopper")
	simulate.Flags().String("at", "", "Time to evaluate at: RFC 3339, or a date (midnight in the rule file's time zone); default now")
	simulate.Flags().String("store", "", "Store-view code; overrides the cart's store")
	cmd.AddCommand(simulate)
}

// exitCode turns a status into what cobra needs: nil for 0, a silent error otherwise (the
// message was already printed).
func exitCode(c *cobra.Command, code int) error {
	if code == 0 {
		return nil
	}
	c.SilenceErrors = true
	c.SilenceUsage = true
	return errExit
}

// runValidate checks a rule file: a one-line summary on stdout and 0 when it is valid,
// every problem on stderr and 1 otherwise.
func runValidate(stdout, stderr io.Writer, path string) int {
	if path == "" {
		fmt.Fprintln(stderr, "audiences validate: --rules is required")
		return 1
	}
	rs, ok := loadRules(stderr, path)
	if !ok {
		return 1
	}
	fmt.Fprintln(stdout, summary(path, rs))
	for _, w := range gateWarnings(rs) {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	return 0
}

// gateWarnings lists enforced rules whose secret code is weak: the gate cuts codes out of
// every response, so a short or word-like code would also cut ordinary text.
func gateWarnings(rs *rules.RuleSet) []string {
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
	return fmt.Sprintf("%s: valid: %d rules (%d active, %d enforced), %d audiences, time zone %s, version %s",
		path, rs.Len(), active, enforced, len(rs.Audiences()), rs.Timezone(), rs.Version())
}

// loadRules loads a rule file, printing every problem prefixed with the file name.
func loadRules(stderr io.Writer, path string) (*rules.RuleSet, bool) {
	rs, err := rules.LoadFile(path)
	if err == nil {
		return rs, true
	}
	var de *rules.DecodeError
	if errors.As(err, &de) {
		for _, p := range de.Problems {
			fmt.Fprintf(stderr, "%s: %s\n", path, p)
		}
		fmt.Fprintf(stderr, "%s: %d problem(s); the rule file is not valid\n", path, len(de.Problems))
		return nil, false
	}
	fmt.Fprintf(stderr, "%s: %v\n", path, err)
	return nil, false
}

type simulateOptions struct {
	rules    string
	cart     string // path, or - for stdin
	segments string // comma-separated
	at       string // RFC 3339 or 2006-01-02; empty means now
	store    string // overrides the cart's store when set
}

// runSimulate evaluates a cart snapshot and prints the result JSON with its trace.
func runSimulate(stdin io.Reader, stdout, stderr io.Writer, o simulateOptions) int {
	switch {
	case o.rules == "":
		fmt.Fprintln(stderr, "audiences simulate: --rules is required")
		return 1
	case o.cart == "":
		fmt.Fprintln(stderr, "audiences simulate: --cart is required (a file, or - for stdin)")
		return 1
	}
	rs, ok := loadRules(stderr, o.rules)
	if !ok {
		return 1
	}
	cart, ok := loadCart(stdin, stderr, o.cart)
	if !ok {
		return 1
	}
	if o.store != "" {
		cart.Store = o.store
	}
	at, err := parseAt(o.at, rs.Timezone())
	if err != nil {
		fmt.Fprintf(stderr, "audiences simulate: --at: %v\n", err)
		return 1
	}
	res := rs.Evaluate(cart, parseSegments(o.segments), at)
	out, err := json.Marshal(res)
	if err == nil {
		var buf bytes.Buffer
		if err = json.Indent(&buf, out, "", "  "); err == nil {
			buf.WriteByte('\n')
			_, err = stdout.Write(buf.Bytes())
		}
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

func loadCart(stdin io.Reader, stderr io.Writer, path string) (*rules.Cart, bool) {
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
	cart, err := rules.DecodeCart(data)
	if err == nil {
		return cart, true
	}
	var de *rules.DecodeError
	if errors.As(err, &de) {
		for _, p := range de.Problems {
			fmt.Fprintf(stderr, "%s: %s\n", name, p)
		}
	} else {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	return nil, false
}

// parseAt reads --at: an RFC 3339 instant, or a date meaning its midnight in tz.
func parseAt(s string, tz *time.Location) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, tz); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-27T09:00:00-08:00) nor a date (2026-11-27)", s)
}

// parseSegments splits a comma-separated list into a sorted, de-duplicated segment set.
func parseSegments(s string) []string {
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
