package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dashboardCatalog names the audiences of testdata/rules.json; one name must come out
// escaped.
const dashboardCatalog = `{"audiences": [
  {"id": "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01", "name": "VIP shoppers", "description": "Lifetime value over $1,000",
   "origin": "Experience Platform", "websites": ["Luma US"], "last_updated": "2026-11-01"},
  {"id": "0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5", "name": "Bag lovers <b>BOGO</b>", "origin": "Experience Platform",
   "websites": ["Luma US", "Luma CA"], "last_updated": "2026-10-15"},
  {"id": "3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03", "name": "Lapsed customers", "origin": "Custom upload",
   "websites": ["Luma US"], "last_updated": "2026-09-30"}
]}`

// TestDashboard renders the admin dashboard of the real binary in headless Chromium and
// checks the audience table (names, hit counts, rules), the rule table, and the simulate
// form run through its own script.
func TestDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	chromium := findChromium(t)
	dir := t.TempDir()
	catalogPath := filepath.Join(dir, "audiences.json")
	if err := os.WriteFile(catalogPath, []byte(dashboardCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	rulesPath, err := filepath.Abs(filepath.Join("testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	store := startStore(t)
	sc := startSidecarWithAdmin(t, store, fmt.Sprintf("audiences {\n\t\tname luma-us\n\t\trules %s\n\t\taudiences %s\n\t}", rulesPath, catalogPath))

	// Three VIP shoppers, one of them also a bag lover.
	query := `{ storeConfig { store_code } }`
	for _, membership := range []string{segVIP, segVIP + "," + segBOGO, segVIP} {
		if r := graphql(t, sc.base, query, nil, map[string]string{"aep-segments-membership": membership}); r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}

	t.Run("admin endpoint refuses browser navigation", func(t *testing.T) {
		// Caddy's admin checks the origin of any request with Sec-Fetch-Mode, and a typed-in
		// navigation has none: this is why the dashboard needs the proxy site.
		dom := runChromium(t, chromium, "--dump-dom", "http://"+sc.admin+"/audiences/ui")
		if strings.Contains(dom, "<h1>Audiences</h1>") {
			t.Log("Caddy's admin endpoint now serves browser navigations; the dashboard proxy may no longer be needed")
		} else if !strings.Contains(dom, "not allowed to access from origin") {
			t.Errorf("unexpected answer to a direct navigation:\n%s", dom)
		}
	})

	t.Run("tables", func(t *testing.T) {
		dom := runChromium(t, chromium, "--dump-dom", sc.dashboard+"/audiences/ui")
		rows := tableRows(t, dom, "audiences")
		want := map[string][]string{
			"VIP shoppers":                       {"Experience Platform", "Luma US", "vip-20, watch-5-unlabelled", "2026-11-01", "3 / 3"},
			"Bag lovers &lt;b&gt;BOGO&lt;/b&gt;": {"Experience Platform", "Luma US, Luma CA", "bags-bogo, watch-5-unlabelled", "2026-10-15", "1 / 1"},
			"Lapsed customers":                   {"Custom upload", "Luma US", "lapsed-10-off", "2026-09-30", "0 / 0"},
			"free-ship-club":                     {"", "", "club-shipping-half, club-stop, never-after-stop", "", "0 / 0"},
		}
		for name, cells := range want {
			row, ok := rows[name]
			if !ok {
				t.Errorf("audience table has no row %q; rows: %q", name, rows)
				continue
			}
			if got := strings.Join(row[1:], " | "); got != strings.Join(cells, " | ") {
				t.Errorf("row %q:\n got %s\nwant %s", name, got, strings.Join(cells, " | "))
			}
		}
		if strings.Contains(dom, "<b>BOGO</b>") {
			t.Error("an audience name was rendered as HTML")
		}
		rules := tableRows(t, dom, "rules")
		for _, id := range []string{"vip-20", "bags-bogo", "lapsed-10-off", "watch-5-unlabelled", "club-shipping-half", "club-stop", "never-after-stop"} {
			row, ok := rules[id]
			if !ok || row[len(row)-1] != "active" {
				t.Errorf("rule table row %q = %q, want it listed as active", id, row)
			}
		}
		if !strings.Contains(dom, `audience "free-ship-club" is used by rules`) {
			t.Error("no warning about the audience missing from the catalog")
		}
	})

	t.Run("simulate", func(t *testing.T) {
		req := map[string]any{
			"cart":     map[string]any{"currency": "USD", "items": []map[string]any{{"sku": "24-MB01", "qty": 2, "price": 34}}},
			"segments": []string{segVIP},
			"at":       "2026-11-27T09:00:00-08:00",
		}
		raw, _ := json.Marshal(req)
		link := sc.dashboard + "/audiences/ui#sim=" + url.PathEscape(string(raw))
		dom := runChromium(t, chromium, "--virtual-time-budget=10000", "--dump-dom", link)
		shot := filepath.Join(t.TempDir(), "dashboard-simulate.png")
		runChromium(t, chromium, "--virtual-time-budget=10000", "--screenshot="+shot, "--window-size=1400,2400", link)
		t.Logf("screenshot: %s", shot)
		if dst := os.Getenv("DASHBOARD_SCREENSHOT"); dst != "" {
			copyFile(t, shot, strings.TrimSuffix(dst, ".png")+"-simulate.png")
		}
		if !strings.Contains(dom, `<h3 id="summary">Total discount 13.6 (shipping 0)</h3>`) {
			t.Errorf("simulation summary missing; result section:\n%s", section(dom, `id="result"`))
		}
		if !strings.Contains(dom, `<tr class="applied"><td>vip-20</td><td>yes</td><td></td><td class="num">13.60</td></tr>`) {
			t.Errorf("trace row of vip-20 missing; result section:\n%s", section(dom, `id="result"`))
		}
	})

	shot := filepath.Join(t.TempDir(), "dashboard.png")
	runChromium(t, chromium, "--screenshot="+shot, "--window-size=1400,1800", sc.dashboard+"/audiences/ui")
	if info, err := os.Stat(shot); err != nil || info.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (size %v)", shot, err, info)
	}
	t.Logf("screenshot: %s", shot)
	// DASHBOARD_SCREENSHOT keeps a copy, for a human to look at.
	if dst := os.Getenv("DASHBOARD_SCREENSHOT"); dst != "" {
		copyFile(t, shot, dst)
	}
}

// findChromium returns the Chromium binary; without one the test is skipped, except on CI
// where a missing browser must not pass unnoticed (scripts/ensure-chromium.sh installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("chromium not found on PATH; run scripts/ensure-chromium.sh")
	}
	t.Skip("chromium not found on PATH; run scripts/ensure-chromium.sh")
	return ""
}

