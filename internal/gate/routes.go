package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// Magento's words for a coupon it does not know, which the gate repeats.
const MsgCouponInvalid = "The coupon code isn't valid. Verify the code and try again."

// Words of the gate's own refusals.
const (
	MsgUnreadable = "This request could not be read the way the store reads it, so it was not sent. Send one GraphQL operation as Magento's storefronts do."
	MsgTooLarge   = "This request is larger than the store accepts, so it was not sent."
)

// Refusal reasons of Verdict, besides the gqlhttp ones.
const (
	ReasonPath       = "path"       // a spelling of the GraphQL path
	ReasonTypedCode  = "typed_code" // a gate code typed by the shopper
	ReasonTooLarge   = "too_large"  // a body over the limit
	ReasonUnreadable = "unreadable" // a body the gate cannot read as Magento does
)

// Verdict is the gate's decision on a request outside the GraphQL path.
type Verdict struct {
	Refused bool
	Reason  string
	// Answer writes the refusal in the route's own format; nil means a GraphQL error with
	// Message.
	Answer  func(w http.ResponseWriter)
	Message string
}

// CheckRoute looks at a request outside the GraphQL path: a path Magento would still route
// to GraphQL is refused, and a gate code typed into a REST coupon route, a REST cart body or
// Luma's coupon form is answered the way Magento answers an invalid code, without reaching
// Magento. Bodies are read up to maxBody and put back.
func (g *Rules) CheckRoute(r *http.Request, graphQLPath string, maxBody int64) Verdict {
	route := magentopath.Match(r.URL.EscapedPath())
	switch route.Kind {
	case magentopath.GraphQL:
		return Verdict{Refused: true, Reason: ReasonPath, Message: "GraphQL is served at " + graphQLPath + " only."}
	case magentopath.RESTCart:
		return g.checkREST(r, route, maxBody)
	case magentopath.CouponPost:
		return g.checkCouponPost(r, route, maxBody)
	}
	return Verdict{}
}

// checkREST refuses gate codes in a REST cart route's path or JSON body.
func (g *Rules) checkREST(r *http.Request, route magentopath.Route, maxBody int64) Verdict {
	refuse := func(reason string, status int, msg string) Verdict {
		return Verdict{Refused: true, Reason: reason, Answer: func(w http.ResponseWriter) { WriteRESTError(w, status, msg) }}
	}
	if route.Coupon != "" && g.codes.Typed(route.Coupon) {
		return refuse(ReasonTypedCode, http.StatusNotFound, MsgCouponInvalid)
	}
	if !hasBody(r) {
		return Verdict{}
	}
	body, err := peekBody(r, maxBody)
	if err != nil {
		return refuse(ReasonTooLarge, http.StatusRequestEntityTooLarge, MsgTooLarge)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" || phpread.CheckJSON(body) != nil || !json.Valid(body) {
		// Magento's REST also reads XML and forms; the gate reads only JSON.
		return refuse(ReasonUnreadable, http.StatusBadRequest, MsgUnreadable)
	}
	var v any
	_ = json.Unmarshal(body, &v)
	if anyString(v, g.codes.Typed) {
		return refuse(ReasonTypedCode, http.StatusNotFound, MsgCouponInvalid)
	}
	return Verdict{}
}

// checkCouponPost refuses a gate code posted to Luma's coupon form, wherever Magento's
// getParam would find coupon_code: the path's parameters, the query string or the form.
func (g *Rules) checkCouponPost(r *http.Request, route magentopath.Route, maxBody int64) Verdict {
	query := phpread.ParseQuery(r.URL.RawQuery)
	form, err := formVars(r, maxBody)
	if err != nil || query.Dropped || form.Dropped {
		return Verdict{Refused: true, Reason: ReasonUnreadable, Answer: lumaCouponRefused}
	}
	typed := []string{route.Params["coupon_code"]}
	for _, vs := range []phpread.Vars{query, form} {
		for _, v := range vs.List {
			if v.Name == "coupon_code" {
				typed = append(typed, v.Value)
			}
		}
	}
	for _, code := range typed {
		if code != "" && g.codes.Typed(code) {
			return Verdict{Refused: true, Reason: ReasonTypedCode, Answer: lumaCouponRefused}
		}
	}
	return Verdict{}
}

// formVars reads the body PHP turns into $_POST: URL-encoded or multipart form data.
func formVars(r *http.Request, maxBody int64) (phpread.Vars, error) {
	if r.Method != http.MethodPost || !hasBody(r) {
		return phpread.Vars{}, nil
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := peekBody(r, maxBody)
	if err != nil {
		return phpread.Vars{}, err
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		return phpread.ParseForm(string(body)), nil
	case "multipart/form-data":
		var vs phpread.Vars
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return vs, nil
			}
			if err != nil {
				return vs, err
			}
			value, _ := io.ReadAll(part)
			if v, ok := phpread.Register(part.FormName(), string(value)); ok {
				vs.List = append(vs.List, v)
			}
		}
	}
	return phpread.Vars{}, nil
}

// lumaCouponRefused answers Luma's coupon form as Magento answers a code it does not know:
// back to the cart page with an error message.
func lumaCouponRefused(w http.ResponseWriter) {
	msgs, _ := json.Marshal([]map[string]string{{"type": "error", "text": MsgCouponInvalid}})
	http.SetCookie(w, &http.Cookie{Name: "mage-messages", Value: strings.ReplaceAll(url.QueryEscape(string(msgs)), "+", "%20"), Path: "/", SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/checkout/cart/")
	w.WriteHeader(http.StatusFound)
}

// WriteRESTError answers in Magento REST's error format.
func WriteRESTError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// peekBody reads up to limit bytes of r's body and puts it back (see gqlhttp.PeekBody); a
// declared length over limit is refused before reading.
func peekBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errors.New("request body over the limit")
	}
	return gqlhttp.PeekBody(r, limit)
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// anyString reports whether match holds for any string in a decoded JSON value.
func anyString(v any, match func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return match(v)
	case []any:
		for _, x := range v {
			if anyString(x, match) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if anyString(x, match) {
				return true
			}
		}
	}
	return false
}
