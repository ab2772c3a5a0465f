package demostore

import (
	"strings"
)

// Luma's customer account: sign-in (customer/account/loginPost), sign-out and the pages
// around them, for the store's one customer. Signing in makes the session the customer's and
// merges the guest quote into the customer cart (GraphQL's customerCart), as Magento's
// checkout session does at login.

// demoCustomerPassword is the demo customer's storefront password: Luma sample data's
// password of roni_cost@example.com.
const demoCustomerPassword = "roni_cost3@example.com"

// Messages of Magento's LoginPost controller.
const (
	msgLoginRequired  = "A login and a password are required."
	msgLoginIncorrect = "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)

// loginPage renders the sign-in form; a signed-in customer goes to the account page.
func (s *Store) loginPage(lc *lumaCall) {
	if lc.isCustomer() {
		lc.redirect(lc.url("customer/account/"))
		return
	}
	p := &htmlPage{}
	lc.pageStart(p, "Customer Login", "Customer Login", "customer-account-login")
	lc.pageMessages(p, "messages")
	lc.columnsStart(p)
	p.w(`<form class="form form-login" action="`, lc.url("customer/account/loginPost/"), `" method="post" id="login-form">
    <input name="form_key" type="hidden" value="`, escapeHTMLAttr(lc.formKey()), `" />
    <input name="login[username]" value="" autocomplete="off" id="email" type="email" class="input-text" title="Email" />
    <input name="login[password]" type="password" autocomplete="off" class="input-text" id="pass" title="Password" />
    <button type="submit" class="action login primary" name="send" id="send2"><span>Sign In</span></button>
</form>
`)
	lc.answerPage(p)
}

// isCustomer reports a signed-in session.
func (lc *lumaCall) isCustomer() bool {
	lc.s.mu.Lock()
	defer lc.s.mu.Unlock()
	return lc.sess.customer
}

// loginPost signs the demo customer in (form: form_key, login[username], login[password]) and
// redirects to the account page (customer/startup/redirect_dashboard). A wrong form key
// redirects to the account page without signing in, as Magento does; wrong or missing
// credentials go back to the sign-in page with Magento's message.
func (s *Store) loginPost(lc *lumaCall) {
	if !lc.validFormKeyPost() {
		if !isAJAX(lc.r) {
			lc.addMessage("error", msgInvalidFormKey)
		}
		lc.redirect(lc.url("customer/account/"))
		return
	}
	if lc.isCustomer() {
		lc.redirect(lc.url("customer/account/"))
		return
	}
	user := strings.TrimSpace(lc.r.PostFormValue("login[username]"))
	pass := lc.r.PostFormValue("login[password]")
	switch {
	case user == "" || pass == "":
		lc.addMessage("error", escapeHTML(msgLoginRequired))
		lc.redirect(lc.url("customer/account/login/"))
		return
	case !strings.EqualFold(user, demoCustomerEmail) || pass != demoCustomerPassword:
		lc.addMessage("error", escapeHTML(msgLoginIncorrect))
		lc.redirect(lc.url("customer/account/login/"))
		return
	}
	s.mu.Lock()
	s.signInLocked(lc.sess)
	s.mu.Unlock()
	lc.req.token = demoCustomerToken
	lc.privateChanged = true
	lc.redirect(lc.url("customer/account/"))
}

// signInLocked makes a session the demo customer's: the guest quote merges into the customer
// cart (items added, the guest's coupon replacing the customer's, as Quote::merge does), or
// becomes the customer cart when there is none; the session id is regenerated. s.mu must be
// held.
func (s *Store) signInLocked(sess *lumaSession) {
	guest := s.sessionCartLocked(sess, false)
	if guest != nil {
		if cust := s.activeCustomerCartLocked(); cust != nil {
			for _, it := range guest.items {
				_ = s.addLocked(cust, it.product, it.child, it.qty)
			}
			if len(guest.coupons) > 0 {
				cust.coupons = append([]string(nil), guest.coupons...)
			}
			guest.active = false
			s.touchLocked(guest)
			s.touchLocked(cust)
		} else {
			guest.customerID = demoCustomerID
			guest.email = demoCustomerEmail
			s.customerCart = guest.maskedID
			s.touchLocked(guest)
		}
	}
	sess.customer = true
	sess.cartID = ""
	s.regenerateLocked(sess)
}

// logout signs out: the session ends (with its quote, as Magento clears the checkout
// session) and the shopper lands on customer/account/logoutSuccess.
func (s *Store) logout(lc *lumaCall) {
	s.mu.Lock()
	if lc.sess.customer {
		formKey := lc.sess.formKey
		s.destroyLocked(lc.sess)
		lc.sess = s.newSessionLocked(s.Now())
		lc.sess.formKey = formKey
	}
	s.mu.Unlock()
	lc.req.token = ""
	lc.privateChanged = true
	lc.redirect(lc.url("customer/account/logoutSuccess/"))
}

// accountPage is customer/account (the dashboard, for a signed-in customer) and, with
// signedOut, customer/account/logoutSuccess: the signed-out page, which Magento renders for
// anyone (the action needs no sign-in and shows no account).
func (s *Store) accountPage(lc *lumaCall, signedOut bool) {
	if !signedOut && !lc.isCustomer() {
		lc.redirect(lc.url("customer/account/login/"))
		return
	}
	p := &htmlPage{}
	if !signedOut {
		lc.pageStart(p, "My Account", "My Account", "customer-account-index")
		lc.pageMessages(p, "messages")
		lc.columnsStart(p)
		p.w(`<div class="block block-dashboard-info"><div class="box-content"><p>`,
			escapeHTML(demoCustomerFirstname+" "+demoCustomerLastname), "<br>\n", escapeHTML(demoCustomerEmail), "<br>\n</p></div></div>\n")
	} else {
		lc.pageStart(p, "You are signed out", "You are signed out", "customer-account-logoutsuccess")
		lc.columnsStart(p)
		p.w("<p>You have signed out and will go to our homepage in 5 seconds.</p>\n")
	}
	lc.answerPage(p)
}
