package sanitize

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// ErrTooLarge is a decoded body larger than the caller's limit.
var ErrTooLarge = errors.New("decoded body over the limit")

// Decoder returns a reader of body decoded from the Content-Encoding contentEncoding
// (codings applied in order, so decoded in reverse): gzip, x-gzip, deflate (zlib or raw),
// zstd, identity. An unknown coding is an error: the body cannot be read.
func Decoder(body []byte, contentEncoding string) (io.Reader, error) {
	var r io.Reader = bytes.NewReader(body)
	codings := strings.Split(contentEncoding, ",")
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		switch c := strings.ToLower(strings.TrimSpace(codings[i])); c {
		case "", "identity":
		case "gzip", "x-gzip":
			r, err = gzip.NewReader(r)
		case "deflate":
			r, err = deflateReader(r)
		case "zstd":
			var d *zstd.Decoder
			d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
			r = d
		default:
			return nil, fmt.Errorf("content encoding %q cannot be decoded", c)
		}
		if err != nil {
			return nil, fmt.Errorf("content encoding %s: %w", codings[i], err)
		}
	}
	return r, nil
}

// deflateReader reads HTTP's deflate: zlib-wrapped as the RFC says, or raw as some servers
// send it.
func deflateReader(r io.Reader) (io.Reader, error) {
	all, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if z, err := zlib.NewReader(bytes.NewReader(all)); err == nil {
		return z, nil
	}
	return flate.NewReader(bytes.NewReader(all)), nil
}

// Decode decodes body completely, up to limit decoded bytes (ErrTooLarge past it).
func Decode(body []byte, contentEncoding string, limit int64) ([]byte, error) {
	r, err := Decoder(body, contentEncoding)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, ErrTooLarge
	}
	return out, nil
}

// bom is the UTF-8 byte-order mark.
var bom = []byte("\xef\xbb\xbf")

// maxCandidates bounds how many "{" a body with text before its JSON is tried at.
const maxCandidates = 16

// SplitJSON finds the JSON object in a response body that has something before or after it
// which browsers or careless backends put there: a byte-order mark, whitespace, a PHP
// notice or warning. It returns the text before, the object and the text after; ok is false
// when no JSON object is found.
func SplitJSON(body []byte) (before, doc, after []byte, ok bool) {
	i := 0
	if bytes.HasPrefix(body, bom) {
		i = len(bom)
	}
	for tries := 0; tries < maxCandidates; tries++ {
		j := bytes.IndexByte(body[i:], '{')
		if j < 0 {
			return nil, nil, nil, false
		}
		i += j
		if end, ok := objectEnd(body[i:]); ok {
			return body[:i], body[i : i+end], body[i+end:], true
		}
		i++
	}
	return nil, nil, nil, false
}

// objectEnd returns the length of the JSON object b starts with.
func objectEnd(b []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return 0, false
	}
	return int(dec.InputOffset()), true
}
