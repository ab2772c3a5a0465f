package main

import (
	"fmt"
	"io"
)

// fixedRate is the A/B/C/D comparison at one paced rate below saturation: every variant
// serves the same requests per second, so each proxy wakes as often per request and the
// upstream does the same work in every window. Per-request CPU is then compared without
// the saturated run's confound (a proxy that serves fewer requests gets less done per
// wake-up), and over the upstream's without its bias either. Informational: the issue's
// budgets are read at saturation.
type fixedRate struct {
	*comparison
	rate float64
	ref  map[string]float64 // median upstream CPU per request, by variant
}

func newFixedRate(results []result) (*fixedRate, error) {
	c, err := compare(results)
	if err != nil {
		return nil, err
	}
	f := &fixedRate{comparison: c, ref: map[string]float64{}}
	for _, r := range results {
		f.rate = max(f.rate, r.Rate)
	}
	for _, v := range variants {
		var refs []float64
		for _, n := range c.rounds {
			if r, ok := c.byRound[n][v.id]; ok && r.Process != nil && r.Process.RefCPUPerReq > 0 {
				refs = append(refs, r.Process.RefCPUPerReq)
			}
		}
		f.ref[v.id] = median(refs)
	}
	return f, nil
}

// ratioRows are the per-request CPU ratios of the fixed-rate runs: name, median, rounds.
func (f *fixedRate) ratioRows() [][]string {
	row := func(name string, xs []float64) []string {
		if len(xs) == 0 {
			return []string{name, "not sampled", ""}
		}
		return []string{name, fmt.Sprintf("%.3f×", median(xs)), ratios(xs)}
	}
	return [][]string{
		row("proxy CPU per request B/A", f.cpuBA),
		row("proxy CPU per request C/D", f.cpuCD),
		row("proxy CPU per request over the upstream's, B/A", f.relBA),
		row("proxy CPU per request over the upstream's, C/D", f.relCD),
	}
}

func (f *fixedRate) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nCPU at a fixed rate: %d rounds at %.0f req/s, %gs measured after %gs warm-up\n", len(f.rounds), f.rate, f.durationS, f.warmupS)
	for _, v := range variants {
		r := f.rows[v.id]
		fmt.Fprintf(w, "%-3s %8.0f req/s  CPU %6.1fµs/req  upstream %6.1fµs/req  errors %d\n", v.id, r.rps, r.cpuPerReq, f.ref[v.id], r.errors)
	}
	for _, r := range f.ratioRows() {
		fmt.Fprintf(w, "%-48s %-8s rounds %s\n", r[0], r[1], r[2])
	}
	warnLines(w, f.shortfalls())
}

func (f *fixedRate) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### CPU per request at a fixed rate\n\n%d rounds, interleaved as above; each run paced at %.0f requests per second "+
		"(`bin/loadgen -rate`), %g s warm-up, %g s measured. Below saturation every variant serves the same rate: each proxy "+
		"wakes as often per request and the fixed upstream does the same work in every window, which is what a store's proxy "+
		"pays at its usual load. No budget is read here (the budgets above are at saturation).\n\n",
		len(f.rounds), f.rate, f.warmupS, f.durationS)
	rows := f.variantRows(func(v variant, r row) []string {
		return []string{v.id, fmt.Sprintf("%.0f", r.rps), fmt.Sprintf("%.1f µs", r.cpuPerReq), fmt.Sprintf("%.1f µs", f.ref[v.id]), fmt.Sprint(r.errors)}
	})
	mdTable(w, "| Variant | req/s | CPU/req | upstream's CPU/req | errors |", "|---|--:|--:|--:|--:|", rows)
	fmt.Fprintln(w)
	mdTable(w, "| Ratio | Median | Rounds |", "|---|--:|---|", f.ratioRows())
	fmt.Fprintln(w)
	if warns := f.shortfalls(); len(warns) > 0 {
		for _, warn := range warns {
			fmt.Fprintf(w, "- Warning: %s\n", warn)
		}
		fmt.Fprintln(w)
	}
}

// shortfalls names the variants that did not keep the rate (within 3 %): their rounds were
// saturated after all, and the comparison loses its point.
func (f *fixedRate) shortfalls() []string {
	if f.rate == 0 {
		return []string{"the results carry no rate: they were not paced"}
	}
	var out []string
	for _, v := range variants {
		if r := f.rows[v.id]; r.rps < 0.97*f.rate {
			out = append(out, fmt.Sprintf("%s served %.0f req/s of the %.0f asked (median): it could not keep the rate", v.id, r.rps, f.rate))
		}
	}
	return out
}