// runChromium runs headless Chromium with a throwaway profile and returns its stdout.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 30))
	}
	return stdout.String()
}

var (
	cellPattern = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagPattern  = regexp.MustCompile(`<[^>]+>`)
	rowPattern  = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
)

// tableRows returns the body rows of the table with the given class, keyed by the text of
// their first cell (its first line: the name, not the id below it), each as cell texts.
func tableRows(t *testing.T, dom, class string) map[string][]string {
	t.Helper()
	start := strings.Index(dom, `<table class="`+class+`">`)
	if start < 0 {
		t.Fatalf("no table %q in the page:\n%s", class, dom)
	}
	table := dom[start:]
	table = table[:strings.Index(table, "</table>")]
	rows := make(map[string][]string)
	for _, row := range rowPattern.FindAllStringSubmatch(table, -1) {
		var cells []string
		for _, c := range cellPattern.FindAllStringSubmatch(row[1], -1) {
			first, _, _ := strings.Cut(c[1], "<br>")
			text := strings.TrimSpace(tagPattern.ReplaceAllString(first, ""))
			text = strings.TrimSuffix(text, " not in catalog")
			cells = append(cells, strings.TrimSpace(text))
		}
		if len(cells) > 0 {
			rows[cells[0]] = cells
		}
	}
	return rows
}

// section returns a little of dom from the first occurrence of marker, for failure messages.
func section(dom, marker string) string {
	i := strings.Index(dom, marker)
	if i < 0 {
		return "(not found)"
	}
	return dom[i:min(len(dom), i+2000)]
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
