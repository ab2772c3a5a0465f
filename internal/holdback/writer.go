// Package holdback holds back an HTTP answer that the sidecar may rewrite — a 2xx,
// identity-encoded JSON body up to a limit — and makes sure nothing else it must guard leaves
// unread: an encoded answer is held to be decoded, everything else streams through the
// sanitizer. It also sends the final body in an encoding the client accepts.
package holdback

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// Writer holds back a response that may be rewritten: a 2xx, identity-encoded JSON
// body of at most max bytes. Without a guard, every other response, and one that grows past
// max, streams through to the client as it comes (flushes included). With a guard (the
// request carried hidden fields, or gate codes must not leave) nothing passes unread: an
// encoded body is held back to be decoded, and everything else streams through a
// sanitize.Writer.
type Writer struct {
	http.ResponseWriter
	// HoldHTML holds back a 2xx text/html answer too (a Luma page to clean).
	HoldHTML bool
	max      int
	guard    *Guard
	report   func(how string)

	status      int
	wroteHeader bool
	buffering   bool
	overflowed  bool
	encoded     bool             // held back to be decoded
	tooLarge    bool             // an encoded body outgrew max: it cannot be checked
	stream      *sanitize.Writer // the body streams through it
	buf         *bytes.Buffer
}

// Guard says what must not leave the sidecar in an answer.
type Guard struct {
	Hidden  string            // the prefix of hidden fields, when the request carried them
	Secrets *sanitize.Secrets // gate codes, nil without gates
}

// buffers recycles response buffers between requests.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// NewWriter returns a Writer to w holding back at most max bytes; guard (nil: none) says
// what must not leave, report is told how an answer was made safe outside the rewrite
// (decoded, envelope, streamed, unsafe).
func NewWriter(w http.ResponseWriter, max int, guard *Guard, report func(how string)) *Writer {
	if report == nil {
		report = func(string) {}
	}
	return &Writer{ResponseWriter: w, max: max, guard: guard, report: report, buf: buffers.Get().(*bytes.Buffer)}
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (bw *Writer) Unwrap() http.ResponseWriter { return bw.ResponseWriter }

// Release returns the buffer for reuse; bw must not be used afterwards.
func (bw *Writer) Release() {
	if bw.buf.Cap() <= 1<<20 {
		bw.buf.Reset()
		buffers.Put(bw.buf)
	}
	bw.buf = nil
}

// WriteHeader decides between buffering and streaming. 1xx responses are informational and
// always go through at once.
func (bw *Writer) WriteHeader(status int) {
	if bw.wroteHeader {
		return
	}
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		bw.ResponseWriter.WriteHeader(status)
		return
	}
	bw.wroteHeader, bw.status = true, status
	h := bw.Header()
	switch {
	case bw.guard != nil && bodyless(status):
	case bw.guard != nil && encodedBody(h):
		bw.buffering, bw.encoded = true, true
	case rewritable(status, h, bw.max) || bw.HoldHTML && htmlPage(status, h, bw.max):
		bw.buffering = true
	case bw.guard != nil:
		bw.startStream()
		return
	}
	if n, err := strconv.Atoi(get(h, "Content-Length")); bw.buffering && err == nil && n <= bw.max {
		bw.buf.Grow(n)
	}
	if !bw.buffering {
		bw.ResponseWriter.WriteHeader(status)
	}
}

// startStream sends the header and makes the body stream through a sanitizer.
func (bw *Writer) startStream() {
	h := bw.Header()
	dropBodyHeaders(h)
	delete(h, "Content-Length")
	bw.report("streamed")
	bw.ResponseWriter.WriteHeader(bw.status)
	bw.stream = sanitize.NewWriter(bw.ResponseWriter, bw.guard.Hidden, bw.guard.Secrets)
}

func (bw *Writer) Write(p []byte) (int, error) {
	bw.WriteHeader(http.StatusOK)
	switch {
	case bw.stream != nil:
		return bw.stream.Write(p)
	case !bw.buffering:
		return bw.ResponseWriter.Write(p)
	case bw.buf.Len()+len(p) <= bw.max:
		return bw.buf.Write(p)
	case bw.encoded:
		bw.tooLarge = true // dropped: the answer becomes an error
		bw.buf.Reset()
		return len(p), nil
	}
	if bw.guard != nil {
		// Too large to rewrite: it streams through the sanitizer.
		bw.buffering, bw.overflowed = false, true
		bw.startStream()
		if _, err := bw.stream.Write(bw.buf.Bytes()); err != nil {
			return 0, err
		}
		bw.buf.Reset()
		return bw.stream.Write(p)
	}
	if err := bw.overflow(); err != nil {
		return 0, err
	}
	return bw.ResponseWriter.Write(p)
}

