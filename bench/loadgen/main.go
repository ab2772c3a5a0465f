// Command loadgen is the benchmarks' load generator: a fixed number of keep-alive clients
// send the same request (or a rotation of requests) to a loopback HTTP server for a fixed
// time after a warm-up that is not counted, then it reports requests/s, latency quantiles
// (p50, p99, p99.9), errors and, optionally, the largest RSS and the CPU time per request of
// a server process (from /proc/PID/status and /proc/PID/stat).
//
//	loadgen -target http://127.0.0.1:8080 -path '/graphql?query=...' \
//	    [-method GET] [-H 'Name: value']... [-body s | -body-file f] \
//	    [-paths file] [-header-values 'Name=file']... \
//	    [-c 32] [-d 10s] [-warmup 2s] [-timeout 10s] [-expect-status 200] \
//	    [-pid N] [-ref-pid N] [-rss-every 250ms] [-label A] [-round 1] [-json]
//
// -paths rotates request paths (one per line) and -header-values rotates one header's value
// (one per line): request i takes line i modulo the file's length. Only http:// targets on
// loopback addresses are accepted, and every connection is checked to be one. Latencies go
// into a fixed-size log-linear histogram (0.4% resolution), so memory does not grow with the
// run. With -json the result is one JSON object on stdout; a summary always goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
)

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag []string

func (f *headerFlag) String() string     { return strings.Join(*f, ", ") }
func (f *headerFlag) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("loadgen: ")
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, res.summary())
	if cfg.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		if err := enc.Encode(res); err != nil {
			log.Fatal(err)
		}
	}
}

// config is everything a run needs, read from the command line.
type config struct {
	src          *requestSource
	concurrency  int
	rate         float64 // requests per second over all clients; 0: as fast as they can
	duration     time.Duration
	warmup       time.Duration
	timeout      time.Duration
	expectStatus int
	pid          int
	refPID       int
	rssEvery     time.Duration
	label        string
	round        int
	jsonOut      bool
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	cfg := &config{}
	var headers, headerValues headerFlag
	target := fs.String("target", "", "base URL: http:// on a loopback address (required)")
	path := fs.String("path", "/", "request path and query")
	pathsFile := fs.String("paths", "", "file of request paths, one per line, rotated")
	method := fs.String("method", "GET", "request method")
	body := fs.String("body", "", "request body")
	bodyFile := fs.String("body-file", "", "file holding the request body")
	fs.Var(&headers, "H", "request header `Name: value` (repeatable)")
	fs.Var(&headerValues, "header-values", "`Name=file`: rotate that header's value through the file's lines (repeatable)")
	fs.IntVar(&cfg.concurrency, "c", 32, "concurrent keep-alive clients")
	fs.Float64Var(&cfg.rate, "rate", 0, "send `N` requests per second in all (paced; the clients must keep up), instead of as many as the server answers")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "warm-up before measuring (not counted)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.IntVar(&cfg.expectStatus, "expect-status", 200, "status code that counts as success")
	fs.IntVar(&cfg.pid, "pid", 0, "sample this process's RSS (VmRSS) and CPU time during the measured window")
	fs.IntVar(&cfg.refPID, "ref-pid", 0, "with -pid, also read this process's CPU time over the same window (a reference, such as the upstream)")
	fs.DurationVar(&cfg.rssEvery, "rss-every", 250*time.Millisecond, "RSS sampling interval")
	fs.StringVar(&cfg.label, "label", "", "name of this run in the output")
	fs.IntVar(&cfg.round, "round", 0, "round number in the output")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the result as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case cfg.concurrency < 1 || cfg.concurrency > 10000:
		return nil, fmt.Errorf("-c: want 1..10000, got %d", cfg.concurrency)
	case cfg.rate < 0 || cfg.rate > 1e6:
		return nil, fmt.Errorf("-rate: want 0..1000000 requests per second, got %g", cfg.rate)
	case cfg.duration <= 0 || cfg.duration > 24*time.Hour:
		return nil, fmt.Errorf("-d: want a duration up to 24h, got %s", cfg.duration)
	case cfg.warmup < 0 || cfg.timeout <= 0 || cfg.rssEvery <= 0:
		return nil, errors.New("-warmup, -timeout and -rss-every must be positive")
	case *body != "" && *bodyFile != "":
		return nil, errors.New("-body and -body-file exclude each other")
	}
	if *target == "" {
		return nil, errors.New("-target is required")
	}
	base, err := loopback.CheckURL(*target)
	if err != nil {
		return nil, err
	}
	paths := []string{*path}
	if *pathsFile != "" {
		if paths, err = readLines(*pathsFile); err != nil {
			return nil, err
		}
	}
	b := []byte(*body)
	if *bodyFile != "" {
		if b, err = os.ReadFile(*bodyFile); err != nil {
			return nil, fmt.Errorf("-body-file: %w", err)
		}
	}
	cfg.src, err = newRequestSource(base, *method, paths, headers, b)
	if err != nil {
		return nil, err
	}
	for _, hv := range headerValues {
		name, file, ok := strings.Cut(hv, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("-header-values: want Name=file, got %q", hv)
		}
		values, err := readLines(file)
		if err != nil {
			return nil, err
		}
		cfg.src.rotate(name, values)
	}
	return cfg, nil
}

// readLines returns the non-empty lines of a file.
func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no lines", path)
	}
	return lines, nil
}

// drain reads and discards a response body, returning how many bytes it had.
func drain(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
