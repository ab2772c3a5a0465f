package aep

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/ims"
)

// ErrDecode wraps every failure to read an answer: invalid JSON, an unexpected shape, a body
// over the limit or a paging link that cannot be followed.
var ErrDecode = errors.New("undecodable answer")

// Error is an error status from Experience Platform, with the problem details of the body:
// RFC 7807 (type, title, detail), the API gateway's {error_code, message} or the Flow
// Service's {code, message}. It never carries the client secret or the token.
type Error struct {
	Status     int           // HTTP status code
	Method     string        // the request's method
	Path       string        // the request's path, without the query
	Type       string        // problem type URI, if any
	Title      string        // problem title, or the status text
	Detail     string        // problem detail or message, if any
	Code       string        // Adobe's error code, such as "403025", if any
	RetryAfter time.Duration // parsed Retry-After, zero when absent
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "experience platform: %s %s: status %d: ", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(e.Code + " ")
	}
	b.WriteString(e.Title)
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// wireProblem is the union of the error bodies Adobe's APIs send.
type wireProblem struct {
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Detail    string          `json:"detail"`
	Status    json.RawMessage `json:"status"`
	ErrorCode json.RawMessage `json:"error_code"` // API gateway
	ErrCode   json.RawMessage `json:"errorCode"`
	Code      json.RawMessage `json:"code"` // Flow Service
	Message   string          `json:"message"`
	Error     string          `json:"error"`             // IMS style
	ErrorDesc string          `json:"error_description"` // IMS style
}

// parseProblem reads an error body; anything it cannot read leaves the status text.
func parseProblem(status int, raw []byte) *Error {
	e := &Error{Status: status}
	var p wireProblem
	if json.Unmarshal(raw, &p) == nil {
		e.Type = p.Type
		e.Title = firstOf(p.Title, p.Error)
		e.Detail = firstOf(p.Detail, p.Message, p.ErrorDesc)
		e.Code = firstOf(scalar(p.ErrorCode), scalar(p.ErrCode), scalar(p.Code))
	}
	if e.Title == "" {
		e.Title = cmpOr(http.StatusText(status), "unknown status")
	}
	return e
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// scalar reads a JSON string or number as text; anything else is "".
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Kind says what a failure means for the operator; the credential check and the logs use it.
type Kind string

// Kinds of failure.
const (
	KindConfig      Kind = "config"       // the configuration is incomplete or malformed
	KindCredentials Kind = "credentials"  // IMS refused the client ID or secret
	KindScope       Kind = "scope"        // IMS refused the scopes
	KindPermission  Kind = "permission"   // missing product profile, permission or API
	KindSandbox     Kind = "sandbox"      // the sandbox is unknown or not accessible
	KindOrg         Kind = "org"          // the org ID does not match the credential
	KindToken       Kind = "token"        // Platform refused a freshly issued token
	KindNotFound    Kind = "not_found"    // a named dataflow does not exist
	KindRateLimited Kind = "rate_limited" // too many requests, still after the retries
	KindUnavailable Kind = "unavailable"  // 5xx, timeout, connection failure
	KindUnexpected  Kind = "unexpected"   // an answer this client cannot read
)

// Classify says what err means. Adobe documents no distinct codes for a wrong sandbox or a
// wrong organization, so those are recognized by the words of the answer.
func Classify(err error) Kind {
	var cfgErr *ConfigError
	var imsErr *ims.Error
	var apiErr *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &cfgErr):
		return KindConfig
	case errors.As(err, &imsErr):
		return classifyIMS(imsErr)
	case errors.As(err, &apiErr):
		return classifyPlatform(apiErr)
	case errors.Is(err, ErrDecode), errors.Is(err, ims.ErrDecode):
		return KindUnexpected
	}
	return KindUnavailable // timeouts, refused connections, DNS
}

func classifyIMS(e *ims.Error) Kind {
	switch {
	case e.InvalidClient():
		return KindCredentials
	case e.Code == "invalid_scope":
		return KindScope
	case e.Status == http.StatusTooManyRequests:
		return KindRateLimited
	case e.Status >= 500:
		return KindUnavailable
	}
	return KindUnexpected
}

func classifyPlatform(e *Error) Kind {
	words := strings.ToLower(e.Type + " " + e.Title + " " + e.Detail)
	switch {
	case e.Status == http.StatusTooManyRequests:
		return KindRateLimited
	case e.Status >= 500:
		return KindUnavailable
	case strings.Contains(words, "sandbox"):
		return KindSandbox
	case e.Status == http.StatusUnauthorized:
		return KindToken
	case mentionsOrg(words):
		return KindOrg
	case e.Status == http.StatusForbidden:
		return KindPermission
	case e.Status == http.StatusNotFound:
		return KindNotFound
	}
	return KindUnexpected
}

// mentionsOrg reports whether an answer talks about the organization header or ID.
func mentionsOrg(words string) bool {
	for _, w := range []string{"ims org", "imsorg", "org id", "orgid", "org-id", "organization", "organisation"} {
		if strings.Contains(words, w) {
			return true
		}
	}
	return false
}

// Explain says in plain words what err means for cfg and what to do about it.
func Explain(err error, cfg Config) string {
	sandbox := cmpOr(cfg.Sandbox, DefaultSandbox)
	var cfgErr *ConfigError
	switch Classify(err) {
	case "":
		return ""
	case KindConfig:
		if errors.As(err, &cfgErr) {
			return strings.Join(cfgErr.Problems, "; ")
		}
	case KindCredentials:
		return "Adobe IMS refused the client ID or the client secret (invalid_client): copy both again from the " +
			"OAuth Server-to-Server credential of the Developer Console project; a secret that was rotated must be replaced."
	case KindScope:
		return "Adobe IMS refused the requested scopes: use the scopes the credential lists in the Developer Console, or leave scope empty."
	case KindPermission:
		return fmt.Sprintf("Experience Platform refused access (403): add the project's credential to a product profile of sandbox %q "+
			"with the permissions to view audiences (Segmentation) and destinations, and make sure the project has the "+
			"Experience Platform API.", sandbox)
	case KindSandbox:
		return fmt.Sprintf("Experience Platform does not know sandbox %q for this organization, or the credential's product "+
			"profile has no access to it: check the sandbox name (lower-case, such as prod) under Sandboxes.", sandbox)
	case KindOrg:
		return fmt.Sprintf("the org ID %q does not match the credential: use the Organization ID shown on the credential's "+
			"page in the Developer Console.", cfg.OrgID)
	case KindToken:
		return "Experience Platform refused a token IMS had just issued: the credential may belong to another IMS " +
			"environment, or the org ID may be wrong."
	case KindNotFound:
		return fmt.Sprintf("not found in sandbox %q: check the ID (for a dataflow: Destinations > Browse, the dataflow's details).", sandbox)
	case KindRateLimited:
		return "Experience Platform answered 429 Too Many Requests even after waiting: try again later."
	case KindUnavailable:
		if isTimeout(err) {
			return "Experience Platform or IMS did not answer in time: check the network and try again."
		}
		return "Experience Platform or IMS is unreachable or failing (network error or 5xx): try again later."
	}
	return "Experience Platform sent an answer this client cannot read."
}

var _ error = (*Error)(nil)
