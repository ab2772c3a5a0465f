package signed

import (
	"net/http"
	"time"
)

// Cookie returns the membership cookie called name holding value: sent for the whole site,
// over HTTPS only, hidden from scripts, and withheld from cross-site subrequests. maxAge is
// rounded up to whole seconds; zero or less gives a cookie that deletes the stored one.
func Cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge <= 0 {
		c.Value, c.MaxAge = "", -1
		return c
	}
	c.MaxAge = int((maxAge + time.Second - 1) / time.Second)
	return c
}
