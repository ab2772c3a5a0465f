package demostore

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// The escapers Magento's Luma templates use, so that values on the demo store's pages and in
// its cookies are spelled as Magento spells them.

// escapeHTML is Magento's Escaper::escapeHtml for plain text (PHP htmlspecialchars with
// ENT_QUOTES | ENT_SUBSTITUTE): & < > " ' only.
func escapeHTML(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#039;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeHTMLAttr is Escaper::escapeHtmlAttr (Laminas escapeHtmlAttr): letters, digits and
// ",.-_" stay; " & < > become named entities; everything else &#xHH; (upper-case hex),
// which is why Luma writes placeholder="Enter&#x20;discount&#x20;code".
func escapeHTMLAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == ',', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == '"':
			b.WriteString("&quot;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7f && r <= 0x9f:
			b.WriteString("&#xFFFD;")
		case r > 0xff:
			fmt.Fprintf(&b, "&#x%04X;", r)
		default:
			fmt.Fprintf(&b, "&#x%02X;", r)
		}
	}
	return b.String()
}

// escapeJS is Escaper::escapeJs (Laminas escapeJs): letters, digits and ",._" stay, the rest
// becomes \uXXXX (upper-case hex), as in Luma's "var BASE_URL = 'http\u003A\u002F\u002F…'".
func escapeJS(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == ',', r == '.', r == '_':
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04X\u%04X`, 0xd800+r>>10, 0xdc00+r&0x3ff)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	return b.String()
}

// rawURLEncode is PHP's rawurlencode (RFC 3986): what setcookie does to a cookie value, so
// the mage-messages cookie reads "%5B%7B%22type%22…".
func rawURLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// uenc is Magento's URL encoder for the uenc route parameter: base64 with "+/=" turned
// into "-_~".
func uenc(url string) string {
	return strings.NewReplacer("+", "-", "/", "_", "=", "~").Replace(base64.StdEncoding.EncodeToString([]byte(url)))
}

// phpTrim is PHP's trim(): it strips " \t\n\r\0\x0B" from both ends, nothing else.
func phpTrim(s string) string {
	return strings.Trim(s, " \t\n\r\x00\x0b")
}
