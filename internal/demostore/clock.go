package demostore

import (
	"net/http"
	"time"
)

// clockPath is the demo store's test knob for its clock; Magento has no such endpoint.
//
//	GET    /demo/clock                 → {"now": "<RFC 3339>"}
//	POST   /demo/clock?at=<RFC 3339>   sets the store's clock to that instant; it keeps running
//	DELETE /demo/clock                 back to Options.Now
//
// The store's clock decides coupon and audience rule dates and order dates, so an end-to-end
// test can make a coupon rule expire in the middle of a shopper's session.
const clockPath = "/demo/clock"

// refuseMethod answers a /demo/ endpoint's 405 with the methods it allows.
func refuseMethod(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
}

func (s *Store) serveClock(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		at, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("at"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "at must be an RFC 3339 time, e.g. 2026-11-27T09:00:00Z"})
			return
		}
		s.clockOffset.Store(int64(at.Sub(s.opts.Now())))
	case http.MethodDelete:
		s.clockOffset.Store(0)
	default:
		refuseMethod(w, "GET, POST, DELETE")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": s.Now().Format(time.RFC3339Nano)})
}
