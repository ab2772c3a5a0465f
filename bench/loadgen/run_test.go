package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunCountsAndErrors is a 100 ms smoke run (not a load test): every answered request is
// counted once, non-200 answers are errors, and RSS is sampled.
func TestRunCountsAndErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte("hello"))
	}))
	defer srv.Close()
	cfg, err := parseFlags([]string{"-target", srv.URL, "-c", "2", "-d", "100ms", "-warmup", "20ms",
		"-pid", strconv.Itoa(os.Getpid()), "-ref-pid", strconv.Itoa(os.Getpid()), "-rss-every", "10ms", "-label", "T", "-round", "3"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors == 0 || res.ErrorKinds["status 502"] != int(res.Errors) {
		t.Fatalf("requests %d errors %d kinds %v", res.Requests, res.Errors, res.ErrorKinds)
	}
	if total := res.Requests + res.Errors + res.WarmupReqs + 1; total != uint64(n.Load()) { // +1: the probe
		t.Fatalf("counted %d requests, server saw %d", total, n.Load())
	}
	if res.BytesPerReq != 5 || res.LatencyUS.P50 <= 0 || res.LatencyUS.P999 < res.LatencyUS.P50 {
		t.Fatalf("bytes %v latency %+v", res.BytesPerReq, res.LatencyUS)
	}
	if res.Process == nil || res.Process.MaxKB == 0 || len(res.Process.Samples) < 2 || res.Process.Error != "" || res.Process.CPUSeconds < 0 {
		t.Fatalf("rss %+v", res.Process)
	}
	// The reference is this process too (it serves the requests): it used CPU in the window.
	if res.Process.RefCPUPerReq <= 0 {
		t.Fatalf("reference CPU per request %v", res.Process.RefCPUPerReq)
	}
	if res.Label != "T" || res.Round != 3 || res.DurationS != 0.1 {
		t.Fatalf("label %q round %d duration %v", res.Label, res.Round, res.DurationS)
	}
}

func TestProbeFailsFast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream is down", http.StatusBadGateway)
	}))
	defer srv.Close()
	cfg, err := parseFlags([]string{"-target", srv.URL, "-d", "1h"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := run(context.Background(), cfg); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("run = %v after %v, want a probe error at once", err, time.Since(start))
	}
}

// TestRunPaced: with -rate, requests are sent no faster than asked (request n not before
// start + n/rate), so a fast server sees about rate × time, not as many as it can answer.
func TestRunPaced(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	cfg, err := parseFlags([]string{"-target", srv.URL, "-c", "4", "-rate", "200", "-d", "500ms", "-warmup", "100ms"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 0.6 s at 200/s: at most 121 requests (and the probe); at least half of them on a
	// slow machine. Unpaced, this server answers thousands.
	if total := n.Load(); total > 122 || total < 60 {
		t.Fatalf("server saw %d requests in 0.6 s at -rate 200", total)
	}
	if res.Rate != 200 || res.Requests == 0 || res.RPS > 202 {
		t.Fatalf("rate %v requests %d rps %v", res.Rate, res.Requests, res.RPS)
	}
	if _, err := parseFlags([]string{"-target", srv.URL, "-rate", "-1"}); err == nil {
		t.Fatal("-rate -1 accepted")
	}
}
