package caddymodule

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/fleet"
)

// BenchmarkSharedState measures what shared_state costs a gated cart read whose cart is in
// line (it holds its pool code and its shopper, trust signed, owns it), on file_system
// storage in a temporary directory:
//
//   - memory: shared_state off, today's single instance;
//   - shared-hit: the cart is known to this instance: its local caches answer, no storage call;
//   - shared-miss: every request is a cart this instance has never seen, whose pin and pool
//     claim another instance stored: the pin, the claim and the cart's assignment are read.
//
// The upstream is a handler that writes an answer the demo store gave for such a cart, with
// the cart id and code of the iteration, so only the sidecar's own work is measured.
func BenchmarkSharedState(b *testing.B) {
	for _, mode := range []string{"memory", "shared-hit", "shared-miss"} {
		b.Run(mode, func(b *testing.B) { benchSharedState(b, mode) })
	}
}

func benchSharedState(b *testing.B, mode string) {
	shop := newFleetShop(b, b.N+1)
	h := &Handler{Name: "shop", Rules: shop.rules, Trust: TrustSigned, OrgID: testOrg, MembershipKeys: []string{testKey}, PlanCacheSize: 100 + len(mode)}
	storage := shop.storage()
	if mode != "memory" {
		h.SharedState, h.storage = true, storage
	}
	provisioned(b, h)
	h.logger = zap.NewNop()

	// One cart holding the pool's first code at the demo store; its answer is the template.
	cart := shop.newCart(b)
	shop.graphql(b, `mutation($c: String!, $code: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: $code}) { cart { id } } }`,
		map[string]any{"c": cart, "code": shop.codes[0]})
	var template []byte
	record := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		rec := &recorder{ResponseWriter: w}
		err := shop.next.ServeHTTP(rec, r)
		template = rec.body.Bytes()
		return err
	})
	req := shopperRequest(b, cart, testECID)
	cookie, target := req.Header.Get("Cookie"), req.URL.String() // before the handler augments req
	if body := serveTo(b, h, req, record); !strings.Contains(body, "Members' price") || !bytes.Contains(template, []byte(shop.codes[0])) {
		b.Fatalf("template: %s (answer %s)", template, body)
	}

	carts := make([]string, b.N)
	for i := range carts {
		carts[i] = cart
	}
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = shop.codes[0]
	}
	if mode == "shared-miss" {
		other := fleet.New(shop.storage(), "shop", time.Minute, nil)
		for i := range b.N {
			carts[i], codes[i] = fmt.Sprintf("%032d", i), shop.codes[i+1]
			if won, err := other.Ledger("pool-gate").Claim(codes[i], carts[i]); !won || err != nil {
				b.Fatal(won, err)
			}
			if _, err := other.PinFirst(carts[i], testECID); err != nil {
				b.Fatal(err)
			}
		}
	}
	w := &pricedWriter{header: http.Header{}}
	repl := caddy.NewReplacer()
	before := storage.calls()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := bytes.ReplaceAll(bytes.ReplaceAll(template, []byte(cart), []byte(carts[i])), []byte(shop.codes[0]), []byte(codes[i]))
		r, _ := http.NewRequestWithContext(context.WithValue(context.Background(), caddy.ReplacerCtxKey, repl), http.MethodGet, strings.Replace(target, cart, carts[i], 1), nil)
		r.Header.Set("Cookie", cookie)
		r.Header.Set("Store", "default")
		clear(w.header)
		if err := h.ServeHTTP(w, r, answerWith(body)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if w.priced != b.N {
		b.Fatalf("%d of %d answers carried the members' discount", w.priced, b.N)
	}
	b.ReportMetric(float64(storage.calls()-before)/float64(b.N), "storage-calls/op")
}

// pricedWriter is a ResponseWriter that keeps nothing but counts the answers that show the
// members' discount.
type pricedWriter struct {
	header http.Header
	priced int
}

func (w *pricedWriter) Header() http.Header { return w.header }
func (w *pricedWriter) WriteHeader(int)     {}
func (w *pricedWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("Members' price")) {
		w.priced++
	}
	return len(p), nil
}

// recorder keeps a copy of what passes through.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// answerWith is an upstream that answers body, as Magento answers a cart read.
func answerWith(body []byte) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, err := w.Write(body)
		return err
	})
}

// serveTo runs r through h with next and returns the answer.
func serveTo(b testing.TB, h *Handler, r *http.Request, next caddyhttp.Handler) string {
	b.Helper()
	w := &bodyWriter{header: http.Header{}}
	if err := h.ServeHTTP(w, r, next); err != nil {
		b.Fatal(err)
	}
	return w.body.String()
}

// bodyWriter is a ResponseWriter that keeps the body.
type bodyWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *bodyWriter) Header() http.Header         { return w.header }
func (w *bodyWriter) WriteHeader(int)             {}
func (w *bodyWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
