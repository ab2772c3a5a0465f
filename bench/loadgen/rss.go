package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// rssSample is one reading of a process's resident set size.
type rssSample struct {
	At float64 `json:"at_s"` // seconds since the measured window began (negative in warm-up)
	KB int64   `json:"kb"`
}

// readRSS returns VmRSS of pid in KiB, from /proc/PID/status.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	return parseVmRSS(b)
}

// parseVmRSS finds the "VmRSS:   12345 kB" line of a /proc/PID/status file.
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("rss: unexpected VmRSS line %q", sc.Text())
		}
		return strconv.ParseInt(string(fields[0]), 10, 64)
	}
	return 0, fmt.Errorf("rss: no VmRSS line")
}

// sampleRSS reads pid's RSS at once, every interval, and once more when ctx ends, and returns
// the readings with times relative to origin. A process that disappears ends the sampling.
func sampleRSS(ctx context.Context, pid int, interval time.Duration, origin time.Time) ([]rssSample, error) {
	var out []rssSample
	sample := func() error {
		kb, err := readRSS(pid)
		if err == nil {
			out = append(out, rssSample{At: time.Since(origin).Seconds(), KB: kb})
		}
		return err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := sample(); err != nil {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, sample()
		case <-tick.C:
		}
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on every Linux ABI Go
// supports.
const clockTicks = 100

// readCPU returns the CPU time (user + system, all threads) pid has used so far.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	return parseStatCPU(b)
}

// readRefCPU is readCPU of the reference process, or 0 without one.
func readRefCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	return readCPU(pid)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/PID/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields count from its last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu: malformed stat line")
	}
	fields := bytes.Fields(stat[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return 0, fmt.Errorf("cpu: short stat line")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
