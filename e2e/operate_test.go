package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const vipRules = `{"rules": [{"id": "vip", "label": "VIP %s", "audiences": {"any": ["` + segVIP + `"]},
  "action": {"type": "by_percent", "amount": %s}}]}`

// rulesWrites makes every rewrite of a rule file visible to the sidecar's modification-time
// check, even on a file system with coarse timestamps.
var rulesWrites atomic.Int64

func writeRules(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Now().Add(time.Duration(rulesWrites.Add(1)) * time.Second)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// eventually retries check until it passes or the deadline runs out.
func eventually(t *testing.T, within time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if check() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not seen within %v", what, within)
}

// TestLiveReload changes the rule file under a running sidecar: a valid change is picked up
// within the interval, an invalid one keeps the last good set, a fix recovers.
func TestLiveReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	store := startStore(t)
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	writeRules(t, rulesPath, strings.Replace(strings.Replace(vipRules, "%s", "20%", 1), "%s", "20", 1))
	sc := launchSidecar(t, store, "audiences {\n\t\trules "+rulesPath+"\n\t\treload_interval 100ms\n\t}")
	cartID := newCart(t, sc.base, line{"24-MB01", 1})
	query := `query($c: String!) { cart(cart_id: $c) { prices { discounts { label amount { value } } } } }`
	discount := func() string {
		r := graphql(t, sc.base, query, map[string]any{"c": cartID}, map[string]string{"aep-segments-membership": segVIP})
		return string(r.body)
	}
	if d := discount(); !strings.Contains(d, `"VIP 20%","amount":{"value":6.8}`) {
		t.Fatalf("initial rules: %s", d)
	}
	writeRules(t, rulesPath, strings.Replace(strings.Replace(vipRules, "%s", "30%", 1), "%s", "30", 1))
	eventually(t, 5*time.Second, "valid change", func() bool { return strings.Contains(discount(), `"VIP 30%","amount":{"value":10.2}`) })

	writeRules(t, rulesPath, `{"rules": [{"id": "vip", "action": {"type": "by_percnt", "amount": 50}}]}`)
	time.Sleep(500 * time.Millisecond)
	if d := discount(); !strings.Contains(d, "VIP 30%") {
		t.Fatalf("an invalid file replaced the rule set: %s", d)
	}
	metrics := adminGet(t, sc.admin, "/metrics")
	if !regexp.MustCompile(`caddy_audiences_reload_errors_total\{handler="default"\} [1-9]`).MatchString(metrics) {
		t.Fatalf("reload error not counted:\n%s", grepLines(metrics, "caddy_audiences"))
	}

	writeRules(t, rulesPath, strings.Replace(strings.Replace(vipRules, "%s", "40%", 1), "%s", "40", 1))
	eventually(t, 5*time.Second, "recovery", func() bool { return strings.Contains(discount(), `"VIP 40%"`) })
}

// TestMetricsSurviveConfigReload checks the metrics exist and keep counting after caddy reload.
func TestMetricsSurviveConfigReload(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	store := startStore(t)
	sc := launchSidecar(t, store, "audiences {\n\t\trules testdata/rules.json\n\t\tname luma\n\t}")
	cartID := newCart(t, sc.base, line{"24-MB01", 2})
	query := `query($c: String!) { cart(cart_id: $c) { prices { grand_total { value } } } }`
	vip := map[string]string{"aep-segments-membership": segVIP}
	r := graphql(t, sc.base, query, map[string]any{"c": cartID}, vip)
	if !strings.HasPrefix(r.header.Get("Server-Timing"), "audiences;dur=") {
		t.Fatalf("Server-Timing = %q", r.header.Get("Server-Timing"))
	}
	rewritten := metricValue(t, adminGet(t, sc.admin, "/metrics"), `caddy_audiences_rewrites_total{outcome="rewritten"}`)
	if rewritten < 1 {
		t.Fatalf("rewrites not counted: %v", rewritten)
	}
	for _, want := range []string{`caddy_audiences_requests_total{membership="header"}`, `caddy_audiences_rule_applications_total{rule="vip-20"}`,
		`caddy_audiences_discount_amount_total{currency="USD"}`, `caddy_audiences_rules_loaded{handler="luma"} 7`, `caddy_audiences_rewrite_duration_seconds_count`} {
		if !strings.Contains(adminGet(t, sc.admin, "/metrics"), want) {
			t.Fatalf("metric %s missing", want)
		}
	}

	loadedAt := regexp.MustCompile(`"loaded_at": "[^"]+"`)
	before := loadedAt.FindString(adminGet(t, sc.admin, "/audiences/rules"))
	out, err := exec.Command(caddyBin, "reload", "--config", sc.caddyfile, "--adapter", "caddyfile", "--address", sc.admin, "--force").CombinedOutput()
	if err != nil {
		t.Fatalf("caddy reload: %v\n%s", err, out)
	}
	if after := loadedAt.FindString(adminGet(t, sc.admin, "/audiences/rules")); before == "" || after != before {
		t.Fatalf("caddy reload recompiled unchanged rules: loaded_at %s then %s", before, after)
	}
	graphql(t, sc.base, query, map[string]any{"c": cartID}, vip)
	after := metricValue(t, adminGet(t, sc.admin, "/metrics"), `caddy_audiences_rewrites_total{outcome="rewritten"}`)
	if after != rewritten+1 {
		t.Fatalf("after caddy reload the counter went from %v to %v, want %v", rewritten, after, rewritten+1)
	}
}

// TestPreviewTime evaluates a future promotion with the staging preview header.
func TestPreviewTime(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	store := startStore(t)
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	writeRules(t, rulesPath, `{"timezone": "America/Los_Angeles", "rules": [{"id": "black-friday", "label": "Black Friday", "from": "2030-11-29", "to": "2030-11-29", "action": {"type": "by_percent", "amount": 25}}]}`)
	query := `query($c: String!) { cart(cart_id: $c) { prices { discounts { label } } } }`
	for _, enabled := range []bool{true, false} {
		block := "audiences {\n\t\trules " + rulesPath + "\n\t}"
		if enabled {
			block = "audiences {\n\t\trules " + rulesPath + "\n\t\tpreview_time_header X-Preview-Time\n\t}"
		}
		sc := launchSidecar(t, store, block)
		cartID := newCart(t, sc.base, line{"24-UG06", 1})
		for at, want := range map[string]bool{"2030-11-29T09:00:00-08:00": enabled, "2030-11-30T09:00:00-08:00": false, "not a time": false} {
			r := graphql(t, sc.base, query, map[string]any{"c": cartID}, map[string]string{"X-Preview-Time": at})
			if got := strings.Contains(string(r.body), "Black Friday"); got != want {
				t.Errorf("option %v, preview %s: discount shown %v, want %v: %s", enabled, at, got, want, r.body)
			}
			if want && r.header.Get("X-Audiences-Preview-Time") == "" {
				t.Errorf("preview response without X-Audiences-Preview-Time")
			}
		}
		if r := graphql(t, sc.base, query, map[string]any{"c": cartID}, nil); strings.Contains(string(r.body), "Black Friday") {
			t.Errorf("a future rule applied today: %s", r.body)
		}
	}
}

func adminGet(t *testing.T, admin, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

// metricValue returns the value of the sample whose name and labels are exactly series.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("series %s not found in:\n%s", series, grepLines(exposition, "caddy_audiences"))
	return 0
}

func grepLines(s, substr string) string {
	var out bytes.Buffer
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}
