package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCaddyfileGolden adapts every testdata/caddyfile/*.txt: the Caddyfile before the
// "----------" line, and after it either the JSON it adapts to, "error: <substring>" for a
// Caddyfile the parser refuses, or "invalid: <substring>" for one that parses but that the
// handler's Validate (or Provision) refuses: values are checked there, not by the parser.
func TestCaddyfileGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/caddyfile/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	adapter := caddyconfig.GetAdapter("caddyfile")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(raw), "----------\n")
			if !ok {
				t.Fatal("missing ---------- separator")
			}
			out, _, adaptErr := adapter.Adapt([]byte(input), map[string]any{"filename": "Caddyfile"})
			got := ""
			if adaptErr != nil {
				got = "error: " + adaptErr.Error() + "\n"
			} else {
				var buf bytes.Buffer
				if err := json.Indent(&buf, out, "", "\t"); err != nil {
					t.Fatal(err)
				}
				got = buf.String() + "\n"
			}
			if *update {
				if err := os.WriteFile(file, []byte(input+"----------\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if msg, ok := strings.CutPrefix(want, "invalid: "); ok {
				if adaptErr != nil {
					t.Fatalf("the parser refused it: %v", adaptErr)
				}
				if err := provisionAdapted(t, out); err == nil || !strings.Contains(err.Error(), strings.TrimSpace(msg)) {
					t.Fatalf("want a configuration error containing %q, got %v", strings.TrimSpace(msg), err)
				}
				return
			}
			if strings.HasPrefix(want, "error: ") {
				if adaptErr == nil || !strings.Contains(adaptErr.Error(), strings.TrimSpace(strings.TrimPrefix(want, "error: "))) {
					t.Fatalf("want error containing %q, got %q", strings.TrimSpace(want), got)
				}
				return
			}
			if got != want {
				t.Fatalf("adapted JSON differs (run go test -run TestCaddyfileGolden -update to accept):\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// provisionAdapted provisions and validates the audiences handler of an adapted config.
func provisionAdapted(t *testing.T, config []byte) error {
	t.Helper()
	var doc any
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatal(err)
	}
	raw := audiencesHandler(doc)
	if raw == nil {
		t.Fatal("no audiences handler in the adapted config")
	}
	b, _ := json.Marshal(raw)
	h := new(Handler)
	if err := json.Unmarshal(b, h); err != nil {
		return err
	}
	ctx, cancel := newTestContext()
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		return err
	}
	defer h.Cleanup()
	return h.Validate()
}

func audiencesHandler(v any) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == "audiences" {
			return v
		}
		for _, x := range v {
			if h := audiencesHandler(x); h != nil {
				return h
			}
		}
	case []any:
		for _, x := range v {
			if h := audiencesHandler(x); h != nil {
				return h
			}
		}
	}
	return nil
}
