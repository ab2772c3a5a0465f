package main

import (
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/bench"
)

func res(label string, round int, rps, p99 float64, rssKB int64) result {
	r := result{Label: label, Round: round, RPS: rps, Requests: uint64(rps), Concurrency: 32, DurationS: 10, WarmupS: 2}
	r.LatencyUS.P50, r.LatencyUS.P99, r.LatencyUS.P999 = p99/3, p99, p99*1.5
	if rssKB > 0 {
		r.Process = &processStats{MaxKB: rssKB, CPUPerReq: 1e6 / rps}
	}
	return r
}

func TestCompareBudgets(t *testing.T) {
	var results []result
	// Round 2 runs on a slower machine: the per-round ratios stay the same.
	for round, scale := range map[int]float64{1: 1, 2: 0.5, 3: 1} {
		results = append(results,
			res("A", round, 10000*scale, 1000/scale, 60_000),
			res("B", round, 9800*scale, 1040/scale, 62_000),
			res("C", round, 6000*scale, 2000/scale, 90_000),
			res("D", round, 8000*scale, 1500/scale, 61_000),
		)
	}
	c := wantChecks(t, results, map[string]string{
		"pass-through req/s B/A":    "0.980 (3 of 3 rounds) PASS",
		"pass-through p99 B vs A":   "+4.0% (3 of 3 rounds) PASS",
		"cart rewrite req/s C/D":    "0.750 (0 of 3 rounds) MISS",
		"max RSS B/A":               "1.03× (60.5 MiB vs 58.6 MiB) PASS",
		"max RSS C/D":               "1.48× (87.9 MiB vs 59.6 MiB) MISS",
		"errors, all variants":      "0 PASS",
		"proxy CPU per request B/A": "1.02× ",
		"proxy CPU per request C/D": "1.33× (0 of 3 rounds) MISS",
	})
	if r := c.rows["A"]; r.rps != 10000 || r.rounds != 3 {
		t.Errorf("A median req/s %v over %d rounds, want 10000 over 3", r.rps, r.rounds)
	}
	var md strings.Builder
	c.writeMarkdown(&md)
	if !strings.Contains(md.String(), "| C | audiences + reverse_proxy, 20-line cart page") {
		t.Errorf("markdown:\n%s", md.String())
	}
}

func TestCompareStallAndNoise(t *testing.T) {
	var results []result
	for round := 1; round <= 3; round++ {
		a, d := res("A", round, 10000, 1000, 60_000), res("D", round, 8000, 1500, 61_000)
		switch round {
		case 2:
			a = res("A", round, 5000, 1000, 60_000) // someone else's build ran meanwhile
		case 3:
			d = res("D", round, 0, 0, 61_000) // a stall
		}
		results = append(results, a, res("B", round, 9800, 1040, 62_000), res("C", round, 6000, 2000, 70_000), d)
	}
	c, err := compare(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ratioCD) != 2 || c.ratioCD[0] != 0.75 {
		t.Errorf("C/D per round %v: the stalled round must be left out", c.ratioCD)
	}
	warns := strings.Join(c.warnings(), "\n")
	for _, want := range []string{"D round 3: no request completed", "A: req/s ranged 5000–10000"} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings lack %q:\n%s", want, warns)
		}
	}
	if strings.Contains(warns, "B:") || strings.Contains(warns, "C:") {
		t.Errorf("steady variants warned about:\n%s", warns)
	}
}

