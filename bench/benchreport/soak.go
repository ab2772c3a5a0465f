package main

import (
	"errors"
	"fmt"
	"io"
)

// Growth tolerance of the soak: after the first third (caches filling up), the last third's
// largest RSS may exceed the middle third's by at most this fraction (and growthFloorKB).
const (
	growthTolerance = 0.05
	growthFloorKB   = 2048
)

// soakReport is the RSS of the sidecar over a long run with many distinct shoppers and
// query texts.
type soakReport struct {
	res               result
	first, last, peak int64
	midPeak, latePeak int64
	slopeMiBPerMin    float64
	growing, tooFew   bool
	samplesAt         []float64
	samplesKB         []int64
	plain             *result // plain Caddy under the same traffic, if measured
	rssCheck          check
}

func analyseSoak(r result) (*soakReport, error) {
	if r.Process == nil || len(r.Process.Samples) == 0 {
		return nil, errors.New("soak result has no RSS samples (run loadgen with -pid)")
	}
	s := &soakReport{res: r, first: r.Process.FirstKB, last: r.Process.LastKB, peak: r.Process.MaxKB}
	for _, smp := range r.Process.Samples {
		s.samplesAt = append(s.samplesAt, smp.At)
		s.samplesKB = append(s.samplesKB, smp.KB)
	}
	n := len(s.samplesKB)
	if n < 3 {
		s.tooFew = true
		return s, nil
	}
	third := r.DurationS / 3
	for i, at := range s.samplesAt {
		kb := s.samplesKB[i]
		switch {
		case at >= 2*third:
			s.latePeak = max(s.latePeak, kb)
		case at >= third:
			s.midPeak = max(s.midPeak, kb)
		}
	}
	if s.midPeak == 0 || s.latePeak == 0 {
		s.tooFew = true
		return s, nil
	}
	s.slopeMiBPerMin = slope(s.samplesAt, s.samplesKB, third) / 1024 * 60
	limit := max(float64(s.midPeak)*(1+growthTolerance), float64(s.midPeak+growthFloorKB))
	s.growing = float64(s.latePeak) > limit
	return s, nil
}

// slope is the least-squares slope, in KiB per second, of the samples taken at or after from.
func slope(at []float64, kb []int64, from float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for i, x := range at {
		if x < from {
			continue
		}
		y := float64(kb[i])
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// addPlain compares the soak's largest RSS with plain Caddy's under the same traffic.
func (s *soakReport) addPlain(plain result) {
	s.plain = &plain
	s.rssCheck = check{name: "max RSS sidecar/plain", budget: fmt.Sprintf("≤ %.1f×", budgetRSS), measured: "not sampled"}
	if s.plainKB() == 0 {
		return
	}
	ratio := float64(s.peak) / float64(s.plainKB())
	s.rssCheck.measured = fmt.Sprintf("%.2f× (%s vs %s)", ratio, mib(s.peak), mib(s.plainKB()))
	s.rssCheck.pass = ratio <= budgetRSS
}

// plainKB is plain Caddy's largest RSS, 0 when not sampled.
func (s *soakReport) plainKB() int64 {
	if s.plain == nil || s.plain.Process == nil {
		return 0
	}
	return s.plain.Process.MaxKB
}

func (s *soakReport) verdict() string {
	switch {
	case s.tooFew:
		return "too few samples to tell"
	case s.growing:
		return "MISS: still growing"
	}
	return "PASS: flat after warm-up"
}

func (s *soakReport) writeText(w io.Writer) {
	r := s.res
	fmt.Fprintf(w, "Soak: %.0fs, %d clients, %.0f req/s, p99 %s, %d requests, %d errors\n", r.DurationS, r.Concurrency, r.RPS, ms(r.LatencyUS.P99), r.Requests, r.Errors)
	fmt.Fprintf(w, "RSS first %s, last %s, max %s; middle-third max %s, last-third max %s; slope %+.2f MiB/min after the first third\n",
		mib(s.first), mib(s.last), mib(s.peak), mib(s.midPeak), mib(s.latePeak), s.slopeMiBPerMin)
	fmt.Fprint(w, "samples:")
	for i, at := range s.samplesAt {
		fmt.Fprintf(w, " %.0fs=%s", at, mib(s.samplesKB[i]))
	}
	fmt.Fprintf(w, "\nmemory: %s\n", s.verdict())
	if s.plain != nil {
		fmt.Fprintf(w, "plain Caddy, same traffic for %.0fs: %.0f req/s, max RSS %s\n", s.plain.DurationS, s.plain.RPS, mib(s.plainKB()))
		fmt.Fprintf(w, "%s %s budget %s %s\n", s.rssCheck.name, s.rssCheck.measured, s.rssCheck.budget, s.rssCheck.verdict())
	}
}

func (s *soakReport) writeMarkdown(w io.Writer) {
	r := s.res
	fmt.Fprintf(w, "### Soak\n\n%.0f s of load on the sidecar (%d clients, %.0f req/s, p99 %s, %d errors), rotating distinct "+
		"`aep-segments-membership` values and distinct query texts of the 20-line cart page.\n\n", r.DurationS, r.Concurrency, r.RPS, ms(r.LatencyUS.P99), r.Errors)
	fmt.Fprintln(w, "| RSS first | RSS last | RSS max | middle third max | last third max | slope after first third | |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|---|")
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %+.2f MiB/min | %s |\n\n", mib(s.first), mib(s.last), mib(s.peak), mib(s.midPeak), mib(s.latePeak), s.slopeMiBPerMin, s.verdict())
	fmt.Fprint(w, "Samples:")
	for i, at := range s.samplesAt {
		fmt.Fprintf(w, " %.0f s: %s;", at, mib(s.samplesKB[i]))
	}
	fmt.Fprint(w, "\n\n")
	if s.plain != nil {
		fmt.Fprintf(w, "Plain Caddy (`reverse_proxy` only) under the same traffic for %.0f s: %.0f req/s, max RSS %s.\n\n",
			s.plain.DurationS, s.plain.RPS, mib(s.plainKB()))
		fmt.Fprintln(w, "| Budget | Measured | Budget | |\n|---|--:|--:|---|")
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n\n", s.rssCheck.name, s.rssCheck.measured, s.rssCheck.budget, s.rssCheck.verdict())
	}
}
