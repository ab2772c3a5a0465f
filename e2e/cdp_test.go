package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser drives one page of headless Chromium over the DevTools protocol, so a test can
// type, click and read the page as a user would. The protocol runs on a pipe
// (--remote-debugging-pipe): Chromium reads commands on its fd 3 and writes answers and events
// on its fd 4, each a JSON message ended by a NUL byte. No port, no WebSocket, no library.
type browser struct {
	t *testing.T // the test to fail; In gives one for a subtest
	*cdpConn
}

// cdpConn is the running browser and its page.
type cdpConn struct {
	cmd     *exec.Cmd
	stderr  *os.File
	session string // the page's session, for commands to the page

	mu       sync.Mutex
	commands *os.File // our end of Chromium's fd 3
	nextID   int
	waiting  map[int]chan cdpMessage
	problems []string // exceptions, console errors and CSP refusals of the page
	done     chan struct{}
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// cdpTimeout bounds every protocol command and every wait for the page.
const cdpTimeout = 30 * time.Second

// startBrowser starts headless Chromium with a throwaway profile and one blank page; it is
// closed when the test ends.
func startBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	cmdRead, cmdWrite, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	eventRead, eventWrite, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(t.TempDir(), "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1400,1800", "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdRead, eventWrite} // fds 3 and 4
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	cmdRead.Close()
	eventWrite.Close()
	b := &browser{t: t, cdpConn: &cdpConn{cmd: cmd, stderr: stderr, commands: cmdWrite, waiting: map[int]chan cdpMessage{}, done: make(chan struct{})}}
	go b.read(eventRead)
	t.Cleanup(b.close)

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.decode(b.send("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.decode(b.send("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attached)
	b.session = attached.SessionID
	for _, domain := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		b.call(domain, nil)
	}
	return b
}

// In returns the browser for use in the subtest t, which it fails.
func (b *browser) In(t *testing.T) *browser { return &browser{t: t, cdpConn: b.cdpConn} }

// read delivers answers to their commands and records the page's problems until Chromium
// closes its end.
func (b *cdpConn) read(events *os.File) {
	defer close(b.done)
	defer events.Close()
	r := bufio.NewReader(events)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.waiting[m.ID]; ok && m.ID != 0 {
			delete(b.waiting, m.ID)
			ch <- m
		} else if problem := pageProblem(m); problem != "" {
			b.problems = append(b.problems, problem)
		}
		b.mu.Unlock()
	}
}

