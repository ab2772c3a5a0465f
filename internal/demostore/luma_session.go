package demostore

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"time"
)

// Luma keeps a shopper's state in the PHP session: the quote, the signed-in customer, the
// messages waiting for the next page. The demo store keeps the same state in memory under
// the PHPSESSID cookie, with the cookies a Magento 2.4.7 store sends (see the recordings in
// fixtures/magento-2.4.7/luma): PHPSESSID (HttpOnly, an hour), form_key (the CSRF token of
// Luma's forms, an hour), private_content_version (changes when private data changes) and
// mage-messages (messages for the next page, after a redirect).

// Cookie names and lifetimes of a Magento 2.4.7 storefront.
const (
	sessionCookieName  = "PHPSESSID"
	formKeyCookieName  = "form_key"
	messagesCookieName = "mage-messages"
	versionCookieName  = "private_content_version"

	sessionLifetime = time.Hour // web/cookie/cookie_lifetime 3600
	versionLifetime = 315360000 * time.Second
	messageLifetime = 365 * 24 * time.Hour

	// regeneratedGrace is how long a regenerated session id still leads to the session, as
	// Magento's SessionManager::regenerateId keeps the old session pointing at the new one.
	regeneratedGrace = 5 * time.Minute
	// sweepEvery is how many new sessions pass between two sweeps of expired ones.
	sweepEvery = 256
)

// lumaSession is one PHP session.
type lumaSession struct {
	id       string
	formKey  string
	cartID   string // masked id of the guest quote; a customer's quote is the customer cart
	customer bool   // signed in as the demo customer
	messages []lumaMessage
	// lastOrder is the order the success page shows once (Magento's last success quote).
	lastOrder *order
	seen      time.Time
}

// lumaMessage is a Magento session message; text is HTML, as Magento keeps it.
type lumaMessage struct {
	typ  string // success, error, notice, warning
	text string
}

// movedSession points a regenerated session id at the new one for a while.
type movedSession struct {
	to    string
	until time.Time
}

// lumaSessions holds every session; guarded by Store.mu.
type lumaSessions struct {
	byID    map[string]*lumaSession
	moved   map[string]movedSession
	created int
}

// sessionIDAlphabet is PHP's session id alphabet with session.sid_bits_per_character 5.
const sessionIDAlphabet = "0123456789abcdefghijklmnopqrstuv"

// formKeyAlphabet is Magento's Random::getRandomString alphabet for form keys.
const formKeyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString draws n characters of alphabet from crypto/rand.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; the clock keeps ids distinct anyway.
		return fmt.Sprintf("%0*d", n, time.Now().UnixNano())[:n]
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// validFormKey accepts what a form_key cookie may carry: Magento's keys are 16 letters and
// digits; anything else in the cookie is ignored.
var validFormKey = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// sessionLocked returns the request's session, creating one when the request has none or
// names an unknown or expired one (PHP's strict mode); a regenerated id leads to its new
// session for a while. It adopts the form_key cookie as the session's form key, as Magento's
// RegisterFormKeyFromCookie observer does. s.mu must be held.
func (s *Store) sessionLocked(r *http.Request) *lumaSession {
	ls := &s.luma
	if ls.byID == nil {
		ls.byID = map[string]*lumaSession{}
		ls.moved = map[string]movedSession{}
	}
	now := s.Now()
	var sess *lumaSession
	if c, err := r.Cookie(sessionCookieName); err == nil {
		id := c.Value
		if m, ok := ls.moved[id]; ok && now.Before(m.until) {
			id = m.to
		}
		if found, ok := ls.byID[id]; ok && now.Sub(found.seen) < sessionLifetime {
			sess = found
		}
	}
	if sess == nil {
		sess = s.newSessionLocked(now)
	}
	if c, err := r.Cookie(formKeyCookieName); err == nil && validFormKey.MatchString(c.Value) {
		sess.formKey = c.Value
	}
	sess.seen = now
	return sess
}

// newSessionLocked registers an empty session. s.mu must be held.
func (s *Store) newSessionLocked(now time.Time) *lumaSession {
	ls := &s.luma
	ls.created++
	if ls.created%sweepEvery == 0 {
		s.sweepSessionsLocked(now)
	}
	sess := &lumaSession{id: randomString(sessionIDAlphabet, 26), formKey: randomString(formKeyAlphabet, 16), seen: now}
	ls.byID[sess.id] = sess
	return sess
}

// sweepSessionsLocked forgets expired sessions and moved ids. s.mu must be held.
func (s *Store) sweepSessionsLocked(now time.Time) {
	for id, sess := range s.luma.byID {
		if now.Sub(sess.seen) >= sessionLifetime {
			delete(s.luma.byID, id)
		}
	}
	for id, m := range s.luma.moved {
		if !now.Before(m.until) {
			delete(s.luma.moved, id)
		}
	}
}

// regenerateLocked gives a session a new id and keeps the old one pointing at it for a
// while, as Magento does at sign-in and, on plain HTTP, when the checkout page opens.
// s.mu must be held.
func (s *Store) regenerateLocked(sess *lumaSession) {
	old := sess.id
	delete(s.luma.byID, old)
	sess.id = randomString(sessionIDAlphabet, 26)
	s.luma.byID[sess.id] = sess
	s.luma.moved[old] = movedSession{to: sess.id, until: s.Now().Add(regeneratedGrace)}
}

// destroyLocked ends a session (sign-out); the next request starts a new one. s.mu must be
// held.
func (s *Store) destroyLocked(sess *lumaSession) {
	delete(s.luma.byID, sess.id)
}

// addMessage queues a message for the next page or redirect. s.mu must be held.
func (sess *lumaSession) addMessage(typ, text string) {
	sess.messages = append(sess.messages, lumaMessage{typ: typ, text: text})
}

// takeMessages empties the session's message queue. s.mu must be held.
func (sess *lumaSession) takeMessages() []lumaMessage {
	m := sess.messages
	sess.messages = nil
	return m
}

// cookieDomain is the Host header without its port: Magento's default cookie domain, which
// the recordings show as domain=127.0.0.1. IPv6 hosts get no domain attribute.
func cookieDomain(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
		return ""
	}
	return host
}

// phpCookie formats a Set-Cookie value the way PHP's setcookie does: lower-case expires,
// Max-Age, path and domain, then HttpOnly and SameSite.
func phpCookie(name, value string, now time.Time, maxAge time.Duration, domain string, httpOnly bool, sameSite string) string {
	v := fmt.Sprintf("%s=%s; expires=%s; Max-Age=%d; path=/", name, value,
		now.Add(maxAge).UTC().Format(http.TimeFormat), int64(maxAge/time.Second))
	if domain != "" {
		v += "; domain=" + domain
	}
	if httpOnly {
		v += "; HttpOnly"
	}
	return v + "; SameSite=" + sameSite
}