func TestCompareRejects(t *testing.T) {
	if _, err := compare([]result{res("A", 1, 1, 1, 0), res("A", 1, 1, 1, 0)}); err == nil {
		t.Error("duplicate results accepted")
	}
	if _, err := compare([]result{res("E", 1, 1, 1, 0)}); err == nil {
		t.Error("unknown variant accepted")
	}
	if _, err := compare([]result{res("A", 1, 1, 1, 0)}); err == nil {
		t.Error("missing variants accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/caddy-audiences/caddy-audiences/internal/cartql
cpu: Intel(R) Xeon(R) Processor
BenchmarkServe-2                   	     100	     40590 ns/op	 446.93 MB/s	   19048 B/op	       9 allocs/op
BenchmarkPlan/cached-2 	     100	        81.40 ns/op	       0 B/op	       0 allocs/op
--- FAIL: BenchmarkBroken
pkg: github.com/caddy-audiences/caddy-audiences/rules
BenchmarkEvaluate/rules=1000/items=20/cache=warm-2      	     100	     64252 ns/op	   14850 B/op	       4 allocs/op
BenchmarkEvaluate/rules=1000/items=1/cache=warm-2       	     100	      2315 ns/op	     752 B/op	       4 allocs/op
ok  	github.com/caddy-audiences/caddy-audiences/rules	3.982s
`
	benches, err := parseGoBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(benches) != 4 {
		t.Fatalf("parsed %d benchmarks, want 4: %+v", len(benches), benches)
	}
	if b := benches[0]; b.pkg != "internal/cartql" || b.name != "BenchmarkServe" || b.nsPerOp != 40590 || b.allocsPerOp != 9 || b.bytesPerOp != 19048 {
		t.Errorf("first benchmark %+v", b)
	}
	got := map[string]string{}
	for _, ch := range budgetChecks(benches) {
		got[ch.name] = ch.measured + " " + ch.verdict()
	}
	want := map[string]string{
		"cached plan + evaluate + rewrite, 20-line cart": "40.6 µs, 9 allocs PASS",
		"1,000 rules, warm candidate cache, 20 items":    "64.3 µs MISS",
		"1,000 rules, warm candidate cache, 1 item":      "2.3 µs PASS",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func TestSoakGrowth(t *testing.T) {
	soak := func(kbs ...int64) *soakReport {
		r := res("C", 1, 1000, 1000, 0)
		r.DurationS = float64(10 * (len(kbs) - 1))
		r.Process = &processStats{FirstKB: kbs[0], LastKB: kbs[len(kbs)-1]}
		for i, kb := range kbs {
			r.Process.Samples = append(r.Process.Samples, rssSample{At: float64(10 * i), KB: kb})
			r.Process.MaxKB = max(r.Process.MaxKB, kb)
		}
		s, err := analyseSoak(r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := soak(50_000, 70_000, 72_000, 71_000, 72_500, 72_000, 73_000); s.growing || s.tooFew {
		t.Errorf("a plateau after warm-up reported as growing: %+v", s)
	}
	if s := soak(50_000, 60_000, 70_000, 80_000, 90_000, 100_000, 110_000); !s.growing || s.slopeMiBPerMin <= 0 {
		t.Errorf("steady growth not reported: %+v", s)
	}
	if s := soak(50_000, 60_000); !s.tooFew {
		t.Errorf("two samples must be too few: %+v", s)
	}
	s := soak(50_000, 90_000, 91_000, 90_500)
	s.addPlain(res("D", 1, 1000, 1000, 60_000))
	if got := s.rssCheck.measured + " " + s.rssCheck.verdict(); got != "1.52× (88.9 MiB vs 58.6 MiB) MISS" {
		t.Errorf("soak RSS check: %s", got)
	}
	s.addPlain(res("D", 1, 1000, 1000, 0))
	var text strings.Builder
	s.writeText(&text)
	if s.rssCheck.verdict() != "MISS" || !strings.Contains(text.String(), "not sampled") {
		t.Errorf("soak without plain RSS: %s", text.String())
	}
}

func TestAugmentReport(t *testing.T) {
	rows := []bench.AugmentRow{
		{Operation: "cartPage", ClientBytes: 2000, HiddenOnly: bench.AugmentNumbers{Bytes: 324, Fields: 27, Duplicates: 5}, Default: bench.AugmentNumbers{Bytes: 21, Fields: 1, Duplicates: 0}},
		{Operation: "summary", ClientBytes: 300, HiddenOnly: bench.AugmentNumbers{Bytes: 324, Fields: 27, Duplicates: 1}, Default: bench.AugmentNumbers{Bytes: 313, Fields: 26, Duplicates: 0}},
	}
	var md, text strings.Builder
	writeAugmentMarkdown(&md, rows)
	writeAugmentText(&text, rows)
	for _, want := range []string{"| cartPage | 2000 B | 324 | 27 | 5 | 21 | 1 | 0 |", "| **total** | | 648 | 54 | 6 | 334 | 27 | 0 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if !strings.Contains(text.String(), "cartPage") {
		t.Errorf("text:\n%s", text.String())
	}
}

func TestRoundsWithin(t *testing.T) {
	within := atMost(1.3)
	for _, tc := range []struct {
		ratios []float64
		want   string
	}{
		{[]float64{1.2, 1.35, 1.28, 1.31}, " (2 of 4 rounds)"},
		{[]float64{1.4, 1.5}, " (0 of 2 rounds)"},
		{[]float64{1.2}, ""},
		{nil, ""},
	} {
		if got := roundsWithin(tc.ratios, within); got != tc.want {
			t.Errorf("roundsWithin(%v) = %q, want %q", tc.ratios, got, tc.want)
		}
	}
}

// TestCompareUnsampledCPU: a round whose CPU time was not read has no CPU ratio; it neither
// counts as within budget nor pulls the median down.
func TestCompareUnsampledCPU(t *testing.T) {
	var results []result
	for round := 1; round <= 3; round++ {
		c := res("C", round, 6000, 2000, 90_000)
		if round == 2 {
			c.Process.CPUPerReq = 0
		}
		results = append(results, res("A", round, 10000, 1000, 60_000), res("B", round, 9800, 1040, 62_000), c, res("D", round, 8000, 1500, 61_000))
	}
	c, err := compare(results)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.cpuCheck().measured; got != "1.33× (0 of 2 rounds)" {
		t.Errorf("C/D CPU %q, want 1.33× over the two sampled rounds", got)
	}
	if got := c.rows["C"].cpuPerReq; math.Abs(got-1e6/6000) > 1e-9 {
		t.Errorf("C's median CPU/req %v, want %v", got, 1e6/6000)
	}
}

// TestCPUOverUpstream: a round where the machine ran slower for B than for A (the upstream,
// doing the same work, spent 20 % more CPU a request) shows B 20 % dearer in raw CPU and
// equal relative to the upstream; without the upstream's CPU the rows are left out.
func TestCPUOverUpstream(t *testing.T) {
	var results []result
	for round := 1; round <= 3; round++ {
		for _, v := range []struct {
			label    string
			cpu, ref float64
		}{{"A", 100, 50}, {"B", 120, 60}, {"C", 260, 50}, {"D", 200, 50}} {
			r := res(v.label, round, 5000, 1000, 60_000)
			r.Process.CPUPerReq, r.Process.RefCPUPerReq = v.cpu, v.ref
			results = append(results, r)
		}
	}
	wantChecks(t, results, map[string]string{
		"proxy CPU per request B/A":                      "1.20× ",
		"proxy CPU per request over the upstream's, B/A": "1.000× (rounds 1.000 1.000 1.000) ",
		"proxy CPU per request over the upstream's, C/D": "1.300× (rounds 1.300 1.300 1.300) ",
	})
	for i := range results {
		results[i].Process.RefCPUPerReq = 0
	}
	for _, ch := range wantChecks(t, results, nil).checks {
		if strings.Contains(ch.name, "upstream") {
			t.Errorf("%s reported without the upstream's CPU", ch.name)
		}
	}
}

// wantChecks compares results and fails unless the comparison has every check named in
// want, each measuring and judged as want says ("measured verdict").
func wantChecks(t *testing.T, results []result, want map[string]string) *comparison {
	t.Helper()
	c, err := compare(results)
	if err != nil {
		t.Fatal(err)
	}
	missing := maps.Clone(want)
	for _, ch := range c.checks {
		w, ok := want[ch.name]
		if !ok {
			continue
		}
		if got := ch.measured + " " + ch.verdict(); got != w {
			t.Errorf("%s: %s, want %s", ch.name, got, w)
		}
		delete(missing, ch.name)
	}
	if len(missing) > 0 {
		t.Errorf("checks missing: %v", missing)
	}
	return c
}

// TestFixedRate: the fixed-rate section gives each variant's CPU and the upstream's, the
// ratios raw and over the upstream's per round, and warns about a variant that did not keep
// the rate.
func TestFixedRate(t *testing.T) {
	var results []result
	for round := 1; round <= 3; round++ {
		slow := float64(round) // the machine slows down round by round: raw CPU moves, ratios do not
		for _, v := range []struct {
			label    string
			rps      float64
			cpu, ref float64
		}{{"A", 2000, 100, 50}, {"B", 2000, 102, 50}, {"C", 1990, 240, 50}, {"D", 1900, 200, 50}} {
			r := res(v.label, round, v.rps, 1000, 60_000)
			r.Rate = 2000
			r.Process.CPUPerReq, r.Process.RefCPUPerReq = v.cpu*slow, v.ref*slow
			results = append(results, r)
		}
	}
	f, err := newFixedRate(results)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"proxy CPU per request B/A":                      "1.020×",
		"proxy CPU per request C/D":                      "1.200×",
		"proxy CPU per request over the upstream's, C/D": "1.200×",
	}
	for _, r := range f.ratioRows() {
		if w, ok := want[r[0]]; ok && r[1] != w {
			t.Errorf("%s: %s, want %s", r[0], r[1], w)
		}
	}
	if f.rate != 2000 || f.ref["C"] != 100 || f.rows["C"].cpuPerReq != 480 {
		t.Errorf("rate %v, C's upstream CPU %v, C's CPU %v", f.rate, f.ref["C"], f.rows["C"].cpuPerReq)
	}
	var md strings.Builder
	f.writeMarkdown(&md)
	for _, s := range []string{"paced at 2000 requests per second", "| C | 1990 | 480.0 µs | 100.0 µs | 0 |",
		"| proxy CPU per request C/D | 1.200× | 1.200 1.200 1.200 |", "D served 1900 req/s of the 2000 asked"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
	if strings.Contains(md.String(), "C served") {
		t.Errorf("C kept the rate within 3 %%, warned anyway:\n%s", md.String())
	}
}
