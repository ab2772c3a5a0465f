package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// modulePath is trimmed from package names in the report.
const modulePath = "github.com/caddy-audiences/caddy-audiences/"

// goBench is one line of go test -bench output.
type goBench struct {
	pkg, name   string
	iterations  int64
	nsPerOp     float64
	cpuPerOp    float64 // the process's CPU time per op, when the benchmark reports it
	bytesPerOp  float64
	allocsPerOp float64
	hasMem      bool
	line        string
}

// inProcessBudget is a speed goal of issue 6 for one Go benchmark.
type inProcessBudget struct {
	pkg, name string // name without the -GOMAXPROCS suffix
	what      string
	maxNs     float64
	maxAllocs float64 // 0: no allocation budget
}

var inProcessBudgets = []inProcessBudget{
	{"internal/cartql", "BenchmarkServe", "cached plan + evaluate + rewrite, 20-line cart", 50_000, 100},
	{"rules", "BenchmarkEvaluate/rules=1000/items=20/cache=warm", "1,000 rules, warm candidate cache, 20 items", 20_000, 0},
	{"rules", "BenchmarkEvaluate/rules=1000/items=1/cache=warm", "1,000 rules, warm candidate cache, 1 item", 20_000, 0},
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseGoBench reads the benchmark lines of go test -bench output, with their package.
func parseGoBench(r io.Reader) ([]goBench, error) {
	var out []goBench
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), modulePath)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's log output, or a failure
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		b := goBench{pkg: pkg, name: procSuffix.ReplaceAllString(f[0], ""), iterations: n, line: line}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.nsPerOp = v
			case "cpu-ns/op":
				b.cpuPerOp = v
			case "B/op":
				b.bytesPerOp, b.hasMem = v, true
			case "allocs/op":
				b.allocsPerOp = v
			}
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

// budgetChecks checks the in-process budgets against the parsed benchmarks.
func budgetChecks(benches []goBench) []check {
	var out []check
	for _, bud := range inProcessBudgets {
		ch := check{name: bud.what, budget: fmt.Sprintf("< %s", micro(bud.maxNs))}
		if bud.maxAllocs > 0 {
			ch.budget += fmt.Sprintf(", < %.0f allocs", bud.maxAllocs)
		}
		found := false
		for _, b := range benches {
			if b.pkg != bud.pkg || b.name != bud.name {
				continue
			}
			found = true
			ch.measured = micro(b.nsPerOp)
			ch.pass = b.nsPerOp < bud.maxNs
			if bud.maxAllocs > 0 {
				ch.measured += fmt.Sprintf(", %.0f allocs", b.allocsPerOp)
				ch.pass = ch.pass && b.hasMem && b.allocsPerOp < bud.maxAllocs
			}
		}
		if !found {
			ch.measured = "not run"
		}
		out = append(out, ch)
	}
	return out
}

func micro(ns float64) string { return fmt.Sprintf("%.1f µs", ns/1000) }

func writeGoBenchText(w io.Writer, benches []goBench) {
	fmt.Fprintf(w, "\nIn-process budgets (go test -bench):\n")
	for _, ch := range budgetChecks(benches) {
		fmt.Fprintf(w, "%-48s %-22s budget %-20s %s\n", ch.name, ch.measured, ch.budget, ch.verdict())
	}
}

func writeGoBenchMarkdown(w io.Writer, benches []goBench) {
	fmt.Fprintln(w, "### In-process budgets\n\n| Hot path | Measured | Budget | |\n|---|--:|--:|---|")
	for _, ch := range budgetChecks(benches) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", ch.name, ch.measured, ch.budget, ch.verdict())
	}
	fmt.Fprintln(w, "\n### Go benchmarks\n\nCPU/op is the process's CPU time per operation where the benchmark reports it (`cpu-ns/op`): time/op counts what other work on the machine takes, CPU/op much less.\n\n| Package | Benchmark | iterations | time/op | CPU/op | B/op | allocs/op |\n|---|---|--:|--:|--:|--:|--:|")
	for _, b := range benches {
		mem := "| - | -"
		if b.hasMem {
			mem = fmt.Sprintf("| %.0f | %.0f", b.bytesPerOp, b.allocsPerOp)
		}
		cpu := "-"
		if b.cpuPerOp > 0 {
			cpu = nsString(b.cpuPerOp)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s %s |\n", b.pkg, strings.TrimPrefix(b.name, "Benchmark"), b.iterations, nsString(b.nsPerOp), cpu, mem)
	}
	fmt.Fprintln(w)
}

// nsString prints a time per operation in a readable unit.
func nsString(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}
