package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// compileDoc accepts documents that start with "ok" and compiles them to their text.
func compileDoc(data []byte) (string, error) {
	if !strings.HasPrefix(string(data), "ok") {
		return "", fmt.Errorf("invalid document %q", data)
	}
	return string(data), nil
}

func writeFile(t *testing.T, path, content string, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.json")
	base := time.Now().Add(-time.Hour)
	writeFile(t, path, "ok v1", base)
	var errorsSeen []string
	w, err := New(Options{Location: path, OnError: func(err error) { errorsSeen = append(errorsSeen, err.Error()) }}, compileDoc)
	if err != nil {
		t.Fatal(err)
	}
	if w.Current() != "ok v1" {
		t.Fatalf("current %q", w.Current())
	}
	v1 := w.Status().Version
	ctx := context.Background()

	if changed, err := w.Reload(ctx); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}

	writeFile(t, path, "ok v2", base.Add(time.Minute))
	if changed, err := w.Reload(ctx); !changed || err != nil || w.Current() != "ok v2" {
		t.Fatalf("valid change: changed=%v err=%v current=%q", changed, err, w.Current())
	}
	if w.Status().Version == v1 || w.Status().Loads != 2 {
		t.Fatalf("status after change: %+v", w.Status())
	}

	writeFile(t, path, "broken", base.Add(2*time.Minute))
	for range 3 {
		if _, err := w.Reload(ctx); err == nil {
			t.Fatal("an invalid document must be an error")
		}
	}
	if w.Current() != "ok v2" {
		t.Fatalf("the last good version must stay, got %q", w.Current())
	}
	st := w.Status()
	if st.LastError == "" || st.Failures != 3 || len(errorsSeen) != 1 {
		t.Fatalf("after failures: %+v, OnError called %d times (want once per distinct error)", st, len(errorsSeen))
	}

	writeFile(t, path, "ok v3", base.Add(3*time.Minute))
	if changed, err := w.Reload(ctx); !changed || err != nil || w.Current() != "ok v3" || w.Status().LastError != "" {
		t.Fatalf("recovery: changed=%v err=%v %+v", changed, err, w.Status())
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Reload(ctx); err == nil || w.Current() != "ok v3" {
		t.Fatalf("a missing file keeps the last good version: %v %q", err, w.Current())
	}
}

func TestFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	writeFile(t, path, "ok "+strings.Repeat("x", 100), time.Now())
	if _, err := New(Options{Location: path, MaxBytes: 50}, compileDoc); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestFirstLoadMustSucceed(t *testing.T) {
	if _, err := New(Options{Location: filepath.Join(t.TempDir(), "missing.json")}, compileDoc); err == nil {
		t.Fatal("a missing file on the first load must be an error")
	}
	if _, err := New(Options{Inline: []byte("bad")}, compileDoc); err == nil {
		t.Fatal("invalid inline must be an error")
	}
	if _, err := New(Options{}, compileDoc); err == nil {
		t.Fatal("no source must be an error")
	}
	w, err := New(Options{Inline: []byte("ok inline")}, compileDoc)
	if err != nil || w.Current() != "ok inline" || w.Status().Source != "inline" {
		t.Fatalf("inline: %v %+v", err, w.Status())
	}
	w.Start() // inline documents are not polled
	w.Stop()
}

func TestPolling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.json")
	writeFile(t, path, "ok v1", time.Now().Add(-time.Hour))
	loaded := make(chan Status, 4)
	w, err := New(Options{Location: path, Interval: 20 * time.Millisecond, OnLoad: func(s Status) { loaded <- s }}, compileDoc)
	if err != nil {
		t.Fatal(err)
	}
	<-loaded
	w.Start()
	defer w.Stop()
	writeFile(t, path, "ok v2", time.Now())
	select {
	case <-loaded:
	case <-time.After(5 * time.Second):
		t.Fatal("the change was not picked up by polling")
	}
	if w.Current() != "ok v2" {
		t.Fatalf("current %q", w.Current())
	}
}

// docServer serves a document with an ETag and can misbehave on demand.
type docServer struct {
	mu       sync.Mutex
	body     string
	mode     string // "", "500", "slow", "huge", "no-length-huge"
	requests atomic.Int64
	notMod   atomic.Int64
}

