// Package sources loads a configuration document (a rule set, an audience catalog) from a
// local file, an HTTP(S) URL, inline bytes or a function that produces it (such as the
// Experience Platform catalog sync), keeps the last good version, and reloads it when it
// changes. A failed load never replaces what is in force.
package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 16 << 20
)

// Compile turns the bytes of a document into its compiled form.
type Compile[T any] func(data []byte) (T, error)

// FetchFunc produces the current bytes of a document from a source that is neither a file
// nor a URL. It is called on every check; the document counts as changed when its bytes do.
type FetchFunc func(ctx context.Context) ([]byte, error)

// Options say where a document comes from and how it is watched.
type Options struct {
	// Location is a file path or an http:// or https:// URL; empty with Inline set. With
	// Fetch set it only names the source in Status.
	Location string
	// Inline is the document itself, for configs that embed it; it is never reloaded.
	Inline []byte
	// Fetch, when set, produces the document instead of a file or URL; it is called every
	// Interval with a context bounded by Timeout, and its answer is held to MaxBytes.
	Fetch FetchFunc
	// Interval is how often the source is checked for changes.
	Interval time.Duration
	// Timeout bounds one HTTP fetch.
	Timeout time.Duration
	// MaxBytes is the largest document accepted.
	MaxBytes int64
	// Client fetches URLs; nil means a client with Timeout.
	Client *http.Client
	// OnError is called once per distinct load error (not for every failed poll).
	OnError func(error)
	// OnLoad is called after a new version was put in force.
	OnLoad func(Status)
	// Lenient starts the watcher without waiting for the first load: New returns at once,
	// without a version (Current returns the zero value, Loaded false), and Start loads at
	// once, then every Interval, until a version is in force. For sources a store must not
	// wait for, such as a remote service that may be down.
	Lenient bool
}

// Status describes the version in force and the last problem.
type Status struct {
	Source    string    `json:"source"`
	Version   string    `json:"version"`
	LoadedAt  time.Time `json:"loaded_at"`
	LastError string    `json:"last_error,omitempty"`
	ErrorAt   time.Time `json:"last_error_at,omitzero"`
	Loads     int64     `json:"loads"`
	Failures  int64     `json:"failures"`
}

// Watcher holds the compiled document in force and reloads it.
type Watcher[T any] struct {
	opt     Options
	compile Compile[T]
	fetch   fetcher

	current atomic.Pointer[T]

	mu      sync.Mutex // serializes loads and guards status
	status  Status
	lastErr string

	stop chan struct{}
	done chan struct{}
}

// New loads the document once, within Timeout, and returns a watcher holding it. The first
// load must succeed — there is no last good version yet — unless Options.Lenient.
func New[T any](opt Options, compile Compile[T]) (*Watcher[T], error) {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	f, err := newFetcher(opt)
	if err != nil {
		return nil, err
	}
	w := &Watcher[T]{opt: opt, compile: compile, fetch: f}
	w.status.Source = f.describe()
	if opt.Lenient {
		return w, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opt.Timeout)
	defer cancel()
	if _, err := w.Reload(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// Current returns the compiled document in force (the zero value before a lenient
// watcher's first load). Callers keep what they loaded for the whole request, so a reload
// never changes a request half-way.
func (w *Watcher[T]) Current() T {
	if p := w.current.Load(); p != nil {
		return *p
	}
	var zero T
	return zero
}

// Loaded reports whether a version is in force.
func (w *Watcher[T]) Loaded() bool { return w.current.Load() != nil }

// Status returns a copy of the watcher's status.
func (w *Watcher[T]) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Reload checks the source now. It reports whether a new version was put in force; on an
// error the previous version stays.
func (w *Watcher[T]) Reload(ctx context.Context) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, unchanged, err := w.fetch.fetch(ctx)
	if err == nil && unchanged && w.current.Load() != nil {
		return false, nil
	}
	var compiled T
	if err == nil {
		compiled, err = w.compile(data)
	}
	if err != nil {
		w.fail(err)
		return false, err
	}
	version := Version(data)
	if version == w.status.Version && w.current.Load() != nil {
		w.fetch.commit()
		w.lastErr, w.status.LastError = "", ""
		return false, nil
	}
	w.current.Store(&compiled)
	w.fetch.commit()
	w.lastErr, w.status.LastError = "", ""
	w.status.Version, w.status.LoadedAt = version, time.Now()
	w.status.Loads++
	if w.opt.OnLoad != nil {
		w.opt.OnLoad(w.status)
	}
	return true, nil
}

// fail records a failed load; OnError hears of each distinct error once.
func (w *Watcher[T]) fail(err error) {
	w.fetch.rollback()
	w.status.Failures++
	w.status.LastError, w.status.ErrorAt = err.Error(), time.Now()
	if err.Error() != w.lastErr && w.opt.OnError != nil {
		w.opt.OnError(err)
	}
	w.lastErr = err.Error()
}

// Start polls the source every Interval until Stop. Inline documents are not polled.
func (w *Watcher[T]) Start() {
	if w.fetch.static() || w.stop != nil {
		return
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.poll(w.stop, w.done)
}

func (w *Watcher[T]) poll(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(w.opt.Interval)
	defer ticker.Stop()
	if w.opt.Lenient && !w.Loaded() {
		ctx, cancel := context.WithTimeout(context.Background(), w.opt.Timeout)
		_, _ = w.Reload(ctx)
		cancel()
	}
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), w.opt.Timeout)
			_, _ = w.Reload(ctx)
			cancel()
		}
	}
}

// Stop ends polling and waits for a poll under way.
func (w *Watcher[T]) Stop() {
	if w.stop == nil {
		return
	}
	close(w.stop)
	<-w.done
	w.stop = nil
}

// Version is the content hash that identifies a document version.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// IsURL reports whether location names an HTTP(S) source.
func IsURL(location string) bool {
	return strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://")
}

// ErrTooLarge means a document is over Options.MaxBytes.
var ErrTooLarge = errors.New("document too large")

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
}