// pageProblem describes an event that means the page is broken: an uncaught exception, a
// console error, or an error in the browser's log such as a CSP refusal.
func pageProblem(m cdpMessage) string {
	switch m.Method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(m.Params, &p)
		return "exception: " + p.ExceptionDetails.Text + " " + p.ExceptionDetails.Exception.Description
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string            `json:"type"`
			Args []json.RawMessage `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type == "error" {
			return fmt.Sprintf("console error: %s", p.Args)
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			return "log (" + p.Entry.Source + "): " + p.Entry.Text
		}
	}
	return ""
}

// send runs one protocol command, for the page's session or (session "") the browser.
func (b *browser) send(session, method string, params any) json.RawMessage {
	b.t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	out, err := json.Marshal(msg)
	if err == nil {
		_, err = b.commands.Write(append(out, 0))
	}
	b.mu.Unlock()
	if err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		return m.Result
	case <-b.done:
		b.t.Fatalf("%s: chromium exited\n%s", method, b.log())
	case <-time.After(cdpTimeout):
		b.t.Fatalf("%s: no answer in %s\n%s", method, cdpTimeout, b.log())
	}
	return nil
}

// call runs a command on the page.
func (b *browser) call(method string, params any) json.RawMessage {
	b.t.Helper()
	return b.send(b.session, method, params)
}

func (b *browser) decode(raw json.RawMessage, v any) {
	b.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("decoding %s: %v", raw, err)
	}
}

func (b *cdpConn) log() string {
	data, _ := os.ReadFile(b.stderr.Name())
	return lastLines(string(data), 20)
}

// close asks Chromium to quit and kills it if it does not.
func (b *cdpConn) close() {
	b.mu.Lock()
	out, _ := json.Marshal(map[string]any{"id": -1, "method": "Browser.close"})
	_, _ = b.commands.Write(append(out, 0))
	b.commands.Close()
	b.mu.Unlock()
	exited := make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
	b.stderr.Close()
}

// Problems returns the page's problems so far and forgets them.
func (b *cdpConn) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// Navigate opens url as a new document and waits until it has loaded. (A url that differs
// from the current one only in its hash is not a new document: go to about:blank first.)
func (b *browser) Navigate(url string) {
	b.t.Helper()
	b.Eval(`window.cdpPreviousDocument = true`)
	b.call("Page.navigate", map[string]any{"url": url})
	b.WaitFor(`!window.cdpPreviousDocument && document.readyState === "complete"`, "the page at "+url+" to load")
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and returns its
// value as JSON.
func (b *browser) Eval(expr string) json.RawMessage {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.decode(b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}), &res)
	if e := res.ExceptionDetails; e != nil {
		b.t.Fatalf("evaluating %s: %s %s", expr, e.Text, e.Exception.Description)
	}
	return res.Result.Value
}

// evalAs evaluates expr in the page and decodes its value into a T.
func evalAs[T any](b *browser, expr string) T {
	b.t.Helper()
	var v T
	if raw := b.Eval(expr); len(raw) > 0 {
		b.decode(raw, &v)
	}
	return v
}

// WaitFor waits until the expression is true in the page.
func (b *browser) WaitFor(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(cdpTimeout)
	for !evalAs[bool](b, expr) {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitForValue waits until the expression's value, as JSON, is want's; on time-out it fails
// with the last value seen.
func (b *browser) WaitForValue(expr string, want any) {
	b.t.Helper()
	wantJSON := plainJSON(b.t, want)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got any
		b.decode(b.Eval(expr), &got)
		gotJSON := plainJSON(b.t, got)
		if gotJSON == wantJSON {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s\n got %s\nwant %s", expr, gotJSON, wantJSON)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// plainJSON is v as JSON without HTML escapes, for messages a human compares.
func plainJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String())
}

// element is the JavaScript that finds the element selector names, or throws.
func element(selector string) string {
	sel, _ := json.Marshal(selector)
	return fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) throw new Error("no element " + %[1]s); return e; })()`, sel)
}

// Click clicks the middle of the element with the mouse, as a user does.
func (b *browser) Click(selector string) {
	b.t.Helper()
	at := evalAs[struct{ X, Y, Width float64 }](b, `(() => { const e = `+element(selector)+`;
		e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
		return {x: r.left + r.width / 2, y: r.top + r.height / 2, width: r.width}; })()`)
	if at.Width == 0 {
		b.t.Fatalf("cannot click %s: it is not shown", selector)
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		b.call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1})
	}
}

// Type focuses the element and types text into it, as a keyboard does.
func (b *browser) Type(selector, text string) {
	b.t.Helper()
	b.Eval(element(selector) + `.focus()`)
	b.call("Input.insertText", map[string]any{"text": text})
}

// Select picks the option with value in a select element, as choosing it from the list does:
// the value changes and a change event fires.
func (b *browser) Select(selector, value string) {
	b.t.Helper()
	v, _ := json.Marshal(value)
	if !evalAs[bool](b, `(() => { const e = `+element(selector)+`; e.focus(); e.value = `+string(v)+`;
		e.dispatchEvent(new Event("change", {bubbles: true})); return e.value === `+string(v)+`; })()`) {
		b.t.Fatalf("select %s has no option %s", selector, v)
	}
}

// Screenshot saves the whole page as a PNG.
func (b *browser) Screenshot(path string) {
	b.t.Helper()
	var metrics struct {
		Content struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	b.decode(b.call("Page.getLayoutMetrics", nil), &metrics)
	var shot struct {
		Data string `json:"data"`
	}
	clip := map[string]any{"x": 0, "y": 0, "width": metrics.Content.Width, "height": metrics.Content.Height, "scale": 1}
	b.decode(b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true, "clip": clip}), &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
