package demostore

import (
	"fmt"
	"strings"
)

// Edition is the Magento edition the demo store answers as.
type Edition string

// The editions: Adobe Commerce 2.4.7 (the store's schema as written) and Magento Open Source
// 2.4.7, as recorded in the shared fixtures.
const (
	EditionCommerce   Edition = "commerce"
	EditionOpenSource Edition = "open-source"
)

// ParseEdition reads an edition name; empty means EditionCommerce.
func ParseEdition(s string) (Edition, error) {
	switch e := Edition(s); e {
	case "":
		return EditionCommerce, nil
	case EditionCommerce, EditionOpenSource:
		return e, nil
	}
	return "", fmt.Errorf("unknown edition %q (want commerce or open-source)", s)
}

// openSourceLacks are the schema fields of the store that Magento Open Source 2.4.7 does not
// have, by the start of their definition line: Adobe Commerce's gift cards, gift options and
// multi-coupon mutations, and CartPrices.grand_total_excluding_tax. Selecting one is a
// validation error there.
var openSourceLacks = []string{
	"applyCouponsToCart(",
	"removeCouponsFromCart(",
	"applied_gift_cards: [AppliedGiftCard]",
	"grand_total_excluding_tax: Money",
	"gift_options: GiftOptionsPrices",
}

// schema returns the GraphQL schema of the edition: Adobe Commerce's adds dynamic blocks.
func (e Edition) schema() string {
	if e != EditionOpenSource {
		return schemaSDL + "\n" + bannerSchemaSDL
	}
	lines := strings.Split(schemaSDL, "\n")
	kept := lines[:0]
	for _, line := range lines {
		if !lacks(strings.TrimSpace(line)) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

func lacks(def string) bool {
	for _, prefix := range openSourceLacks {
		if strings.HasPrefix(def, prefix) {
			return true
		}
	}
	return false
}

// check refuses an unknown edition and options the edition cannot serve.
func (e Edition) check(maxCoupons int) error {
	if _, err := ParseEdition(string(e)); err != nil {
		return err
	}
	if e == EditionOpenSource && maxCoupons > 1 {
		return fmt.Errorf("edition %s: several coupons per cart need Adobe Commerce", e)
	}
	return nil
}
