package demostore

import (
	"strings"
)

// The frame of the demo store's Luma pages: Luma's head (with its inline require.js
// configuration script), header, title and footer, much shorter than Magento's 180 KB pages
// but spelled like them where it matters. Every executable inline script goes through
// htmlPage.script so the checkout page can list it in its Content-Security-Policy.

// htmlPage collects a page's HTML and the text of its executable inline scripts.
type htmlPage struct {
	b strings.Builder
	// nonce, when set, goes on every executable inline script (LumaCSPNonce).
	nonce string
	// scripts are the texts of the executable inline scripts, in page order.
	scripts []string
}

// w appends HTML.
func (p *htmlPage) w(parts ...string) {
	for _, s := range parts {
		p.b.WriteString(s)
	}
}

// script writes an executable inline script with the given attributes (each with its
// leading space) and records its text.
func (p *htmlPage) script(attrs, text string) {
	p.w("<script", attrs)
	if p.nonce != "" {
		p.w(` nonce="`, escapeHTMLAttr(p.nonce), `"`)
	}
	p.w(">", text, "</script>")
	p.scripts = append(p.scripts, text)
}

// initScript writes a text/x-magento-init block: JSON for Luma's widgets, not executed by the
// browser, so no CSP source is needed for it.
func (p *htmlPage) initScript(json string) {
	p.w("<script type=\"text/x-magento-init\">\n", json, "\n</script>\n")
}

// String returns the page.
func (p *htmlPage) String() string { return p.b.String() }

// staticURL is the URL of a static asset of the Luma theme.
func (lc *lumaCall) staticURL(path string) string {
	return lc.url("static/" + staticVersion + "/frontend/Magento/luma/en_US/" + path)
}

// pageStart writes the head (titled title), the header with the customer's greeting or the
// sign-in link, and the page heading.
func (lc *lumaCall) pageStart(p *htmlPage, title, heading, bodyClass string) {
	p.w("<!doctype html>\n<html lang=\"en\">\n    <head >\n        ")
	p.script("", "\n    var LOCALE = 'en\\u002DUS';\n    var BASE_URL = '"+escapeJS(lc.base)+"';\n"+
		"    var require = {\n        'baseUrl': '"+escapeJS(strings.TrimSuffix(lc.staticURL(""), "/"))+"'\n    };")
	p.w(`        <meta charset="utf-8"/>
<meta name="title" content="`, escapeHTML(title), `"/>
<meta name="robots" content="INDEX,FOLLOW"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="format-detection" content="telephone=no"/>
<title>`, escapeHTML(title), `</title>
<script  type="text/javascript"  src="`, lc.staticURL("requirejs/require.js"), `"></script>
    </head>
    <body data-container="body"
          data-mage-init='{"loaderAjax": {}, "loader": { "icon": "`, lc.staticURL("images/loader-2.gif"), `"}}'
        id="html-body" class="`, bodyClass, ` page-layout-1column">
<div class="page-wrapper"><header class="page-header"><div class="panel wrapper"><div class="panel header"><ul class="header links">`)
	if lc.isCustomer() {
		p.w(`<li class="greet welcome"><span class="logged-in">Welcome, `, escapeHTML(demoCustomerFirstname+" "+demoCustomerLastname),
			`!</span></li><li><a href="`, lc.url("customer/account/logout/"), `">Sign Out</a></li>`)
	} else {
		p.w(`<li class="authorization-link"><a href="`, lc.url("customer/account/login/"), `">Sign In</a></li>`)
	}
	p.w(`<li><a class="action showcart" href="`, lc.url("checkout/cart/"), `"><span class="text">My Cart</span></a></li></ul></div></div></header>`,
		`<main id="maincontent" class="page-main"><a id="contentarea" tabindex="-1"></a>
<div class="page-title-wrapper">
    <h1 class="page-title"
                >
        <span class="base" data-ui-id="page-title-wrapper" >`, escapeHTML(heading), `</span>    </h1>
    </div>
`)
}

// pageMessages renders the session's waiting messages as Luma's messages block does (the
// cart page's validation messages, fixture 05) and empties the queue.
func (lc *lumaCall) pageMessages(p *htmlPage, uiPrefix string) {
	msgs := lc.takeMessages()
	if len(msgs) == 0 {
		return
	}
	p.w(`<div class="messages">`)
	for _, m := range msgs {
		p.w(`<div class="message message-`, m.typ, ` `, m.typ, `"><div data-ui-id="`, uiPrefix, `-message-`, m.typ, `" >`, "\n", m.text, `</div></div>`)
	}
	p.w(`</div>`)
}

// columnsStart opens the main column with the hidden form key, as every Luma page does.
func (lc *lumaCall) columnsStart(p *htmlPage) {
	p.w(`<div class="columns"><div class="column main"><input name="form_key" type="hidden" value="`, escapeHTMLAttr(lc.formKey()), `" />`)
}

// answerPage closes a storefront page and answers it.
func (lc *lumaCall) answerPage(p *htmlPage) {
	lc.pageEnd(p)
	lc.html(kindPage, p.String())
}

// pageEnd closes the main column, the page and the document.
func (lc *lumaCall) pageEnd(p *htmlPage) {
	p.w("</div></div></main><footer class=\"page-footer\"><div class=\"footer content\"><small class=\"copyright\">",
		"<span>Copyright © 2013-present Magento, Inc. All rights reserved.</span></small></div></footer></div>    </body>\n</html>\n")
}
