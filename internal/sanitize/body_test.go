package sanitize

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestSplitJSON(t *testing.T) {
	tests := []struct{ body, before, doc, after string }{
		{"\xef\xbb\xbf{\"data\":{}}", "\xef\xbb\xbf", `{"data":{}}`, ""},
		{" \r\n{\"data\":{}}\n", " \r\n", `{"data":{}}`, "\n"},
		{"<br />\n<b>Notice</b>:  Undefined index: x in <b>/var/www/a.php</b> on line <b>3</b><br />\n{\"data\":{\"a\":1}}",
			"<br />\n<b>Notice</b>:  Undefined index: x in <b>/var/www/a.php</b> on line <b>3</b><br />\n", `{"data":{"a":1}}`, ""},
		{"PHP Warning: {oops} in x\n{\"errors\":[]}\nDeprecated: y", "PHP Warning: {oops} in x\n", `{"errors":[]}`, "\nDeprecated: y"},
	}
	for _, tt := range tests {
		before, doc, after, ok := SplitJSON([]byte(tt.body))
		if !ok || string(before) != tt.before || string(doc) != tt.doc || string(after) != tt.after {
			t.Errorf("SplitJSON(%q) = %q %q %q %v", tt.body, before, doc, after, ok)
		}
	}
	for _, body := range []string{"", "no json", "{broken", strings.Repeat("{x", 100) + `{"a":1}`} {
		if _, _, _, ok := SplitJSON([]byte(body)); ok {
			t.Errorf("SplitJSON(%.30q) found JSON", body)
		}
	}
}

func TestDecode(t *testing.T) {
	plain := []byte(`{"data":{"cart":{"_aud_x":1}}}`)
	var gz, zl bytes.Buffer
	g := gzip.NewWriter(&gz)
	_, _ = g.Write(plain)
	_ = g.Close()
	z := zlib.NewWriter(&zl)
	_, _ = z.Write(plain)
	_ = z.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	for name, tc := range map[string]struct {
		body []byte
		ce   string
	}{"gzip": {gz.Bytes(), "gzip"}, "x-gzip": {gz.Bytes(), "X-Gzip"}, "deflate": {zl.Bytes(), "deflate"}, "zstd": {zs, "zstd"}, "identity": {plain, "identity"}} {
		got, err := Decode(tc.body, tc.ce, 1<<20)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	if _, err := Decode(gz.Bytes(), "gzip", 5); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := Decode(plain, "br", 1<<20); err == nil {
		t.Error("brotli decoded without a decoder")
	}
	if _, err := Decode([]byte("not gzip"), "gzip", 1<<20); err == nil {
		t.Error("corrupt gzip decoded")
	}
}
