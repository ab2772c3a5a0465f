package demostore

import (
	"strconv"
	"strings"
)

// cmsBlock is a CMS block (cms_block) of the default store view.
type cmsBlock struct {
	id         int
	identifier string
	title      string
	content    string
	active     bool
}

// demoCMSBlocks are the store's CMS blocks, by block id. winter-sale is disabled: cmsBlocks
// answers it as Magento answers a block that does not exist.
var demoCMSBlocks = []cmsBlock{
	{1, "home-hero", "Home Hero", `<div class="hero"><h2>New Luma Yoga Collection</h2><p>Get fit and look fab in new seasonal styles.</p><a class="action primary" href="/collections/yoga-new.html">Shop New Yoga</a></div>`, true},
	{2, "vip-hero", "VIP Hero", `<div class="hero hero-vip"><h2>Members save more this week</h2><p>Your VIP prices are already in your cart.</p><a class="action primary" href="/gear/bags.html">Shop Bags</a></div>`, true},
	{3, "footer-links", "Footer Links", `<ul class="footer links"><li class="nav item"><a href="/about-us">About us</a></li><li class="nav item"><a href="/customer-service">Customer Service</a></li><li class="nav item"><a href="/privacy-policy-cookie-restriction-mode">Privacy and Cookie Policy</a></li></ul>`, true},
	{4, "spring-sale", "Spring Sale", `<div class="banner banner-sale"><strong>Spring Sale</strong> <span>20% off bags and backpacks through April.</span></div>`, true},
	{5, "winter-sale", "Winter Sale", `<div class="banner banner-sale"><strong>Winter Sale</strong> <span>Ended.</span></div>`, false},
}

// cmsBlockBy finds an active block by identifier, or by block id when the identifier is
// numeric, as CmsGraphQl's Blocks resolver looks blocks up.
func cmsBlockBy(identifier string) (cmsBlock, bool) {
	numeric := isNumeric(identifier)
	for _, b := range demoCMSBlocks {
		if !b.active {
			continue
		}
		if numeric && itoaEqual(b.id, identifier) || !numeric && b.identifier == identifier {
			return b, true
		}
	}
	return cmsBlock{}, false
}

// isNumeric approximates PHP's is_numeric for the identifiers clients send: optional sign,
// digits, at most one decimal point.
func isNumeric(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	digits, dots := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// itoaEqual reports whether a numeric identifier names block id (PHP's (int) cast: "3.0"
// and " 3" name block 3).
func itoaEqual(id int, identifier string) bool {
	s := strings.TrimLeft(strings.TrimSpace(identifier), "+")
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return s == strconv.Itoa(id)
}

// dynamicBlock is an Adobe Commerce dynamic block (magento_banner) with its content for the
// default store view.
type dynamicBlock struct {
	id      int
	name    string
	content string
	enabled bool
	// types are the "Applies To" locations as Magento stores them (content, header, footer,
	// leftcolumn, rightcolumn).
	types []string
	// cartRule is the coupon code of the cart price rule the block is related to, "" for none.
	cartRule string
}

// demoDynamicBlocks are the store's dynamic blocks, in banner id order (the order
// dynamicBlocks answers them). Block 5 is disabled.
var demoDynamicBlocks = []dynamicBlock{
	{1, "Home hero", `<div class="hero"><h2>Summer is here</h2><p>Shop the new Luma collection.</p></div>`, true, []string{"content"}, ""},
	{2, "VIP hero", `<div class="hero hero-vip"><h2>VIP early access</h2><p>The summer collection, a week before everyone else.</p></div>`, true, []string{"content", "header"}, ""},
	{3, "Free shipping", `<p class="promo">Free shipping on orders over $100.</p>`, true, []string{"header"}, ""},
	{4, "Welcome coupon", `<p class="promo">WELCOME10 is in your cart: 10% off everything.</p>`, true, []string{"content"}, "WELCOME10"},
	{5, "Winter clearance", `<p class="promo">Winter clearance: up to 50% off.</p>`, false, []string{"content"}, ""},
}

// appliesTo reports whether the block's types match one of the locations, as Magento's
// filter does: types LIKE '%<location>%' for any location (case-insensitive).
func (b dynamicBlock) appliesTo(locations []string) bool {
	types := strings.ToLower(strings.Join(b.types, ","))
	for _, l := range locations {
		if strings.Contains(types, strings.ToLower(l)) {
			return true
		}
	}
	return false
}
