package holdback

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// msgUnsafeAnswer is what the client gets when an answer cannot be made safe to send.
const msgUnsafeAnswer = "The store's answer could not be checked, so it was not sent. Please try again."

// Held returns the held-back answer ready to be rewritten: decoded when the upstream
// encoded it although identity was asked. An answer that is not a 2xx JSON once decoded, or
// too large to hold decoded, is sent through the sanitizer instead, and one that cannot be
// decoded gets an error: then done is true.
func (bw *Writer) Held() (body []byte, done bool, err error) {
	body = bw.buf.Bytes()
	if !bw.encoded {
		return body, false, nil
	}
	ce := get(bw.Header(), "Content-Encoding")
	decoded, err := sanitize.Decode(body, ce, int64(bw.max))
	switch {
	case errors.Is(err, sanitize.ErrTooLarge):
		r, _ := sanitize.Decoder(body, ce)
		return nil, true, bw.sendStream(r)
	case err != nil:
		return nil, true, bw.Unsafe()
	}
	bw.report("decoded")
	delete(bw.Header(), "Content-Encoding")
	if bw.status < 200 || bw.status > 299 || !jsonType(bw.Header()) {
		return nil, true, bw.sendStream(bytes.NewReader(decoded))
	}
	return decoded, false, nil
}

// Unsafe replaces an answer that cannot be made safe with a clear GraphQL error (502).
func (bw *Writer) Unsafe() error {
	bw.report("unsafe")
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
		"message":    msgUnsafeAnswer,
		"extensions": map[string]string{"category": "graphql-audiences"},
	}}})
	hdr := bw.Header()
	dropBodyHeaders(hdr)
	delete(hdr, "Content-Encoding")
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	bw.ResponseWriter.WriteHeader(http.StatusBadGateway)
	_, err := bw.ResponseWriter.Write(body)
	return err
}

// SplitEnvelope finds the JSON object of an answer that starts with something else (a
// byte-order mark, whitespace, a PHP notice): browsers accept a BOM and whitespace, and the
// answer must still be rewritten and stripped. Bodies that start with "{" are not searched.
func SplitEnvelope(body []byte) (lead, doc, tail []byte) {
	if len(body) == 0 || body[0] == '{' {
		return nil, body, nil
	}
	if lead, doc, tail, ok := sanitize.SplitJSON(body); ok {
		return lead, doc, tail
	}
	return nil, body, nil
}

// JoinEnvelope puts the text around the JSON back, sanitized, and makes sure no hidden field
// is left anywhere. docClean says doc is known to hold no hidden member (a plan's rewrite
// or strip of a body it parsed whole): alone, it is not searched again.
func JoinEnvelope(lead, doc, tail []byte, guard *Guard, docClean bool) []byte {
	out := doc
	if len(lead)+len(tail) > 0 {
		out = make([]byte, 0, len(lead)+len(doc)+len(tail))
		out = append(out, Sanitize(lead, guard)...)
		out = append(out, doc...)
		out = append(out, Sanitize(tail, guard)...)
	} else if docClean {
		return out
	}
	if guard != nil && guard.Hidden != "" && bytes.Contains(out, []byte(guard.Hidden)) {
		out = Sanitize(out, guard)
	}
	return out
}

// Sanitize runs b through the sanitizer in memory.
func Sanitize(b []byte, guard *Guard) []byte {
	if guard == nil {
		return b
	}
	return sanitize.Bytes(b, guard.Hidden, guard.Secrets)
}

// Send sends the held-back answer's status and headers with body in identity encoding, or gzip when the client refuses identity.
func (bw *Writer) Send(body []byte, acceptEncoding string) error {
	if acceptsIdentity(acceptEncoding) || !accepts(acceptEncoding, "gzip") {
		return bw.send(body)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body)
	_ = zw.Close()
	bw.Header().Set("Content-Encoding", "gzip")
	bw.Header().Add("Vary", "Accept-Encoding")
	return bw.send(buf.Bytes())
}

// acceptsIdentity reports whether an Accept-Encoding allows identity (RFC 9110 §12.5.3).
func acceptsIdentity(ae string) bool {
	q, ok := codingQ(ae, "identity")
	if ok {
		return q > 0
	}
	if q, ok := codingQ(ae, "*"); ok {
		return q > 0
	}
	return true
}

// accepts reports whether an Accept-Encoding allows coding.
func accepts(ae, coding string) bool {
	if q, ok := codingQ(ae, coding); ok {
		return q > 0
	}
	q, ok := codingQ(ae, "*")
	return ok && q > 0
}

// codingQ returns the quality an Accept-Encoding gives coding, when it names it.
func codingQ(ae, coding string) (float64, bool) {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q, true
	}
	return 0, false
}
