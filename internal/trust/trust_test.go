package trust

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

func TestPinsFirstIdentityWins(t *testing.T) {
	p, err := NewPins(10)
	if err != nil {
		t.Fatal(err)
	}
	var winners atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.Allow("cart", string(rune('a'+i%26))) {
				winners.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := winners.Load(); n < 1 || n > 2 { // the owner's letter appears twice among 50
		t.Fatalf("%d requests were allowed on one cart", n)
	}
	if !p.Allow("", "x") {
		t.Fatal("a request without a cart id is never pinned")
	}
}

func TestResolveModes(t *testing.T) {
	keys, err := signed.ParseKeys("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	mcfg := membership.Config{Source: membership.SourceHeaderThenCookie, HonorDNT: true, MaxSegments: 10, MaxBytes: 1024}
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("aep-segments-membership", "seg-a")
	if got := New(Config{Mode: Client, Membership: mcfg}).Resolve(r, true); len(got.Membership.Segments) != 1 {
		t.Fatalf("client mode: %+v", got)
	}
	var rejected []string
	signedTrust := New(Config{Mode: Signed, OrgID: "ORG@AdobeOrg", Cookie: "aud_m", Keys: keys, Membership: mcfg, OnReject: func(r string) { rejected = append(rejected, r) }})
	if got := signedTrust.Resolve(r, true); len(got.Membership.Segments) != 0 || got.Membership.Origin != membership.OriginNone {
		t.Fatalf("signed mode took the client's claim: %+v", got)
	}
	r.Header.Set("Cookie", "aud_m=forged")
	if got := signedTrust.Resolve(r, true); len(got.Membership.Segments) != 0 || len(rejected) != 1 {
		t.Fatalf("a forged cookie: %+v, rejections %q", got, rejected)
	}
	r.Header.Set("Cookie", "mg_dnt=1")
	if got := signedTrust.Resolve(r, true); got.Membership.Origin != membership.OriginDNT {
		t.Fatalf("do-not-track: %+v", got)
	}
}
