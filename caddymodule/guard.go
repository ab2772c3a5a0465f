package caddymodule

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

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// Words of the gate's refusals.
const (
	msgUnreadable = "This request could not be read the way the store reads it, so it was not sent. Send one GraphQL operation as Magento's storefronts do."
	msgTooLarge   = "This request is larger than the store accepts, so it was not sent."
	msgGraphQLAt  = "GraphQL is served at %s only."
)

// refuse answers a request the gate will not forward with a GraphQL error and counts it.
func (h *Handler) refuse(w http.ResponseWriter, status int, reason, message string, cause error) {
	metrics.refusals.WithLabelValues(reason).Inc()
	h.debug("request refused by the coupon gate", zap.String("reason", reason), zap.Error(cause))
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{
			"message":    message,
			"extensions": map[string]string{"category": "graphql-input"},
		}},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuseRead answers a GraphQL request ReadStrict refused.
func (h *Handler) refuseRead(w http.ResponseWriter, ref *gqlhttp.Refusal) {
	msg := msgUnreadable
	if ref.Status == http.StatusRequestEntityTooLarge {
		msg = msgTooLarge
	}
	h.refuse(w, ref.Status, ref.Reason, msg, ref.Err)
}

// checkRoute looks at a request outside the GraphQL path while gate rules are in force: a
// path Magento would still route to GraphQL is refused, and a gate code typed into a REST
// coupon route, a REST cart body or Luma's coupon form is answered the way Magento answers
// an invalid code, without reaching Magento. It reports whether it answered.
func (h *Handler) checkRoute(w http.ResponseWriter, r *http.Request, g *gate.Rules) bool {
	route := magentopath.Match(r.URL.EscapedPath())
	switch route.Kind {
	case magentopath.GraphQL:
		h.refuse(w, http.StatusBadRequest, "path", strings.Replace(msgGraphQLAt, "%s", h.GraphQLPath, 1), errors.New(r.URL.Path))
		return true
	case magentopath.RESTCart:
		return h.checkREST(w, r, g, route)
	case magentopath.CouponPost:
		return h.checkCouponPost(w, r, g, route)
	}
	return false
}

// checkREST refuses gate codes in a REST cart route's path or JSON body.
func (h *Handler) checkREST(w http.ResponseWriter, r *http.Request, g *gate.Rules, route magentopath.Route) bool {
	if route.Coupon != "" && g.Codes().Typed(route.Coupon) {
		metrics.gate.WithLabelValues("refused_code").Inc()
		writeRESTError(w, http.StatusNotFound, msgCouponInvalid)
		return true
	}
	if !hasBody(r) {
		return false
	}
	body, err := h.peekRequestBody(r)
	if err != nil {
		metrics.refusals.WithLabelValues("too_large").Inc()
		writeRESTError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" || phpread.CheckJSON(body) != nil || !json.Valid(body) {
		// Magento's REST also reads XML and forms; the gate reads only JSON.
		metrics.refusals.WithLabelValues("unreadable").Inc()
		writeRESTError(w, http.StatusBadRequest, msgUnreadable)
		return true
	}
	var v any
	_ = json.Unmarshal(body, &v)
	if anyString(v, g.Codes().Typed) {
		metrics.gate.WithLabelValues("refused_code").Inc()
		writeRESTError(w, http.StatusNotFound, msgCouponInvalid)
		return true
	}
	return false
}

// checkCouponPost refuses a gate code posted to Luma's coupon form, wherever Magento's
// getParam would find coupon_code: the path's parameters, the query string or the form.
func (h *Handler) checkCouponPost(w http.ResponseWriter, r *http.Request, g *gate.Rules, route magentopath.Route) bool {
	typed := []string{route.Params["coupon_code"]}
	query := phpread.ParseQuery(r.URL.RawQuery)
	form, err := h.formVars(r)
	if err != nil || query.Dropped || form.Dropped {
		metrics.refusals.WithLabelValues("unreadable").Inc()
		h.lumaCouponRefused(w, r)
		return true
	}
	for _, vs := range []phpread.Vars{query, form} {
		for _, v := range vs.List {
			if v.Name == "coupon_code" {
				typed = append(typed, v.Value)
			}
		}
	}
	for _, code := range typed {
		if code != "" && g.Codes().Typed(code) {
			metrics.gate.WithLabelValues("refused_code").Inc()
			h.lumaCouponRefused(w, r)
			return true
		}
	}
	return false
}

// formVars reads the body PHP turns into $_POST: URL-encoded or multipart form data.
func (h *Handler) formVars(r *http.Request) (phpread.Vars, error) {
	if r.Method != http.MethodPost || !hasBody(r) {
		return phpread.Vars{}, nil
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := h.peekRequestBody(r)
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
func (h *Handler) lumaCouponRefused(w http.ResponseWriter, r *http.Request) {
	msgs, _ := json.Marshal([]map[string]string{{"type": "error", "text": msgCouponInvalid}})
	http.SetCookie(w, &http.Cookie{Name: "mage-messages", Value: strings.ReplaceAll(url.QueryEscape(string(msgs)), "+", "%20"), Path: "/", SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/checkout/cart/")
	w.WriteHeader(http.StatusFound)
}

// writeRESTError answers in Magento REST's error format.
func writeRESTError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// peekRequestBody reads up to MaxBody bytes of r's body and puts it back.
func (h *Handler) peekRequestBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > h.MaxBody {
		return nil, errors.New("request body over the limit")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.MaxBody+1))
	rest := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > h.MaxBody {
		return nil, errors.New("request body over the limit")
	}
	return body, nil
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
