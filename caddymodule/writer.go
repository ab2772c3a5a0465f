package caddymodule

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// bufferWriter holds back a response that may be rewritten: a 2xx, identity-encoded JSON
// body of at most max bytes. Without a guard, every other response, and one that grows past
// max, streams through to the client as it comes (flushes included). With a guard (the
// request carried hidden fields, or gate codes must not leave) nothing passes unread: an
// encoded body is held back to be decoded, and everything else streams through a
// sanitize.Writer.
type bufferWriter struct {
	*caddyhttp.ResponseWriterWrapper
	max   int
	guard *responseGuard

	status      int
	wroteHeader bool
	buffering   bool
	overflowed  bool
	encoded     bool             // held back to be decoded
	tooLarge    bool             // an encoded body outgrew max: it cannot be checked
	stream      *sanitize.Writer // the body streams through it
	buf         *bytes.Buffer
}

// responseGuard says what must not leave the sidecar in an answer.
type responseGuard struct {
	hidden  string            // the prefix of hidden fields, when the request carried them
	secrets *sanitize.Secrets // gate codes, nil without gates
}

// buffers recycles response buffers between requests.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newBufferWriter(w http.ResponseWriter, max int, guard *responseGuard) *bufferWriter {
	return &bufferWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, max: max, guard: guard, buf: buffers.Get().(*bytes.Buffer)}
}

// release returns the buffer for reuse; bw must not be used afterwards.
func (bw *bufferWriter) release() {
	if bw.buf.Cap() <= 1<<20 {
		bw.buf.Reset()
		buffers.Put(bw.buf)
	}
	bw.buf = nil
}

// WriteHeader decides between buffering and streaming. 1xx responses are informational and
// always go through at once.
func (bw *bufferWriter) WriteHeader(status int) {
	if bw.wroteHeader {
		return
	}
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		bw.ResponseWriterWrapper.WriteHeader(status)
		return
	}
	bw.wroteHeader, bw.status = true, status
	h := bw.Header()
	switch {
	case bw.guard != nil && bodyless(status):
	case bw.guard != nil && encodedBody(h):
		bw.buffering, bw.encoded = true, true
	case rewritable(status, h, bw.max):
		bw.buffering = true
	case bw.guard != nil:
		bw.startStream()
		return
	}
	if n, err := strconv.Atoi(h.Get("Content-Length")); bw.buffering && err == nil && n <= bw.max {
		bw.buf.Grow(n)
	}
	if !bw.buffering {
		bw.ResponseWriterWrapper.WriteHeader(status)
	}
}

// startStream sends the header and makes the body stream through a sanitizer.
func (bw *bufferWriter) startStream() {
	h := bw.Header()
	dropBodyHeaders(h)
	h.Del("Content-Length")
	metrics.unsafeAnswers.WithLabelValues("streamed").Inc()
	bw.ResponseWriterWrapper.WriteHeader(bw.status)
	bw.stream = sanitize.NewWriter(bw.ResponseWriterWrapper, bw.guard.hidden, bw.guard.secrets)
}

func (bw *bufferWriter) Write(p []byte) (int, error) {
	bw.WriteHeader(http.StatusOK)
	switch {
	case bw.stream != nil:
		return bw.stream.Write(p)
	case !bw.buffering:
		return bw.ResponseWriterWrapper.Write(p)
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
	return bw.ResponseWriterWrapper.Write(p)
}

// ReadFrom keeps io.Copy from bypassing the buffer and the sanitizer.
func (bw *bufferWriter) ReadFrom(r io.Reader) (int64, error) {
	bw.WriteHeader(http.StatusOK)
	if !bw.buffering && bw.stream == nil {
		return bw.ResponseWriterWrapper.ReadFrom(r)
	}
	return io.Copy(writerOnly{bw}, r)
}

// overflow gives up buffering: what was held back is sent and the rest streams.
func (bw *bufferWriter) overflow() error {
	bw.buffering, bw.overflowed = false, true
	bw.ResponseWriterWrapper.WriteHeader(bw.status)
	_, err := bw.ResponseWriterWrapper.Write(bw.buf.Bytes())
	bw.buf.Reset()
	return err
}

// FlushError suppresses flushes while buffering, so no header leaves early; a sanitized
// stream writes out what is safe first.
func (bw *bufferWriter) FlushError() error {
	if bw.buffering {
		return nil
	}
	if bw.stream != nil {
		if err := bw.stream.Flush(); err != nil {
			return err
		}
	}
	//nolint:bodyclose
	return http.NewResponseController(bw.ResponseWriterWrapper).Flush()
}

// finish ends a sanitized stream.
func (bw *bufferWriter) finish() error {
	if bw.stream == nil {
		return nil
	}
	return bw.stream.Close()
}

// buffered reports whether a complete response is held back, ready for rewriting.
func (bw *bufferWriter) buffered() bool {
	return bw.wroteHeader && bw.buffering && !bw.tooLarge
}

// sent reports whether anything has been written to the client.
func (bw *bufferWriter) sent() bool {
	return bw.wroteHeader && !bw.buffering
}

// send writes the held-back response with body in place of what the upstream sent, fixing
// the headers that described the original body.
func (bw *bufferWriter) send(body []byte) error {
	h := bw.Header()
	dropBodyHeaders(h)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	bw.ResponseWriterWrapper.WriteHeader(bw.status)
	_, err := bw.ResponseWriterWrapper.Write(body)
	return err
}

// sendStream writes the held-back response's status and headers, then body through the
// sanitizer.
func (bw *bufferWriter) sendStream(body io.Reader) error {
	bw.Header().Del("Content-Encoding")
	bw.startStream()
	if _, err := io.Copy(bw.stream, body); err != nil {
		return err
	}
	return bw.stream.Close()
}

// dropBodyHeaders removes the headers that described the upstream's body.
func dropBodyHeaders(h http.Header) {
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Accept-Ranges")
}

// rewritable reports whether a response with this status and header may be rewritten.
func rewritable(status int, h http.Header, max int) bool {
	if status < 200 || status > 299 || status == http.StatusNoContent || status == http.StatusPartialContent {
		return false
	}
	if encodedBody(h) {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err != nil || n > max {
			return false
		}
	}
	return jsonType(h)
}

// jsonType reports whether the response is GraphQL JSON.
func jsonType(h http.Header) bool {
	mediaType, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	return mediaType == "application/json" || mediaType == "application/graphql-response+json"
}

// encodedBody reports a Content-Encoding other than identity.
func encodedBody(h http.Header) bool {
	ce := h.Get("Content-Encoding")
	return ce != "" && !strings.EqualFold(ce, "identity")
}

// bodyless reports statuses that carry no body.
func bodyless(status int) bool {
	return status == http.StatusNoContent || status == http.StatusNotModified || status == http.StatusSwitchingProtocols
}

// writerOnly hides ReadFrom so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// Interface guards
var (
	_ http.ResponseWriter = (*bufferWriter)(nil)
	_ io.ReaderFrom       = (*bufferWriter)(nil)
)
