package demostore

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// LumaCSP is how the demo store's checkout page allows its inline scripts under its
// enforcing Content-Security-Policy.
type LumaCSP string

// The two ways. Magento Open Source 2.4.7-p3 (fixture 15) gives every inline script of the
// checkout page a per-request nonce and lists 'nonce-…' plus the sha256 hashes of its
// csp_whitelist.xml entries (which match no script of the page): an edited script stays
// allowed. LumaCSPHash (the default) lists the sha256 hash of every inline script of the
// page instead of the nonce, the form Magento's InlineUtil::renderTag produces: a proxy that
// edits a script must put the new script's hash into the header.
const (
	LumaCSPHash  LumaCSP = "hash"
	LumaCSPNonce LumaCSP = "nonce"
)

// ParseLumaCSP reads a LumaCSP; empty means LumaCSPHash.
func ParseLumaCSP(s string) (LumaCSP, error) {
	switch m := LumaCSP(s); m {
	case "":
		return LumaCSPHash, nil
	case LumaCSPHash, LumaCSPNonce:
		return m, nil
	}
	return "", fmt.Errorf("unknown Luma CSP mode %q (want hash or nonce)", s)
}

// storefrontPolicy is the storefront Content-Security-Policy of the recorded store, directive
// by directive, as pages other than checkout send it in Content-Security-Policy-Report-Only.
// The checkout page sends it enforced, with scriptSrcHosts followed by its own sources as
// script-src.
var storefrontPolicy = []string{
	"font-src fonts.gstatic.com use.typekit.net *.typekit.net *.gstatic.com data: 'self' 'unsafe-inline'",
	"form-action geostag.cardinalcommerce.com geo.cardinalcommerce.com 1eafstag.cardinalcommerce.com 1eaf.cardinalcommerce.com centinelapistag.cardinalcommerce.com centinelapi.cardinalcommerce.com pilot-payflowlink.paypal.com www.paypal.com www.sandbox.paypal.com *.paypal.com *.cardinalcommerce.com 3ds-secure.cardcomplete.com www.clicksafe.lloydstsb.com pay.activa-card.com *.wirecard.com acs.sia.eu *.touchtechpayments.com www.securesuite.co.uk rsa3dsauth.com *.monzo.com *.arcot.com *.wlp-acs.com * 'self' 'unsafe-inline'",
	"frame-ancestors 'self'",
	"frame-src fast.amc.demdex.net *.adobe.com bid.g.doubleclick.net *.youtube.com *.youtube-nocookie.com geostag.cardinalcommerce.com geo.cardinalcommerce.com 1eafstag.cardinalcommerce.com 1eaf.cardinalcommerce.com centinelapistag.cardinalcommerce.com centinelapi.cardinalcommerce.com www.paypal.com www.sandbox.paypal.com pilot-payflowlink.paypal.com player.vimeo.com https://www.google.com/recaptcha/ *.braintreegateway.com *.paypal.com google.com *.google.com c.paypal.com checkout.paypal.com assets.braintreegateway.com pay.google.com *.cardinalcommerce.com * 'self' 'unsafe-inline'",
	"img-src assets.adobedtm.com amcglobal.sc.omtrdc.net dpm.demdex.net cm.everesttech.net *.adobe.com widgets.magentocommerce.com data: www.googleadservices.com www.google-analytics.com googleads.g.doubleclick.net www.google.com bid.g.doubleclick.net analytics.google.com www.googletagmanager.com *.ftcdn.net *.behance.net t.paypal.com www.paypal.com www.paypalobjects.com fpdbs.paypal.com fpdbs.sandbox.paypal.com *.vimeocdn.com i.ytimg.com *.youtube.com p.typekit.net *.paypal.com *.typekit.net *.gstatic.com validator.swagger.io www.sandbox.paypal.com b.stats.paypal.com dub.stats.paypal.com assets.braintreegateway.com c.paypal.com checkout.paypal.com data: 'self' 'unsafe-inline'",
	"script-src assets.adobedtm.com *.adobe.com www.googleadservices.com www.google-analytics.com googleads.g.doubleclick.net analytics.google.com www.googletagmanager.com *.newrelic.com *.nr-data.net geostag.cardinalcommerce.com 1eafstag.cardinalcommerce.com geoapi.cardinalcommerce.com 1eafapi.cardinalcommerce.com songbird.cardinalcommerce.com includestest.ccdc02.com *.commerce-payment-services.com www.paypal.com www.sandbox.paypal.com www.paypalobjects.com t.paypal.com s.ytimg.com www.googleapis.com vimeo.com www.vimeo.com *.vimeocdn.com *.youtube.com https://www.gstatic.com/recaptcha/ https://www.google.com/recaptcha/ amcglobal.sc.omtrdc.net *.magento-ds.com use.typekit.net *.typekit.net google.com *.google.com *.cdn-apple.com js.braintreegateway.com assets.braintreegateway.com c.paypal.com pay.google.com api.braintreegateway.com api.sandbox.braintreegateway.com client-analytics.braintreegateway.com client-analytics.sandbox.braintreegateway.com *.paypal.com songbirdstag.cardinalcommerce.com 'self' 'unsafe-inline' 'unsafe-eval'",
	"style-src *.adobe.com fonts.googleapis.com assets.braintreegateway.com 'self' 'unsafe-inline'",
	"object-src 'self' 'unsafe-inline'",
	"media-src *.adobe.com 'self' 'unsafe-inline'",
	"manifest-src 'self' 'unsafe-inline'",
	"connect-src dpm.demdex.net amcglobal.sc.omtrdc.net www.google-analytics.com www.googleadservices.com analytics.google.com www.googletagmanager.com *.newrelic.com *.nr-data.net vimeo.com geostag.cardinalcommerce.com geo.cardinalcommerce.com 1eafstag.cardinalcommerce.com 1eaf.cardinalcommerce.com centinelapistag.cardinalcommerce.com centinelapi.cardinalcommerce.com www.sandbox.paypal.com www.paypalobjects.com www.paypal.com pilot-payflowlink.paypal.com *.adobe.io performance.typekit.net *.sentry.io *.paypal.com google.com *.google.com api.braintreegateway.com api.sandbox.braintreegateway.com client-analytics.braintreegateway.com client-analytics.sandbox.braintreegateway.com *.braintree-api.com *.cardinalcommerce.com 'self' 'unsafe-inline'",
	"child-src assets.braintreegateway.com c.paypal.com *.paypal.com http: https: blob: 'self' 'unsafe-inline'",
	"default-src 'self' 'unsafe-inline' 'unsafe-eval'",
	"base-uri 'self' 'unsafe-inline'",
}

