// Command benchreport turns the raw output of `make bench` into the tables of BENCHMARKS.md:
// the interleaved load comparison of plain Caddy and the sidecar with its budgets, the
// in-process Go benchmarks, or the memory soak.
//
//	benchreport -load load.jsonl [-gobench go-bench.txt] [-augment augment.json] [-markdown out.md]
//	benchreport -soak soak.json [-plain plain.json] [-markdown out.md]
//
// -load reads cmd/loadgen's JSON results labelled A, B, C and D with their round numbers; the
// table shows each variant's median over the rounds (largest RSS), and the ratios are medians
// of the per-round ratios, so drift between rounds cancels. The text report goes to stdout,
// the Markdown one to -markdown. -soak reads one result with RSS samples and tells whether
// the RSS kept growing after the first third of the run; -plain, a run of plain Caddy under
// the same traffic, adds the RSS budget.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
)

func main() {
	loadFile := flag.String("load", "", "loadgen JSON results of the A/B/C/D comparison")
	goBench := flag.String("gobench", "", "output of go test -bench, for the in-process budgets")
	augmentFile := flag.String("augment", "", "benchrecord's augment.json: what the augmented query adds to the Venia operations")
	fixedFile := flag.String("fixed", "", "loadgen JSON results of the A/B/C/D comparison at a fixed rate (with -load)")
	soakFile := flag.String("soak", "", "loadgen JSON result of the soak")
	plainFile := flag.String("plain", "", "loadgen JSON result of plain Caddy under the soak's traffic")
	mdFile := flag.String("markdown", "", "also write the report as Markdown to this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")
	if err := run(inputs{load: *loadFile, fixed: *fixedFile, goBench: *goBench, augment: *augmentFile, soak: *soakFile, plain: *plainFile}, *mdFile, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// inputs are the files a report is made of.
type inputs struct{ load, fixed, goBench, augment, soak, plain string }

func run(in inputs, mdFile string, stdout io.Writer) error {
	var text, md strings.Builder
	switch {
	case in.load != "" && in.soak != "":
		return errors.New("-load and -soak exclude each other")
	case in.plain != "" && in.soak == "":
		return errors.New("-plain goes with -soak")
	case in.fixed != "" && in.load == "":
		return errors.New("-fixed goes with -load")
	case in.load != "":
		results, err := readResults(in.load)
		if err != nil {
			return err
		}
		cmp, err := compare(results)
		if err != nil {
			return err
		}
		cmp.writeText(&text)
		cmp.writeMarkdown(&md)
		if in.fixed != "" {
			results, err := readResults(in.fixed)
			if err != nil {
				return err
			}
			fixed, err := newFixedRate(results)
			if err != nil {
				return fmt.Errorf("%s: %w", in.fixed, err)
			}
			fixed.writeText(&text)
			fixed.writeMarkdown(&md)
		}
	case in.soak != "":
		soak, err := readOne(in.soak)
		if err != nil {
			return err
		}
		s, err := analyseSoak(soak)
		if err != nil {
			return err
		}
		if in.plain != "" {
			plain, err := readOne(in.plain)
			if err != nil {
				return err
			}
			s.addPlain(plain)
		}
		s.writeText(&text)
		s.writeMarkdown(&md)
	case in.goBench == "":
		return errors.New("give -load, -soak or -gobench")
	}
	if in.augment != "" {
		rows, err := readAugment(in.augment)
		if err != nil {
			return err
		}
		writeAugmentText(&text, rows)
		writeAugmentMarkdown(&md, rows)
	}
	if in.goBench != "" {
		f, err := os.Open(in.goBench)
		if err != nil {
			return err
		}
		defer f.Close()
		benches, err := parseGoBench(f)
		if err != nil {
			return err
		}
		writeGoBenchText(&text, benches)
		writeGoBenchMarkdown(&md, benches)
	}
	if _, err := io.WriteString(stdout, text.String()); err != nil {
		return err
	}
	if mdFile == "" {
		return nil
	}
	return os.WriteFile(mdFile, []byte(md.String()), 0o644)
}

// result is the part of a loadgen JSON result the report reads.
type result struct {
	Label       string  `json:"label"`
	Round       int     `json:"round"`
	Concurrency int     `json:"concurrency"`
	WarmupS     float64 `json:"warmup_s"`
	DurationS   float64 `json:"duration_s"`
	Rate        float64 `json:"rate"` // paced runs: the rate asked for
	Requests    uint64  `json:"requests"`
	Errors      uint64  `json:"errors"`
	RPS         float64 `json:"rps"`
	BytesPerReq float64 `json:"bytes_per_request"`
	LatencyUS   struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
	} `json:"latency_us"`
	Process *processStats `json:"process"`
}

// processStats is loadgen's record of the server process: resident set size and CPU time.
type processStats struct {
	MaxKB     int64       `json:"max_kb"`
	FirstKB   int64       `json:"first_kb"`
	LastKB    int64       `json:"last_kb"`
	Samples   []rssSample `json:"samples"`
	CPUPerReq float64     `json:"cpu_us_per_request"`
	// RefCPUPerReq is the fixed upstream's CPU per request over the same window.
	RefCPUPerReq float64 `json:"ref_cpu_us_per_request"`
}

// rssSample is one reading, at seconds since the measured window began.
type rssSample struct {
	At float64 `json:"at_s"`
	KB int64   `json:"kb"`
}

// readOne reads a file holding a single result.
func readOne(path string) (result, error) {
	results, err := readResults(path)
	if err != nil {
		return result{}, err
	}
	if len(results) != 1 {
		return result{}, fmt.Errorf("%s: want one result, got %d", path, len(results))
	}
	return results[0], nil
}

// readResults reads one JSON result per line.
func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
