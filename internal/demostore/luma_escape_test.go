package demostore

import (
	"testing"

	"github.com/govalues/decimal"
)

// TestLumaEscapers holds the escapers to strings the recordings contain.
func TestLumaEscapers(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"escapeHtmlAttr", escapeHTMLAttr("Enter discount code"), "Enter&#x20;discount&#x20;code"},
		{"escapeHtmlAttr nonce", escapeHTMLAttr("dGE4b25zcnV4NDJlOGR5bG8zMTVjanFvYmM3eGhvdDY="), "dGE4b25zcnV4NDJlOGR5bG8zMTVjanFvYmM3eGhvdDY&#x3D;"},
		{"escapeHtmlAttr specials", escapeHTMLAttr(`a"&<>é€`), "a&quot;&amp;&lt;&gt;&#xE9;&#x20AC;"},
		{"escapeJs", escapeJS("http://127.0.0.1:8080/"), `http\u003A\u002F\u002F127.0.0.1\u003A8080\u002F`},
		{"escapeJs locale", escapeJS("en-US"), `en\u002DUS`},
		{"escapeHtml", escapeHTML(`<a href="x">'&`), "&lt;a href=&quot;x&quot;&gt;&#039;&amp;"},
		{"rawurlencode", rawURLEncode(`[{"type":"success","text":"You used coupon code &quot;X-1&quot;."}]`),
			"%5B%7B%22type%22%3A%22success%22%2C%22text%22%3A%22You%20used%20coupon%20code%20%26quot%3BX-1%26quot%3B.%22%7D%5D"},
		{"uenc", uenc("http://127.0.0.1:8080/24-mb01.html"), "aHR0cDovLzEyNy4wLjAuMTo4MDgwLzI0LW1iMDEuaHRtbA~~"},
		{"phpTrim", phpTrim(" \t\x00code\x0b\n"), "code"},
		{"json slashes and unicode", string(phpJSON(jObj{{"u", "http://x/é😀"}, {"e", jObj{}}, {"o", jEmptyObject{}}, {"n", nil}})),
			`{"u":"http:\/\/x\/\u00e9\ud83d\ude00","e":[],"o":{},"n":null}`},
		{"json numbers", string(phpJSON([]any{num(decimal.MustParse("160.00")), num(decimal.MustParse("10.20")), num(decimal.MustParse("-0.00"))})), "[160,10.2,0]"},
		{"amt4", amt4(decimal.MustParse("24")), "24.0000"},
		{"money", moneyString(decimal.MustParse("1234.5")), "$1,234.50"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}