// scriptSrcHosts are the hosts of the script-src directive.
const scriptSrcHosts = "assets.adobedtm.com *.adobe.com www.googleadservices.com www.google-analytics.com googleads.g.doubleclick.net analytics.google.com www.googletagmanager.com *.newrelic.com *.nr-data.net geostag.cardinalcommerce.com 1eafstag.cardinalcommerce.com geoapi.cardinalcommerce.com 1eafapi.cardinalcommerce.com songbird.cardinalcommerce.com includestest.ccdc02.com *.commerce-payment-services.com www.paypal.com www.sandbox.paypal.com www.paypalobjects.com t.paypal.com s.ytimg.com www.googleapis.com vimeo.com www.vimeo.com *.vimeocdn.com *.youtube.com https://www.gstatic.com/recaptcha/ https://www.google.com/recaptcha/ amcglobal.sc.omtrdc.net *.magento-ds.com use.typekit.net *.typekit.net google.com *.google.com *.cdn-apple.com js.braintreegateway.com assets.braintreegateway.com c.paypal.com pay.google.com api.braintreegateway.com api.sandbox.braintreegateway.com client-analytics.braintreegateway.com client-analytics.sandbox.braintreegateway.com *.paypal.com songbirdstag.cardinalcommerce.com"

// whitelistHashes are the script hashes of the recorded store's csp_whitelist.xml files, listed
// on its checkout page next to the nonce.
var whitelistHashes = []string{
	"sha256-W5akSSK6LD5BjIlNICMcXaUObQSRAaj6bs7JHADURBA=",
	"sha256-3qVqeAdyxxTdPkkRzqapjGkAUYLahxSrB7Mdup+GPQ0=",
	"sha256-2rvfFrggTCtyF5WOiTri1gDS8Boibj4Njn0e+VCBmDI=",
	"sha256-p8MCfMHqrovsjRYU9z0bU17dd0z81k/fVbGrtBBiM9g=",
	"sha256-0pk2s4oXwBELlC6IBVb3nNaM2PjfjwI2N6OGIX5lx8Y=",
	"sha256-nkEZknO0IxNxY/CkTMBhjNhwPvglpYumjx31B4fjkY8=",
}

// reportOnlyPolicy is the Content-Security-Policy-Report-Only value of storefront pages.
func reportOnlyPolicy() string {
	return strings.Join(storefrontPolicy, "; ") + ";"
}

// checkoutPolicy is the enforcing Content-Security-Policy of the checkout page: the
// storefront policy whose script-src drops 'unsafe-inline' for the given sources.
func checkoutPolicy(sources []string) string {
	dirs := make([]string, len(storefrontPolicy))
	for i, d := range storefrontPolicy {
		if strings.HasPrefix(d, "script-src ") {
			d = "script-src " + scriptSrcHosts + " 'self' 'unsafe-eval' 'unsafe-hashes' " + strings.Join(sources, " ")
		}
		dirs[i] = d
	}
	return strings.Join(dirs, "; ") + ";"
}

// scriptHash is the CSP source allowing an inline script: 'sha256-' and the base64 of the
// SHA-256 of the script's text, exactly as it stands between <script…> and </script>.
func scriptHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// cspSources lists what the checkout page's script-src allows besides its hosts: the nonce
// (LumaCSPNonce) or the hash of every inline script (LumaCSPHash), then the whitelist hashes.
func cspSources(mode LumaCSP, nonce string, scripts []string) []string {
	var out []string
	if mode == LumaCSPNonce {
		out = append(out, "'nonce-"+nonce+"'")
	} else {
		for _, s := range scripts {
			out = append(out, scriptHash(s))
		}
	}
	for _, h := range whitelistHashes {
		out = append(out, "'"+h+"'")
	}
	return out
}

// newNonce is a CSP nonce as Magento's CspNonceProvider makes it: base64 of 32 random
// characters.
func newNonce() string {
	return base64.StdEncoding.EncodeToString([]byte(randomString(sessionIDAlphabet+"wxyz", 32)))
}
