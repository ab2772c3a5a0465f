package signed

import (
	"net/http"
	"testing"
	"time"
)

func TestCookie(t *testing.T) {
	value := mustEncode(t, mustKeys(t, "one"), member(vip, bags))
	for _, tc := range []struct {
		maxAge time.Duration
		want   string
	}{
		{time.Minute, "aud_m=" + value + "; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax"},
		{1500 * time.Millisecond, "aud_m=" + value + "; Path=/; Max-Age=2; HttpOnly; Secure; SameSite=Lax"},
		{time.Nanosecond, "aud_m=" + value + "; Path=/; Max-Age=1; HttpOnly; Secure; SameSite=Lax"},
		{0, "aud_m=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{-time.Hour, "aud_m=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
	} {
		c := Cookie("aud_m", value, tc.maxAge)
		if got := c.String(); got != tc.want {
			t.Errorf("maxAge %v:\n got %s\nwant %s", tc.maxAge, got, tc.want)
		}
		if err := c.Valid(); err != nil {
			t.Errorf("maxAge %v: %v", tc.maxAge, err)
		}
	}
}

// TestCookieRoundTrip sends the cookie back the way a browser does and decodes it.
func TestCookieRoundTrip(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip, bags))
	r := &http.Request{Header: http.Header{}}
	r.AddCookie(&http.Cookie{Name: "PHPSESSID", Value: "abc"})
	r.AddCookie(Cookie("aud_m", value, time.Hour))
	c, err := r.Cookie("aud_m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decode(c.Value, now, ecid); err != nil {
		t.Fatal(err)
	}
}
