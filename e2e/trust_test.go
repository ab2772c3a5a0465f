package e2e

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
)

const (
	trustOrg    = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	identityKey = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity"
	// Adobe's published sample identity cookie and its ECID.
	sampleIdentity = "CiY0NzE0NzkwMTUyMzYzMzI4NDAxMjc3NDcwNzA2NTcxMjI3OTI1NVIRCJ_S-uCRMRABGAEqBElSTDHwAZ_S-uCRMQ=="
	sampleECID     = "47147901523633284012774707065712279255"
	otherECID      = "11111111111111111111111111111111111111"
	membershipKey  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// identityCookie encodes an ECID the way the Web SDK's identity cookie does: a protobuf whose
// field 1 is the ECID, base64url.
func identityCookie(ecid string) string {
	return base64.URLEncoding.EncodeToString(append([]byte{0x0a, byte(len(ecid))}, ecid...))
}

// startTrusted runs the demo store with the gate's coupon rules, a fake Edge Network that
// knows the sample ECID as a VIP, and the sidecar in trust edge mode.
func startTrusted(t *testing.T) (base, store string, fake *edgetest.Fake) {
	t.Helper()
	fake = &edgetest.Fake{DatastreamID: "ds-test", OrgID: trustOrg, Destinations: []edgetest.Destination{{
		Alias:    "sidecar",
		Profiles: map[string][]string{sampleECID: {segVIP}, otherECID: {segVIP}},
	}}}
	edgeSrv := httptest.NewServer(fake)
	t.Cleanup(edgeSrv.Close)
	store = startStore(t, "-coupon-rules", "testdata/coupon_rules.json")
	base = startSidecar(t, store, `audiences {
		rules testdata/gate_rules.json
		trust edge
		org_id `+trustOrg+`
		membership_keys `+membershipKey+`
		edge {
			datastream_id ds-test
			edge_url `+edgeSrv.URL+`
		}
	}`)
	return base, store, fake
}

// TestTrustEdgeSpoofedMembershipGetsNothing: in edge mode the browser's claim counts for nothing.
func TestTrustEdgeSpoofedMembershipGetsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store, fake := startTrusted(t)
	cartID := newCart(t, base, line{"24-WG02", 1})
	query := `query($c: String!) { cart(cart_id: $c) { prices { grand_total { value } } } }`
	r := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{
		"aep-segments-membership": segVIP,
		"Cookie":                  "aep-segments-membership=" + segVIP,
		"X-Audience-Segments":     segVIP,
	})
	if got := r.header.Get("X-Demo-Received-Segments"); got != "" {
		t.Fatalf("the backend received %q from a spoofed claim", got)
	}
	if got := backendCoupons(t, store, cartID); len(got) != 0 {
		t.Fatalf("a spoofed claim got the gate coupon: %q", got)
	}
	if fake.Calls() != 0 {
		t.Fatalf("no identity cookie must mean no Edge Network call, got %d", fake.Calls())
	}
}

// TestTrustEdgeGrantsGate: the Edge Network's answer grants the gate, is signed into the
// sidecar's cookie, and that cookie spares later lookups; a tampered cookie is ignored.
func TestTrustEdgeGrantsGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, store, fake := startTrusted(t)
	cartID := newCart(t, base, line{"24-WG02", 1})
	query := `query($c: String!) { cart(cart_id: $c) { prices { grand_total { value } discounts { label } } } }`
	identity := identityKey + "=" + sampleIdentity
	r := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": identity})
	if !strings.Contains(string(r.body), "VIP price") || r.header.Get("X-Demo-Received-Segments") != segVIP {
		t.Fatalf("edge membership not applied: %s (backend saw %q)", r.body, r.header.Get("X-Demo-Received-Segments"))
	}
	if got := backendCoupons(t, store, cartID); len(got) != 1 || got[0] != "AUD-VIP-7Q2X" {
		t.Fatalf("backend coupons %q", got)
	}
	var signedCookie *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "aud_m" {
			signedCookie = c
		}
	}
	if signedCookie == nil || !signedCookie.HttpOnly || !signedCookie.Secure || signedCookie.SameSite != http.SameSiteLaxMode || signedCookie.Path != "/" {
		t.Fatalf("signed membership cookie: %+v", signedCookie)
	}
	calls := fake.Calls()
	r = graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": identity + "; aud_m=" + signedCookie.Value})
	if fake.Calls() != calls || !strings.Contains(string(r.body), "VIP price") {
		t.Fatalf("the signed cookie did not spare a lookup (%d → %d calls): %s", calls, fake.Calls(), r.body)
	}
	// Flip one character of the payload: the cookie must be refused, so the sidecar falls
	// back to the (cached) Edge answer and issues a fresh cookie, which it never does for a
	// valid one.
	b := []byte(signedCookie.Value)
	if b[3] == 'A' {
		b[3] = 'B'
	} else {
		b[3] = 'A'
	}
	r = graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": identity + "; aud_m=" + string(b)})
	if !strings.Contains(r.header.Get("Set-Cookie"), "aud_m=") || !strings.Contains(string(r.body), "VIP price") {
		t.Fatalf("a tampered cookie was taken (no fresh cookie issued): %v %s", r.header, r.body)
	}
	valid := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": identity + "; aud_m=" + signedCookie.Value})
	if valid.header.Get("Set-Cookie") != "" {
		t.Fatalf("a valid cookie must not be reissued: %v", valid.header)
	}
	if r := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": "aud_m=" + signedCookie.Value}); strings.Contains(string(r.body), "VIP price") {
		t.Fatalf("a signed cookie without its identity cookie was trusted: %s", r.body)
	}
}

// TestTrustEdgeCartPinned: a copied identity cookie cannot carry audiences onto a cart first
// seen with another identity.
func TestTrustEdgeCartPinned(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	base, _, _ := startTrusted(t)
	cartID := newCart(t, base, line{"24-WG02", 1})
	query := `query($c: String!) { cart(cart_id: $c) { prices { discounts { label } } } }`
	owner := identityKey + "=" + identityCookie(otherECID)
	if r := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": owner}); !strings.Contains(string(r.body), "VIP price") {
		t.Fatalf("owner: %s", r.body)
	}
	intruder := identityKey + "=" + sampleIdentity
	if r := graphql(t, base, query, map[string]any{"c": cartID}, map[string]string{"Cookie": intruder}); strings.Contains(string(r.body), "VIP price") {
		t.Fatalf("another identity priced a pinned cart: %s", r.body)
	}
}
