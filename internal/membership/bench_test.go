package membership

import (
	"net/http"
	"testing"
)

func BenchmarkRead(b *testing.B) {
	cases := []struct {
		name   string
		header string
		cookie string
	}{
		{"none", "", "PHPSESSID=abc; form_key=xyz"},
		{"header-3", vip + "%2C" + bags + "%2C" + other, ""},
		{"cookie-3", "", "PHPSESSID=abc; " + CookieName + "=" + vip + "," + bags + "," + other},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := &http.Request{Header: http.Header{}}
			if c.header != "" {
				r.Header.Set(HeaderName, c.header)
			}
			if c.cookie != "" {
				r.Header.Set("Cookie", c.cookie)
			}
			cfg := Config{HonorDNT: true}
			b.ReportAllocs()
			for b.Loop() {
				_ = Read(r, cfg)
			}
		})
	}
}