func (s *docServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	body, mode := s.body, s.mode
	s.mu.Unlock()
	etag := `"` + Version([]byte(body)) + `"`
	switch mode {
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case "slow":
		time.Sleep(300 * time.Millisecond)
	case "huge":
		w.Header().Set("Content-Length", strconv.Itoa(20<<20))
		_, _ = w.Write([]byte(strings.Repeat("x", 20<<20)))
		return
	case "no-length-huge":
		for range 20 {
			_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
		}
		return
	}
	if r.Header.Get("If-None-Match") == etag {
		s.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	_, _ = w.Write([]byte(body))
}

func (s *docServer) set(body, mode string) {
	s.mu.Lock()
	s.body, s.mode = body, mode
	s.mu.Unlock()
}

func TestURLSource(t *testing.T) {
	srv := &docServer{body: "ok v1"}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	w, err := New(Options{Location: ts.URL, Timeout: 10 * time.Second}, compileDoc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if changed, err := w.Reload(ctx); changed || err != nil || srv.notMod.Load() != 1 {
		t.Fatalf("ETag: changed=%v err=%v 304s=%d", changed, err, srv.notMod.Load())
	}
	srv.set("ok v2", "")
	if changed, err := w.Reload(ctx); !changed || err != nil || w.Current() != "ok v2" {
		t.Fatalf("change: changed=%v err=%v", changed, err)
	}
	for _, mode := range []string{"500", "slow", "huge", "no-length-huge"} {
		srv.set("ok v3", mode)
		timeout := 10 * time.Second // the size limit, not the clock, must stop a huge body
		if mode == "slow" {
			timeout = 100 * time.Millisecond
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := w.Reload(rctx)
		cancel()
		if err == nil {
			t.Fatalf("%s: want an error", mode)
		}
		if w.Current() != "ok v2" {
			t.Fatalf("%s: last good version lost, got %q", mode, w.Current())
		}
		if mode == "huge" || mode == "no-length-huge" {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: err = %v, want ErrTooLarge", mode, err)
			}
		}
	}
	srv.set("broken", "")
	if _, err := w.Reload(ctx); err == nil || w.Current() != "ok v2" {
		t.Fatalf("invalid document over HTTP: %v %q", err, w.Current())
	}
	srv.set("ok v3", "")
	if changed, err := w.Reload(ctx); !changed || err != nil || w.Current() != "ok v3" {
		t.Fatalf("recovery: changed=%v err=%v", changed, err)
	}
	if st := w.Status(); st.Failures != 5 || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// fetchSource is a FetchFunc whose answer and failure the test sets.
type fetchSource struct {
	mu       sync.Mutex
	body     string
	err      error
	calls    int
	deadline bool // the last call had a deadline
}

func (s *fetchSource) fetch(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	_, s.deadline = ctx.Deadline()
	if s.err != nil {
		return nil, s.err
	}
	return []byte(s.body), nil
}

func (s *fetchSource) set(body string, err error) {
	s.mu.Lock()
	s.body, s.err = body, err
	s.mu.Unlock()
}

func TestFetchSource(t *testing.T) {
	src := &fetchSource{body: "ok v1"}
	var errorsSeen, loads int
	w, err := New(Options{
		Location: "aep:prod", Fetch: src.fetch, MaxBytes: 64,
		OnError: func(error) { errorsSeen++ },
		OnLoad:  func(Status) { loads++ },
	}, compileDoc)
	if err != nil {
		t.Fatal(err)
	}
	if w.Current() != "ok v1" || w.Status().Source != "aep:prod" || !src.deadline {
		t.Fatalf("first load: %q %+v (deadline %v)", w.Current(), w.Status(), src.deadline)
	}
	ctx := context.Background()
	steps := []struct {
		name    string
		body    string
		err     error
		changed bool
		wantErr string
		current string
	}{
		{"same answer", "ok v1", nil, false, "", "ok v1"},
		{"new answer", "ok v2", nil, true, "", "ok v2"},
		{"outage", "", errors.New("platform.adobe.io: connection refused"), false, "aep:prod: platform.adobe.io: connection refused", "ok v2"},
		{"outage again", "", errors.New("platform.adobe.io: connection refused"), false, "connection refused", "ok v2"},
		{"invalid answer", "broken", nil, false, "invalid document", "ok v2"},
		{"too large", "ok " + strings.Repeat("x", 100), nil, false, "too large", "ok v2"},
		{"recovery with the same answer", "ok v2", nil, false, "", "ok v2"},
		{"recovery", "ok v3", nil, true, "", "ok v3"},
	}
	for _, step := range steps {
		src.set(step.body, step.err)
		changed, err := w.Reload(ctx)
		if changed != step.changed || (err == nil) != (step.wantErr == "") ||
			(err != nil && !strings.Contains(err.Error(), step.wantErr)) || w.Current() != step.current {
			t.Fatalf("%s: changed=%v err=%v current=%q; want changed=%v err~%q current=%q",
				step.name, changed, err, w.Current(), step.changed, step.wantErr, step.current)
		}
		if step.wantErr == "" && w.Status().LastError != "" {
			t.Fatalf("%s: the last error stays after a good fetch: %+v", step.name, w.Status())
		}
	}
	if st := w.Status(); st.Loads != 3 || st.Failures != 4 || loads != 3 || errorsSeen != 3 {
		t.Fatalf("status %+v, OnLoad %d, OnError %d (want 3 loads, 4 failures, 3 distinct errors)", st, loads, errorsSeen)
	}
}

func TestFetchSourceOptions(t *testing.T) {
	src := &fetchSource{body: "ok"}
	if _, err := New(Options{Fetch: src.fetch, Inline: []byte("ok")}, compileDoc); err == nil {
		t.Fatal("Fetch and Inline together must be an error")
	}
	src.set("", errors.New("down"))
	if _, err := New(Options{Fetch: src.fetch}, compileDoc); err == nil || !strings.Contains(err.Error(), "fetch: down") {
		t.Fatalf("a failed first fetch: err = %v", err)
	}
}

func TestFetchSourcePolling(t *testing.T) {
	src := &fetchSource{body: "ok v1"}
	loaded := make(chan Status, 4)
	w, err := New(Options{Fetch: src.fetch, Interval: 10 * time.Millisecond, OnLoad: func(s Status) { loaded <- s }}, compileDoc)
	if err != nil {
		t.Fatal(err)
	}
	<-loaded
	w.Start()
	defer w.Stop()
	src.set("ok v2", nil)
	select {
	case <-loaded:
	case <-time.After(5 * time.Second):
		t.Fatal("the new answer was not picked up by polling")
	}
	if w.Current() != "ok v2" {
		t.Fatalf("current %q", w.Current())
	}
}

func TestLenientStartsEmpty(t *testing.T) {
	var up atomic.Bool
	fetch := func(context.Context) ([]byte, error) {
		if !up.Load() {
			return nil, errors.New("platform down")
		}
		return []byte("v1"), nil
	}
	compile := func(b []byte) (*string, error) { s := string(b); return &s, nil }
	if _, err := New(Options{Location: "remote", Fetch: fetch}, compile); err == nil {
		t.Fatal("a strict watcher started without a version")
	}
	w, err := New(Options{Location: "remote", Fetch: fetch, Lenient: true, Interval: 10 * time.Millisecond}, compile)
	if err != nil {
		t.Fatal(err)
	}
	if w.Loaded() || w.Current() != nil {
		t.Fatalf("lenient start: loaded %v, current %v", w.Loaded(), w.Current())
	}
	w.Start()
	defer w.Stop()
	for deadline := time.Now().Add(5 * time.Second); w.Status().LastError == ""; {
		if time.Now().After(deadline) {
			t.Fatal("the first load was not tried at Start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	up.Store(true)
	for deadline := time.Now().Add(5 * time.Second); !w.Loaded(); {
		if time.Now().After(deadline) {
			t.Fatal("the catalog was not loaded after the outage")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if *w.Current() != "v1" {
		t.Fatalf("current %q", *w.Current())
	}
}
