// Package e2e runs the real caddy binary with the audiences module in front of the real demo
// store, both on loopback ports.
package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Paths of the binaries under test, set by TestMain.
var (
	caddyBin string
	storeBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	caddyBin, storeBin = os.Getenv("CADDY_BIN"), os.Getenv("DEMOSTORE_BIN")
	if caddyBin == "" || storeBin == "" {
		dir, err := os.MkdirTemp("", "audiences-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		caddyBin, storeBin = filepath.Join(dir, "caddy"), filepath.Join(dir, "demostore")
		for bin, pkg := range map[string]string{caddyBin: "../cmd/caddy", storeBin: "../cmd/demostore"} {
			if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
				return 1
			}
		}
	}
	return m.Run()
}

// handedOut remembers the ports freeAddr gave, so two processes of a test never get one.
var handedOut sync.Map

// freeAddr returns a loopback address with a port that was free a moment ago and that no
// earlier call handed out (the kernel may give a just-closed port again).
func freeAddr(t *testing.T) string {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
}

// output is a process's output so far, safe to read while it runs.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startProcess starts a binary that lives as long as the test and whose output is shown
// when the test fails; it returns the output.
func startProcess(t *testing.T, bin string, env []string, args ...string) *output {
	t.Helper()
	out := new(output)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(bin), lastLines(out.String(), 60))
		}
	})
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls url until it answers or the deadline passes.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not become ready", url)
}

// startStore starts the demo store and returns its host:port.
func startStore(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	startProcess(t, storeBin, nil, append([]string{"-listen", addr}, args...)...)
	waitReady(t, "http://"+addr+"/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D")
	return addr
}

// startSidecar runs bin/caddy with the site block body given (the audiences directive and
// its options), proxying to upstream, and returns the sidecar's base URL.
func startSidecar(t *testing.T, upstream, audiencesBlock string) string {
	t.Helper()
	return launchSidecar(t, upstream, audiencesBlock).base
}

// sidecar is a running bin/caddy: its site's base URL, its admin address and Caddyfile,
// and its output.
type sidecar struct {
	base, admin, caddyfile string
	output                 *output
}

// launchSidecar is startSidecar returning everything about the running sidecar.
func launchSidecar(t *testing.T, upstream, audiencesBlock string) sidecar {
	t.Helper()
	return launchSidecarWithSites(t, upstream, audiencesBlock, nil)
}

// launchSidecarWithSites is launchSidecar with more site blocks, written by extraSites from
// the admin address.
func launchSidecarWithSites(t *testing.T, upstream, audiencesBlock string, extraSites func(admin string) string) sidecar {
	t.Helper()
	dir := t.TempDir()
	addr, admin := freeAddr(t), freeAddr(t)
	caddyfile := fmt.Sprintf(`{
	admin %s
	auto_https off
	persist_config off
	storage file_system %s
}

http://%s {
	%s
	reverse_proxy %s
}
`, admin, filepath.Join(dir, "data"), addr, audiencesBlock, upstream)
	if extraSites != nil {
		caddyfile += "\n" + extraSites(admin)
	}
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
	out := startProcess(t, caddyBin, env, "run", "--config", path, "--adapter", "caddyfile")
	base := "http://" + addr
	waitReady(t, base+"/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D")
	return sidecar{base: base, admin: admin, caddyfile: path, output: out}
}
