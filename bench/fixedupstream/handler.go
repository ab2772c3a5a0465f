package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Route names, which are also the recorded files' base names and the X-Fixed-Response value.
const (
	routeAugmented = "cart-augmented"
	routeCart      = "cart"
	routeNoCart    = "nocart"
)

// maxRequestBody bounds how much of a POST body is read to find the query.
const maxRequestBody = 1 << 20

// fixedResponse is one recorded body, ready to be written.
type fixedResponse struct {
	body   []byte
	length string
}

// handler answers /graphql with the recorded body for the kind of operation asked.
type handler struct {
	responses map[string]fixedResponse
}

// loadHandler reads the recorded bodies from dir.
func loadHandler(dir string) (*handler, error) {
	h := &handler{responses: map[string]fixedResponse{}}
	for _, name := range []string{routeAugmented, routeCart, routeNoCart} {
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			return nil, fmt.Errorf("recorded response: %w", err)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("recorded response %s.json: not valid JSON", name)
		}
		h.responses[name] = fixedResponse{body: b, length: strconv.Itoa(len(b))}
	}
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/graphql" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	query, err := requestQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name := route(query)
	resp := h.responses[name]
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{resp.length}
	hdr["Cache-Control"] = []string{"no-store"}
	hdr["X-Fixed-Response"] = []string{name}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp.body)
}

// cartSelection finds a field that returns a cart: cart(...), customerCart, or a mutation
// payload's cart { ... }.
var cartSelection = regexp.MustCompile(`(^|[^A-Za-z0-9_])(cart\s*[({]|customerCart\b)`)

// route names the recorded response for a GraphQL query text.
func route(query string) string {
	switch {
	case strings.Contains(query, "_aud_"):
		return routeAugmented
	case cartSelection.MatchString(query):
		return routeCart
	}
	return routeNoCart
}

// requestQuery returns the GraphQL query of a GET query string, a POST JSON body or an
// application/graphql body.
func requestQuery(r *http.Request) (string, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query().Get("query"), nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/graphql" {
		return string(body), nil
	}
	var req struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return "", fmt.Errorf("request body: %w", err)
	}
	return req.Query, nil
}