// ReadFrom keeps io.Copy from bypassing the buffer and the sanitizer.
func (bw *Writer) ReadFrom(r io.Reader) (int64, error) {
	bw.WriteHeader(http.StatusOK)
	if !bw.buffering && bw.stream == nil {
		return readFrom(bw.ResponseWriter, r)
	}
	return io.Copy(writerOnly{bw}, r)
}

// overflow gives up buffering: what was held back is sent and the rest streams.
func (bw *Writer) overflow() error {
	bw.buffering, bw.overflowed = false, true
	bw.ResponseWriter.WriteHeader(bw.status)
	_, err := bw.ResponseWriter.Write(bw.buf.Bytes())
	bw.buf.Reset()
	return err
}

// FlushError suppresses flushes while buffering, so no header leaves early; a sanitized
// stream writes out what is safe first.
func (bw *Writer) FlushError() error {
	if bw.buffering {
		return nil
	}
	if bw.stream != nil {
		if err := bw.stream.Flush(); err != nil {
			return err
		}
	}
	//nolint:bodyclose
	return http.NewResponseController(bw.ResponseWriter).Flush()
}

// Finish ends a sanitized stream.
func (bw *Writer) Finish() error {
	if bw.stream == nil {
		return nil
	}
	return bw.stream.Close()
}

// Buffered reports whether a complete response is held back, ready for rewriting.
func (bw *Writer) Buffered() bool {
	return bw.wroteHeader && bw.buffering && !bw.tooLarge
}

// Sent reports whether anything has been written to the client.
func (bw *Writer) Sent() bool {
	return bw.wroteHeader && !bw.buffering
}

// send writes the held-back response with body in place of what the upstream sent, fixing
// the headers that described the original body.
func (bw *Writer) send(body []byte) error {
	h := bw.Header()
	dropBodyHeaders(h)
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	bw.ResponseWriter.WriteHeader(bw.status)
	_, err := bw.ResponseWriter.Write(body)
	return err
}

// sendStream writes the held-back response's status and headers, then body through the
// sanitizer.
func (bw *Writer) sendStream(body io.Reader) error {
	delete(bw.Header(), "Content-Encoding")
	bw.startStream()
	if _, err := io.Copy(bw.stream, body); err != nil {
		return err
	}
	return bw.stream.Close()
}

// get returns the first value of the canonical key k, as h.Get(k) does without canonicalizing
// k on every call (the keys here are canonical; "Etag" is "ETag"'s canonical form).
func get(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// dropBodyHeaders removes the headers that described the upstream's body.
func dropBodyHeaders(h http.Header) {
	delete(h, "Etag")
	delete(h, "Last-Modified")
	delete(h, "Accept-Ranges")
}

// rewritable reports whether a response with this status and header may be rewritten.
func rewritable(status int, h http.Header, max int) bool {
	if status < 200 || status > 299 || status == http.StatusNoContent || status == http.StatusPartialContent {
		return false
	}
	if encodedBody(h) {
		return false
	}
	if cl := get(h, "Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err != nil || n > max {
			return false
		}
	}
	return jsonType(h)
}

// htmlPage reports a 2xx, identity-encoded HTML answer of at most max bytes.
func htmlPage(status int, h http.Header, max int) bool {
	if status < 200 || status > 299 || encodedBody(h) {
		return false
	}
	if n, err := strconv.Atoi(get(h, "Content-Length")); err == nil && n > max {
		return false
	}
	mediaType, _, _ := mime.ParseMediaType(get(h, "Content-Type"))
	return mediaType == "text/html"
}

// jsonType reports whether the response is GraphQL JSON.
func jsonType(h http.Header) bool {
	mediaType, _, err := mime.ParseMediaType(get(h, "Content-Type"))
	if err != nil {
		return false
	}
	return mediaType == "application/json" || mediaType == "application/graphql-response+json"
}

// encodedBody reports a Content-Encoding other than identity.
func encodedBody(h http.Header) bool {
	ce := get(h, "Content-Encoding")
	return ce != "" && !strings.EqualFold(ce, "identity")
}

// bodyless reports statuses that carry no body.
func bodyless(status int) bool {
	return status == http.StatusNoContent || status == http.StatusNotModified || status == http.StatusSwitchingProtocols
}

// writerOnly hides ReadFrom so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// Overflowed reports a JSON answer that outgrew the limit and went out as it streamed.
func (bw *Writer) Overflowed() bool { return bw.overflowed }

// TooLarge reports an encoded answer that outgrew the limit: it cannot be checked, and
// nothing of it was sent.
func (bw *Writer) TooLarge() bool { return bw.tooLarge }

// readFrom copies r to w, with w's own ReadFrom when it has one.
func readFrom(w http.ResponseWriter, r io.Reader) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w}, r)
}

// Interface guards
var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ io.ReaderFrom       = (*Writer)(nil)
)
