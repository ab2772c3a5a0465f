package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Lookup outcomes reported to ResolverOptions.OnLookup; a low-cardinality metric label.
const (
	OutcomeHit          = "hit"           // answered from the cache
	OutcomeMiss         = "miss"          // this call asked the Edge Network
	OutcomeCoalesced    = "coalesced"     // shared the answer of a concurrent call for the same key
	OutcomeErrorTimeout = "error_timeout" // the deadline passed
	OutcomeErrorHTTP    = "error_http"    // the Edge Network or IMS answered with an error status
	OutcomeErrorDecode  = "error_decode"  // the answer was not valid JSON of the expected shape, or too large
	OutcomeErrorOther   = "error_other"   // anything else: connection refused, invalid identity, ...
)

// Outcomes lists every outcome, for pre-registering metric labels.
var Outcomes = []string{
	OutcomeHit, OutcomeMiss, OutcomeCoalesced,
	OutcomeErrorTimeout, OutcomeErrorHTTP, OutcomeErrorDecode, OutcomeErrorOther,
}

// ErrDecode wraps every failure to read an answer: invalid JSON, a wrong shape, or a body over
// the limit.
var ErrDecode = errors.New("edge: undecodable response")

// ErrResponseTooLarge reports a response body over Options.MaxBody; it also matches ErrDecode.
var ErrResponseTooLarge = errors.New("edge: response body too large")

// ErrRequestTooLarge reports a request body that would reach the Edge Network's 64 KB limit,
// usually because of too many or too large forwarded cookies.
var ErrRequestTooLarge = errors.New("edge: request body too large")

// HTTPError is an error status from the Edge Network or IMS, with the RFC 7807 problem details
// when the body had them.
type HTTPError struct {
	Status     int           // HTTP status code
	Type       string        // problem type URI, if any
	Title      string        // problem title, or the status text
	Detail     string        // problem detail, if any
	RetryAfter time.Duration // parsed Retry-After, zero when absent
}

func (e *HTTPError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("edge: status %d: %s: %s", e.Status, e.Title, e.Detail)
	}
	return fmt.Sprintf("edge: status %d: %s", e.Status, e.Title)
}

// Outcome classifies a lookup error into one of the error outcomes (OutcomeErrorTimeout,
// OutcomeErrorHTTP, OutcomeErrorDecode, OutcomeErrorOther); nil is OutcomeMiss.
func Outcome(err error) string {
	var httpErr *HTTPError
	var netErr net.Error
	switch {
	case err == nil:
		return OutcomeMiss
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return OutcomeErrorTimeout
	case errors.As(err, &httpErr):
		return OutcomeErrorHTTP
	case errors.Is(err, ErrDecode):
		return OutcomeErrorDecode
	default:
		return OutcomeErrorOther
	}
}

var _ error = (*HTTPError)(nil)
