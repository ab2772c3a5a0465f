package caddymodule

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// bufferWriter holds back a response that may be rewritten: a 2xx, identity-encoded JSON
// body of at most max bytes. Every other response, and one that grows past max, streams
// through to the client as it comes (flushes included).
type bufferWriter struct {
	*caddyhttp.ResponseWriterWrapper
	max int

	status      int
	wroteHeader bool
	buffering   bool
	overflowed  bool
	buf         *bytes.Buffer
}

// buffers recycles response buffers between requests.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newBufferWriter(w http.ResponseWriter, max int) *bufferWriter {
	return &bufferWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, max: max, buf: buffers.Get().(*bytes.Buffer)}
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
	bw.buffering = rewritable(status, bw.Header(), bw.max)
	if n, err := strconv.Atoi(bw.Header().Get("Content-Length")); bw.buffering && err == nil {
		bw.buf.Grow(n)
	}
	if !bw.buffering {
		bw.ResponseWriterWrapper.WriteHeader(status)
	}
}

func (bw *bufferWriter) Write(p []byte) (int, error) {
	bw.WriteHeader(http.StatusOK)
	if !bw.buffering {
		return bw.ResponseWriterWrapper.Write(p)
	}
	if bw.buf.Len()+len(p) > bw.max {
		if err := bw.overflow(); err != nil {
			return 0, err
		}
		return bw.ResponseWriterWrapper.Write(p)
	}
	return bw.buf.Write(p)
}

// ReadFrom keeps io.Copy from bypassing the buffer.
func (bw *bufferWriter) ReadFrom(r io.Reader) (int64, error) {
	bw.WriteHeader(http.StatusOK)
	if !bw.buffering {
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

// FlushError suppresses flushes while buffering, so no header leaves early.
func (bw *bufferWriter) FlushError() error {
	if bw.buffering {
		return nil
	}
	//nolint:bodyclose
	return http.NewResponseController(bw.ResponseWriterWrapper).Flush()
}

// buffered reports whether a complete response is held back, ready for rewriting.
func (bw *bufferWriter) buffered() bool {
	return bw.wroteHeader && bw.buffering
}

// sent reports whether anything has been written to the client.
func (bw *bufferWriter) sent() bool {
	return bw.wroteHeader && !bw.buffering
}

// send writes the held-back response with body in place of what the upstream sent, fixing
// the headers that described the original body.
func (bw *bufferWriter) send(body []byte) error {
	h := bw.Header()
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Accept-Ranges")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	bw.ResponseWriterWrapper.WriteHeader(bw.status)
	_, err := bw.ResponseWriterWrapper.Write(body)
	return err
}

// rewritable reports whether a response with this status and header may be rewritten.
func rewritable(status int, h http.Header, max int) bool {
	if status < 200 || status > 299 || status == http.StatusNoContent || status == http.StatusPartialContent {
		return false
	}
	if ce := h.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err != nil || n > max {
			return false
		}
	}
	mediaType, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	return mediaType == "application/json" || mediaType == "application/graphql-response+json"
}

// writerOnly hides ReadFrom so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// Interface guards
var (
	_ http.ResponseWriter = (*bufferWriter)(nil)
	_ io.ReaderFrom       = (*bufferWriter)(nil)
)
