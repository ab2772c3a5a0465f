package demostore

import "fmt"

// Magento GraphQL exception categories (Magento\Framework\GraphQl\Exception).
const (
	categoryInput          = "graphql-input"
	categoryNoSuchEntity   = "graphql-no-such-entity"
	categoryAuthorization  = "graphql-authorization"
	categoryAuthentication = "graphql-authentication"
)

// magentoError is a resolver error that graphql-go reports with Magento's
// extensions.category, like the GraphQl*Exception classes do.
type magentoError struct {
	message  string
	category string
	extra    map[string]any
}

func (e *magentoError) Error() string { return e.message }

// Extensions implements graphql-go's ResolverError.
func (e *magentoError) Extensions() map[string]any {
	ext := map[string]any{"category": e.category}
	for k, v := range e.extra {
		ext[k] = v
	}
	return ext
}

func inputError(format string, a ...any) error {
	return &magentoError{message: fmt.Sprintf(format, a...), category: categoryInput}
}

func noSuchEntity(format string, a ...any) error {
	return &magentoError{message: fmt.Sprintf(format, a...), category: categoryNoSuchEntity}
}

func authorizationError(format string, a ...any) error {
	return &magentoError{message: fmt.Sprintf(format, a...), category: categoryAuthorization}
}

// placeOrderError is Magento's QuoteException: an input error carrying a PlaceOrderErrorCodes
// value in extensions.error_code.
func placeOrderError(code, message string) error {
	return &magentoError{message: message, category: categoryInput, extra: map[string]any{"error_code": code}}
}

// Messages worded exactly as Magento 2.4.7 words them.
const (
	msgCartNotActive        = "The cart isn't active."
	msgCouponInvalid        = "The coupon code isn't valid. Verify the code and try again."
	msgCouponAlreadyThere   = "A coupon is already applied to the cart. Please remove it to apply another"
	msgCouponEmptyCart      = "Cart does not contain products."
	msgCouponRemoveEmpty    = "Cart does not contain products"
	msgCustomerOnly         = "The request is allowed for logged in customer"
	msgCustomerUnknown      = "The current customer isn't authorized."
	msgItemNotInCart        = "The cart doesn't contain the item"
	msgNoShippingAddress    = "The shipping address is missing. Set the address and try again."
	msgGuestEmailMissing    = "Guest email for cart is missing."
	msgPaymentUnavailable   = "The requested Payment Method is not available."
	msgGuestCartForCustomer = "Use `Query.customerCart` for logged in customer."
)

func cartNotFound(maskedID string) error {
	return noSuchEntity("Could not find a cart with ID \"%s\"", maskedID)
}

func productNotFoundMessage(sku string) string {
	return fmt.Sprintf("Could not find a product with SKU \"%s\"", sku)
}

func cartForbidden(maskedID string) error {
	return authorizationError("The current user cannot perform operations on cart \"%s\"", maskedID)
}

func missingParam(name string) error {
	return inputError("Required parameter \"%s\" is missing", name)
}
