package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// fetcher reads a document. fetch reports unchanged when the source says nothing changed
// since the last committed read; commit and rollback settle what the last read was.
type fetcher interface {
	fetch(ctx context.Context) (data []byte, unchanged bool, err error)
	commit()
	rollback()
	static() bool
	describe() string
}

func newFetcher(opt Options) (fetcher, error) {
	switch {
	case opt.Fetch != nil && opt.Inline != nil:
		return nil, errors.New("a source is either fetched or inline, not both")
	case opt.Fetch != nil:
		name := opt.Location
		if name == "" {
			name = "fetch"
		}
		return &funcFetcher{fetchFn: opt.Fetch, name: name, max: opt.MaxBytes}, nil
	case opt.Location == "" && opt.Inline != nil:
		return inlineFetcher(opt.Inline), nil
	case opt.Location == "":
		return nil, errors.New("no source: want a file path, a URL or inline JSON")
	case IsURL(opt.Location):
		client := opt.Client
		if client == nil {
			client = &http.Client{Timeout: opt.Timeout}
		}
		return &urlFetcher{url: opt.Location, client: client, max: opt.MaxBytes}, nil
	}
	return &fileFetcher{path: opt.Location, max: opt.MaxBytes}, nil
}

// inlineFetcher serves bytes embedded in the config.
type inlineFetcher []byte

func (f inlineFetcher) fetch(context.Context) ([]byte, bool, error) { return f, false, nil }
func (inlineFetcher) commit()                                       {}
func (inlineFetcher) rollback()                                     {}
func (inlineFetcher) static() bool                                  { return true }
func (inlineFetcher) describe() string                              { return "inline" }

// funcFetcher calls a FetchFunc. It cannot tell unchanged itself: the watcher compares the
// content hash, so an equal answer changes nothing.
type funcFetcher struct {
	fetchFn FetchFunc
	name    string
	max     int64
}

func (f *funcFetcher) fetch(ctx context.Context) ([]byte, bool, error) {
	data, err := f.fetchFn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", f.name, err)
	}
	if int64(len(data)) > f.max {
		return nil, false, tooLarge(f.max)
	}
	return data, false, nil
}

func (*funcFetcher) commit()            {}
func (*funcFetcher) rollback()          {}
func (*funcFetcher) static() bool       { return false }
func (f *funcFetcher) describe() string { return f.name }

// fileFetcher re-reads a file when its modification time or size changed.
type fileFetcher struct {
	path string
	max  int64

	seen, pending fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func (f *fileFetcher) fetch(context.Context) ([]byte, bool, error) {
	info, err := os.Stat(f.path)
	if err != nil {
		return nil, false, err
	}
	stamp := fileStamp{info.ModTime(), info.Size()}
	if stamp == f.seen {
		return nil, true, nil
	}
	if info.Size() > f.max {
		f.pending = stamp
		return nil, false, tooLarge(f.max)
	}
	file, err := os.Open(f.path)
	if err != nil {
		return nil, false, err
	}
	defer file.Close()
	data, err := readLimited(file, f.max)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", f.path, err)
	}
	f.pending = stamp
	return data, false, nil
}

func (f *fileFetcher) commit() { f.seen = f.pending }

// rollback forgets the failed read so the file is read again next time: a half-written
// file that fails to parse is picked up once it is complete.
func (f *fileFetcher) rollback()        { f.seen = fileStamp{} }
func (f *fileFetcher) static() bool     { return false }
func (f *fileFetcher) describe() string { return f.path }

// urlFetcher polls a URL with If-None-Match.
type urlFetcher struct {
	url    string
	client *http.Client
	max    int64

	etag, pendingETag string
}

func (f *urlFetcher) fetch(ctx context.Context) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, false, err
	}
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && f.etag != "":
		return nil, true, nil
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, false, fmt.Errorf("GET %s: HTTP %d", f.url, resp.StatusCode)
	case resp.ContentLength > f.max:
		return nil, false, tooLarge(f.max)
	}
	data, err := readLimited(resp.Body, f.max)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", f.url, err)
	}
	f.pendingETag = resp.Header.Get("ETag")
	return data, false, nil
}

func (f *urlFetcher) commit()          { f.etag = f.pendingETag }
func (f *urlFetcher) rollback()        { f.etag = "" }
func (f *urlFetcher) static() bool     { return false }
func (f *urlFetcher) describe() string { return f.url }

// readLimited reads r fully, failing past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(max)
	}
	return data, nil
}
