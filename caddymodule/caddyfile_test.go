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
// "----------" line, and after it either the JSON it adapts to or "error: <substring>".
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
