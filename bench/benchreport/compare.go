package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Budgets of issue 6, as ratios measured in the same run.
const (
	budgetPassThroughRPS = 0.97 // B/A requests/s at least
	budgetPassThroughP99 = 0.05 // B/A p99 at most +5%
	budgetRewriteRPS     = 0.85 // C/D requests/s at least
	budgetRewriteCPU     = 1.30 // C/D proxy CPU per request at most (issue 16)
	budgetRSS            = 1.30 // B/A and C/D largest RSS at most
)

// variant is one configuration of the load comparison.
type variant struct{ id, what string }

var variants = []variant{
	{"A", "plain reverse_proxy, product search (no cart)"},
	{"B", "audiences + reverse_proxy, same product search (pass-through)"},
	{"C", "audiences + reverse_proxy, 20-line cart page, 2 rules apply (rewrite)"},
	{"D", "plain reverse_proxy, same cart page response"},
}

// row is one variant's result over all rounds: medians, and the largest RSS.
type row struct {
	rounds              int
	rps, p50, p99, p999 float64
	bytes               float64
	cpuPerReq           float64 // µs of the proxy's CPU per request
	rssKB               int64
	requests, errors    uint64
}

// check is one budget and whether the run met it.
type check struct {
	name, measured, budget string
	pass, info             bool
}

type comparison struct {
	concurrency        int
	warmupS, durationS float64
	rounds             []int
	byRound            map[int]map[string]result
	rows               map[string]row
	checks             []check
	// Per-round ratios: requests/s of the sidecar over plain Caddy, p99 deltas, and the
	// proxy's CPU time per request.
	ratioBA, ratioCD       []float64
	p99DeltaBA, p99DeltaCD []float64
	cpuBA, cpuCD           []float64
	// relBA and relCD are the CPU ratios with each proxy's CPU per request divided by the
	// fixed upstream's in the same window, which cancels how fast the machine ran then.
	relBA, relCD []float64
}

// compare aggregates the A/B/C/D results and checks the budgets.
func compare(results []result) (*comparison, error) {
	c := &comparison{byRound: map[int]map[string]result{}, rows: map[string]row{}}
	for _, r := range results {
		if !slices.ContainsFunc(variants, func(v variant) bool { return v.id == r.Label }) {
			return nil, fmt.Errorf("result with unknown label %q", r.Label)
		}
		if c.byRound[r.Round] == nil {
			c.byRound[r.Round] = map[string]result{}
			c.rounds = append(c.rounds, r.Round)
		}
		if _, dup := c.byRound[r.Round][r.Label]; dup {
			return nil, fmt.Errorf("two results for %s in round %d", r.Label, r.Round)
		}
		c.byRound[r.Round][r.Label] = r
		c.concurrency, c.warmupS, c.durationS = r.Concurrency, r.WarmupS, r.DurationS
	}
	slices.Sort(c.rounds)
	for _, v := range variants {
		var rps, p50, p99, p999, bytes, cpu []float64
		var rw row
		for _, n := range c.rounds {
			r, ok := c.byRound[n][v.id]
			if !ok {
				continue
			}
			rw.rounds++
			rps, p50, p99, p999 = append(rps, r.RPS), append(p50, r.LatencyUS.P50), append(p99, r.LatencyUS.P99), append(p999, r.LatencyUS.P999)
			bytes = append(bytes, r.BytesPerReq)
			rw.requests += r.Requests
			rw.errors += r.Errors
			if r.Process != nil {
				rw.rssKB = max(rw.rssKB, r.Process.MaxKB)
				if r.Process.CPUPerReq > 0 {
					cpu = append(cpu, r.Process.CPUPerReq)
				}
			}
		}
		if rw.rounds == 0 {
			return nil, fmt.Errorf("no result for variant %s", v.id)
		}
		rw.rps, rw.p50, rw.p99, rw.p999, rw.bytes = median(rps), median(p50), median(p99), median(p999), median(bytes)
		rw.cpuPerReq = median(cpu)
		c.rows[v.id] = rw
	}
	c.ratioBA = c.perRound(func(r map[string]result) float64 { return r["B"].RPS / r["A"].RPS }, "A", "B")
	c.ratioCD = c.perRound(func(r map[string]result) float64 { return r["C"].RPS / r["D"].RPS }, "C", "D")
	c.p99DeltaBA = c.perRound(func(r map[string]result) float64 { return r["B"].LatencyUS.P99/r["A"].LatencyUS.P99 - 1 }, "A", "B")
	c.p99DeltaCD = c.perRound(func(r map[string]result) float64 { return r["C"].LatencyUS.P99/r["D"].LatencyUS.P99 - 1 }, "C", "D")
	// A round whose CPU was not sampled (no process, or no time read) has no CPU ratio:
	// NaN leaves it out rather than letting a 0 count as far within budget.
	cpu := func(r result) float64 {
		if r.Process == nil || r.Process.CPUPerReq <= 0 {
			return math.NaN()
		}
		return r.Process.CPUPerReq
	}
	c.cpuBA = c.perRound(func(r map[string]result) float64 { return cpu(r["B"]) / cpu(r["A"]) }, "A", "B")
	c.cpuCD = c.perRound(func(r map[string]result) float64 { return cpu(r["C"]) / cpu(r["D"]) }, "C", "D")
	rel := func(r result) float64 {
		if r.Process == nil || r.Process.RefCPUPerReq <= 0 {
			return math.NaN()
		}
		return cpu(r) / r.Process.RefCPUPerReq
	}
	c.relBA = c.perRound(func(r map[string]result) float64 { return rel(r["B"]) / rel(r["A"]) }, "A", "B")
	c.relCD = c.perRound(func(r map[string]result) float64 { return rel(r["C"]) / rel(r["D"]) }, "C", "D")
	c.addChecks()
	return c, nil
}

