package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// BenchmarkServeHTTP measures the whole handler in process: membership, planning, the
// buffered response, evaluation and rewrite, against recorded demo-store answers (see
// testdata/bench; the same recordings make bench serves). The upstream is a handler that
// writes the recorded body, so only the sidecar's own work is measured.
func BenchmarkServeHTTP(b *testing.B) {
	read := func(name string) []byte {
		data, err := os.ReadFile("testdata/bench/" + name)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	// The store's tax rate, as make bench configures it; without it the rate is derived
	// from the backend's amounts.
	rate := map[string]string{"US-CA-*-Rate 1": "8.25"}
	for _, tc := range []struct {
		name     string
		path     string
		body     []byte
		rules    string
		taxRates map[string]string
	}{
		{"passthrough", strings.TrimSpace(string(read("nocart.path"))), read("nocart.json"), "rules.json", rate},
		{"rewrite-20-lines", strings.TrimSpace(string(read("cart.path"))), read("cart-augmented.json"), "rules.json", rate},
		{"rewrite-20-lines-derived-tax", strings.TrimSpace(string(read("cart.path"))), read("cart-augmented.json"), "rules.json", nil},
		// With a gate rule in force (the shopper is not in its audience): requests are read
		// strictly as PHP reads them and every answer is scrubbed of gate codes.
		{"gated-passthrough", strings.TrimSpace(string(read("nocart.path"))), read("nocart.json"), "gated_rules.json", rate},
		{"gated-rewrite-20-lines", strings.TrimSpace(string(read("cart.path"))), read("cart-augmented.json"), "gated_rules.json", rate},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := &Handler{Rules: "testdata/bench/" + tc.rules, Name: "bench-" + tc.name, TaxRates: tc.taxRates}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := h.Provision(ctx); err != nil {
				b.Fatal(err)
			}
			defer h.Cleanup()
			// Production logs at info: the per-rewrite debug line is not written.
			h.logger = zap.NewNop()
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				_, err := w.Write(tc.body)
				return err
			})
			repl := caddy.NewReplacer()
			base := httptest.NewRequest(http.MethodGet, tc.path, nil)
			base.Header.Set("aep-segments-membership", "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01%2C3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03")
			base.Header.Set("Store", "default")
			base = base.WithContext(context.WithValue(base.Context(), caddy.ReplacerCtxKey, repl))
			rec := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				r := base.Clone(base.Context())
				clear(rec.header)
				if err := h.ServeHTTP(rec, r, next); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time the process has used (user and system, every thread): per
// iteration, unlike ns/op, it does not count the time other work on a shared machine takes.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
