package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
)

// maxErrorKinds bounds how many distinct error descriptions a run keeps.
const maxErrorKinds = 16

// Result is what a run measured, in the JSON form the bench report reads.
type Result struct {
	Label       string         `json:"label,omitempty"`
	Round       int            `json:"round,omitempty"`
	Target      string         `json:"target"`
	Concurrency int            `json:"concurrency"`
	Rate        float64        `json:"rate,omitempty"` // the paced rate asked for, if any
	WarmupS     float64        `json:"warmup_s"`
	DurationS   float64        `json:"duration_s"`
	Requests    uint64         `json:"requests"`
	Errors      uint64         `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	WarmupReqs  uint64         `json:"warmup_requests"`
	RPS         float64        `json:"rps"`
	BytesPerReq float64        `json:"bytes_per_request"`
	LatencyUS   Latency        `json:"latency_us"`
	Process     *ProcessStats  `json:"process,omitempty"`

	hist  *Histogram
	kinds map[string]int64
}

// Latency holds quantiles in microseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// ProcessStats is the server process during the measured window: its resident set size, and
// the CPU time it used, which per request tells a proxy's cost apart from whatever else runs
// on the machine.
type ProcessStats struct {
	PID        int         `json:"pid"`
	MaxKB      int64       `json:"max_kb"`
	FirstKB    int64       `json:"first_kb"`
	LastKB     int64       `json:"last_kb"`
	Samples    []rssSample `json:"samples"`
	CPUSeconds float64     `json:"cpu_s"`
	CPUPerReq  float64     `json:"cpu_us_per_request"`
	// RefCPUPerReq is the CPU time per request of the -ref-pid process over the same window:
	// a process doing the same work for every variant (the upstream) shows how fast the
	// machine ran in that window.
	RefCPUPerReq float64 `json:"ref_cpu_us_per_request,omitempty"`
	Error        string  `json:"error,omitempty"`
	refSeconds   float64
}

// workerStats is what one client counted; merged at the end, so workers never contend.
type workerStats struct {
	hist       *Histogram
	errors     uint64
	kinds      map[string]int64
	warmupReqs uint64
	bytes      int64
}

// run warms up, measures and reports. It always returns by itself: the clients stop
// starting requests when the window closes, and a hard deadline bounds the ones in flight.
func run(ctx context.Context, cfg *config) (*Result, error) {
	client := newClient(cfg.concurrency, cfg.timeout)
	defer client.CloseIdleConnections()
	if err := probe(ctx, client, cfg); err != nil {
		return nil, err
	}

	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	measureTo := measureFrom.Add(cfg.duration)
	ctx, cancel := context.WithDeadline(ctx, measureTo.Add(cfg.timeout+time.Second))
	defer cancel()

	var proc *ProcessStats
	watchDone := make(chan struct{})
	if cfg.pid > 0 {
		proc = &ProcessStats{PID: cfg.pid}
		watchCtx, stopWatch := context.WithDeadline(ctx, measureTo)
		defer stopWatch()
		go func() {
			defer close(watchDone)
			waitUntil(watchCtx, measureFrom)
			cpuFrom, cpuErr := readCPU(cfg.pid)
			refFrom, refErr := readRefCPU(cfg.refPID)
			samples, err := sampleRSS(watchCtx, cfg.pid, cfg.rssEvery, measureFrom)
			cpuTo, cpuErr2 := readCPU(cfg.pid)
			refTo, refErr2 := readRefCPU(cfg.refPID)
			proc.Samples = samples
			if err = cmp.Or(err, cpuErr, cpuErr2, refErr, refErr2); err != nil {
				proc.Error = err.Error()
				return
			}
			proc.CPUSeconds = (cpuTo - cpuFrom).Seconds()
			proc.refSeconds = (refTo - refFrom).Seconds()
		}()
	} else {
		close(watchDone)
	}

	var next atomic.Uint64
	stats := make([]*workerStats, cfg.concurrency)
	var wg sync.WaitGroup
	for w := range stats {
		st := &workerStats{hist: NewHistogram(), kinds: map[string]int64{}}
		stats[w] = st
		wg.Go(func() { work(ctx, client, cfg, &next, start, measureFrom, measureTo, st) })
	}
	wg.Wait()
	<-watchDone
	if ctx.Err() != nil && time.Now().Before(measureTo) {
		return nil, fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return summarize(cfg, stats, proc), nil
}

// work is one keep-alive client: request after request until the window closes. With a
// rate, request n (counted over all clients from start) is not sent before start + n/rate.
func work(ctx context.Context, client *http.Client, cfg *config, next *atomic.Uint64, start, from, to time.Time, st *workerStats) {
	for ctx.Err() == nil {
		seq := next.Add(1) - 1
		if cfg.rate > 0 {
			waitUntil(ctx, start.Add(time.Duration(float64(seq)*float64(time.Second)/cfg.rate)))
		}
		began := time.Now()
		if !began.Before(to) {
			return
		}
		req := cfg.src.request(ctx, seq)
		n, err := do(client, req, cfg.expectStatus)
		elapsed := time.Since(began)
		if began.Before(from) {
			st.warmupReqs++
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return // the hard deadline, not the server
			}
			st.errors++
			st.kinds[errorKind(err)]++
			continue
		}
		st.hist.Record(elapsed)
		st.bytes += n
	}
}

// statusError is a response with an unexpected status code.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

// do sends one request and reads the whole response.
func do(client *http.Client, req *http.Request, expect int) (int64, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := drain(resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != expect {
		return n, statusError{resp.StatusCode}
	}
	return n, nil
}

// errorKind is a short, low-cardinality description of an error.
func errorKind(err error) string {
	var se statusError
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	case strings.Contains(err.Error(), "EOF"):
		return "EOF"
	}
	return "other"
}

// probe sends one request first, so a misconfigured run fails at once with a reason instead
// of measuring a stream of errors.
func probe(ctx context.Context, client *http.Client, cfg *config) error {
	resp, err := client.Do(cfg.src.request(ctx, 0))
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body := make([]byte, 300)
	n, _ := resp.Body.Read(body)
	_, _ = drain(resp.Body)
	if resp.StatusCode != cfg.expectStatus {
		return fmt.Errorf("probe: status %d, want %d: %q", resp.StatusCode, cfg.expectStatus, body[:n])
	}
	return nil
}

// newClient is a keep-alive client with one idle connection kept per worker, no proxy from
// the environment, no transparent compression and no redirects, dialing loopback only.
func newClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           loopback.DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       concurrency,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func waitUntil(ctx context.Context, t time.Time) {
	if !time.Now().Before(t) {
		return
	}
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// summarize merges the workers' counts into the result.
func summarize(cfg *config, stats []*workerStats, proc *ProcessStats) *Result {
	res := &Result{
		Label:       cfg.label,
		Round:       cfg.round,
		Target:      cfg.src.urls[0].Scheme + "://" + cfg.src.urls[0].Host,
		Concurrency: cfg.concurrency,
		Rate:        cfg.rate,
		WarmupS:     cfg.warmup.Seconds(),
		DurationS:   cfg.duration.Seconds(),
		hist:        NewHistogram(),
		kinds:       map[string]int64{},
	}
	var bytes int64
	for _, st := range stats {
		res.hist.Merge(st.hist)
		res.Errors += st.errors
		res.WarmupReqs += st.warmupReqs
		bytes += st.bytes
		for k, n := range st.kinds {
			res.kinds[k] += n
		}
	}
	res.Requests = res.hist.Count()
	res.RPS = float64(res.Requests) / cfg.duration.Seconds()
	if res.Requests > 0 {
		res.BytesPerReq = float64(bytes) / float64(res.Requests)
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	h := res.hist
	res.LatencyUS = Latency{
		Min: us(h.Min()), Mean: us(h.Mean()), Max: us(h.Max()),
		P50: us(h.Quantile(0.50)), P90: us(h.Quantile(0.90)),
		P99: us(h.Quantile(0.99)), P999: us(h.Quantile(0.999)),
	}
	if len(res.kinds) > 0 {
		res.ErrorKinds = map[string]int{}
		for k, n := range res.kinds {
			if len(res.ErrorKinds) < maxErrorKinds {
				res.ErrorKinds[k] = int(n)
			}
		}
	}
	if proc != nil {
		res.Process = proc
		for i, s := range proc.Samples {
			if i == 0 {
				proc.FirstKB = s.KB
			}
			proc.MaxKB = max(proc.MaxKB, s.KB)
			proc.LastKB = s.KB
		}
		if res.Requests > 0 {
			proc.CPUPerReq = proc.CPUSeconds * 1e6 / float64(res.Requests)
			proc.RefCPUPerReq = proc.refSeconds * 1e6 / float64(res.Requests)
		}
	}
	return res
}

// summary is the human-readable line printed after a run.
func (r *Result) summary() string {
	var b strings.Builder
	if r.Label != "" {
		fmt.Fprintf(&b, "%s", r.Label)
		if r.Round > 0 {
			fmt.Fprintf(&b, "#%d", r.Round)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%.0f req/s  p50 %.0fµs  p99 %.0fµs  p99.9 %.0fµs  max %.0fµs  %d requests  %d errors",
		r.RPS, r.LatencyUS.P50, r.LatencyUS.P99, r.LatencyUS.P999, r.LatencyUS.Max, r.Requests, r.Errors)
	if r.Process != nil {
		fmt.Fprintf(&b, "  rss max %.1f MiB  cpu %.0fµs/req", float64(r.Process.MaxKB)/1024, r.Process.CPUPerReq)
		if r.Process.Error != "" {
			fmt.Fprintf(&b, " (%s)", r.Process.Error)
		}
	}
	for k, n := range r.ErrorKinds {
		fmt.Fprintf(&b, "\n  %d × %s", n, k)
	}
	return b.String()
}