// perRound evaluates f in every round where all the labels have a result with requests; a
// ratio that is not finite (nothing measured) is left out.
func (c *comparison) perRound(f func(map[string]result) float64, labels ...string) []float64 {
	var out []float64
	for _, n := range c.rounds {
		r := c.byRound[n]
		complete := true
		for _, l := range labels {
			if res, ok := r[l]; !ok || res.Requests == 0 {
				complete = false
			}
		}
		if v := f(r); complete && !math.IsInf(v, 0) && !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// unstableSpread is how far a variant's requests/s may range across rounds, relative to its
// median, before the report warns that the machine was not quiet.
const unstableSpread = 0.25

// warnings says which variants varied a lot from round to round, and which runs measured
// nothing: signs of other work on the machine, which the ratios cannot fully cancel.
func (c *comparison) warnings() []string {
	var out []string
	for _, v := range variants {
		var rps []float64
		for _, n := range c.rounds {
			r, ok := c.byRound[n][v.id]
			if !ok {
				continue
			}
			if r.Requests == 0 {
				out = append(out, fmt.Sprintf("%s round %d: no request completed in the measured window (a stall); its ratios are left out", v.id, n))
			}
			rps = append(rps, r.RPS)
		}
		med := median(rps)
		if len(rps) < 2 || med == 0 {
			continue
		}
		if spread := (slices.Max(rps) - slices.Min(rps)) / med; spread > unstableSpread {
			out = append(out, fmt.Sprintf("%s: req/s ranged %.0f–%.0f across rounds (%.0f%% of its median): the machine was busy, trust CPU/req more than req/s and latency",
				v.id, slices.Min(rps), slices.Max(rps), 100*spread))
		}
	}
	return out
}

func (c *comparison) addChecks() {
	ba, cd, p99 := median(c.ratioBA), median(c.ratioCD), median(c.p99DeltaBA)
	c.checks = append(c.checks,
		check{name: "pass-through req/s B/A", measured: fmt.Sprintf("%.3f%s", ba, roundsWithin(c.ratioBA, atLeast(budgetPassThroughRPS))),
			budget: fmt.Sprintf("≥ %.2f", budgetPassThroughRPS), pass: ba >= budgetPassThroughRPS},
		check{name: "pass-through p99 B vs A", measured: fmt.Sprintf("%+.1f%%%s", 100*p99, roundsWithin(c.p99DeltaBA, atMost(budgetPassThroughP99))),
			budget: fmt.Sprintf("≤ %+.0f%%", 100*budgetPassThroughP99), pass: p99 <= budgetPassThroughP99},
		check{name: "cart rewrite req/s C/D", measured: fmt.Sprintf("%.3f%s", cd, roundsWithin(c.ratioCD, atLeast(budgetRewriteRPS))),
			budget: fmt.Sprintf("≥ %.2f", budgetRewriteRPS), pass: cd >= budgetRewriteRPS},
		check{name: "cart rewrite p99 C vs D", measured: fmt.Sprintf("%+.1f%%", 100*median(c.p99DeltaCD)),
			budget: "(no budget)", info: true},
		check{name: "proxy CPU per request B/A", measured: fmt.Sprintf("%.2f×", median(c.cpuBA)), budget: "(no budget)", info: true},
		c.cpuCheck(),
	)
	if len(c.relBA) > 0 && len(c.relCD) > 0 {
		c.checks = append(c.checks,
			check{name: "proxy CPU per request over the upstream's, B/A", measured: fmt.Sprintf("%.3f× (rounds %s)", median(c.relBA), ratios(c.relBA)), budget: "(no budget)", info: true},
			check{name: "proxy CPU per request over the upstream's, C/D", measured: fmt.Sprintf("%.3f× (rounds %s)", median(c.relCD), ratios(c.relCD)), budget: "(no budget)", info: true})
	}
	for _, pair := range [][2]string{{"B", "A"}, {"C", "D"}} {
		sidecar, plain := c.rows[pair[0]].rssKB, c.rows[pair[1]].rssKB
		name := fmt.Sprintf("max RSS %s/%s", pair[0], pair[1])
		if sidecar == 0 || plain == 0 {
			c.checks = append(c.checks, check{name: name, measured: "not sampled", budget: fmt.Sprintf("≤ %.1f×", budgetRSS)})
			continue
		}
		ratio := float64(sidecar) / float64(plain)
		c.checks = append(c.checks, check{name: name, measured: fmt.Sprintf("%.2f× (%s vs %s)", ratio, mib(sidecar), mib(plain)),
			budget: fmt.Sprintf("≤ %.1f×", budgetRSS), pass: ratio <= budgetRSS})
	}
	var errs uint64
	for _, r := range c.rows {
		errs += r.errors
	}
	c.checks = append(c.checks, check{name: "errors, all variants", measured: fmt.Sprint(errs), budget: "0", pass: errs == 0})
}

// cpuCheck is the rewrite's CPU budget: the sidecar's CPU per request over plain Caddy's on
// the same answer, the ratio other work on the machine inflates least.
func (c *comparison) cpuCheck() check {
	ch := check{name: "proxy CPU per request C/D", budget: fmt.Sprintf("≤ %.2f×", budgetRewriteCPU)}
	if len(c.cpuCD) == 0 {
		ch.measured = "not sampled"
		return ch
	}
	cd := median(c.cpuCD)
	ch.measured = fmt.Sprintf("%.2f×%s", cd, roundsWithin(c.cpuCD, atMost(budgetRewriteCPU)))
	ch.pass = cd <= budgetRewriteCPU
	return ch
}

// atLeast and atMost are the tests of a budget with a floor or a ceiling.
func atLeast(floor float64) func(float64) bool  { return func(x float64) bool { return x >= floor } }
func atMost(ceiling float64) func(float64) bool { return func(x float64) bool { return x <= ceiling } }

// roundsWithin says in how many rounds a per-round ratio met its budget, so that a verdict
// the median barely makes or misses shows as such: " (k of n rounds)", or "" for one round.
func roundsWithin(perRound []float64, ok func(float64) bool) string {
	if len(perRound) < 2 {
		return ""
	}
	k := 0
	for _, x := range perRound {
		if ok(x) {
			k++
		}
	}
	return fmt.Sprintf(" (%d of %d rounds)", k, len(perRound))
}

func (ch check) verdict() string {
	switch {
	case ch.info:
		return ""
	case ch.pass:
		return "PASS"
	}
	return "MISS"
}

func (c *comparison) writeText(w io.Writer) {
	fmt.Fprintf(w, "Load comparison: %d rounds, %d clients, %gs measured after %gs warm-up per variant and round (medians over rounds)\n\n",
		len(c.rounds), c.concurrency, c.durationS, c.warmupS)
	fmt.Fprintf(w, "%-3s %8s %10s %10s %10s %10s %8s %7s %7s  %s\n", "", "req/s", "p50", "p99", "p99.9", "max RSS", "CPU/req", "errors", "resp B", "what")
	for _, v := range variants {
		r := c.rows[v.id]
		fmt.Fprintf(w, "%-3s %8.0f %10s %10s %10s %10s %6.0fµs %7d %7.0f  %s\n", v.id, r.rps, ms(r.p50), ms(r.p99), ms(r.p999), mib(r.rssKB), r.cpuPerReq, r.errors, r.bytes, v.what)
	}
	fmt.Fprintf(w, "\nper round  B/A req/s %s   B/A p99 %s   C/D req/s %s   CPU/req B/A %s   C/D %s\n\n",
		ratios(c.ratioBA), deltas(c.p99DeltaBA), ratios(c.ratioCD), ratios(c.cpuBA), ratios(c.cpuCD))
	for _, ch := range c.checks {
		fmt.Fprintf(w, "%-26s %-30s budget %-11s %s\n", ch.name, ch.measured, ch.budget, ch.verdict())
	}
	warnLines(w, c.warnings())
}

// warnLines writes each warning on a line of its own, for the text report.
func warnLines(w io.Writer, warns []string) {
	for _, warn := range warns {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func (c *comparison) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### Load comparison\n\n%d rounds, interleaved (scripts/bench.sh runs A B C D in odd rounds, B A D C in even ones); each run: %d keep-alive clients, %g s warm-up (not counted), %g s measured. "+
		"Values are medians over the rounds, and each ratio is the median of the per-round ratios (the two variants of a ratio run next to each other); "+
		"max RSS is the largest sample of the proxy under test; CPU/req is the proxy process's "+
		"CPU time (user + system) per request, which other work on the machine inflates less than req/s, though not by nothing (caches and cores are shared).\n\n",
		len(c.rounds), c.concurrency, c.warmupS, c.durationS)
	rows := c.variantRows(func(v variant, r row) []string {
		return []string{v.id, v.what, fmt.Sprintf("%.0f", r.rps), ms(r.p50), ms(r.p99), ms(r.p999), mib(r.rssKB),
			fmt.Sprintf("%.0f µs", r.cpuPerReq), fmt.Sprint(r.errors), fmt.Sprintf("%.0f", r.bytes)}
	})
	mdTable(w, "| Variant | What | req/s | p50 | p99 | p99.9 | max RSS | CPU/req | errors | response bytes |", "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|", rows)
	rows = nil
	for _, ch := range c.checks {
		rows = append(rows, []string{ch.name, ch.measured, ch.budget, ch.verdict()})
	}
	fmt.Fprintln(w)
	mdTable(w, "| Budget | Measured | Budget | |", "|---|--:|--:|---|", rows)
	fmt.Fprintf(w, "\nPer round: B/A req/s %s; B vs A p99 %s; C/D req/s %s; C vs D p99 %s; CPU/req B/A %s, C/D %s.\n\n",
		ratios(c.ratioBA), deltas(c.p99DeltaBA), ratios(c.ratioCD), deltas(c.p99DeltaCD), ratios(c.cpuBA), ratios(c.cpuCD))
	if warns := c.warnings(); len(warns) > 0 {
		fmt.Fprintln(w, "Warnings:")
		fmt.Fprintln(w)
		for _, warn := range warns {
			fmt.Fprintf(w, "- %s\n", warn)
		}
		fmt.Fprintln(w)
	}
}

// variantRows is one table row per variant, its cells made by cells.
func (c *comparison) variantRows(cells func(v variant, r row) []string) [][]string {
	rows := make([][]string, 0, len(variants))
	for _, v := range variants {
		rows = append(rows, cells(v, c.rows[v.id]))
	}
	return rows
}

// mdTable writes a Markdown table: its header and rule (alignment) lines, then the rows.
func mdTable(w io.Writer, header, rule string, rows [][]string) {
	fmt.Fprintf(w, "%s\n%s\n", header, rule)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

func ms(us float64) string { return fmt.Sprintf("%.2f ms", us/1000) }

func mib(kb int64) string {
	if kb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}

func ratios(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, " ")
}

func deltas(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%+.1f%%", 100*x)
	}
	return strings.Join(parts, " ")
}
