// The cart mutations Venia sends, each a small resolver over the store's cart model: they are
// kept in one file, beside the schema's Mutation type they implement (over 500 lines for that
// reason).

package demostore

import (
	"context"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
	graphql "github.com/graph-gophers/graphql-go"
)

// cartOutput resolves every mutation output whose only field is cart.
type cartOutput struct {
	Cart *cartResolver
}

// mutate runs fn on an accessible cart under the store lock and resolves the result.
func (r *rootResolver) mutate(ctx context.Context, maskedID string, fn func(c *cart, req *requestInfo) error) (*cartResolver, error) {
	req := requestFrom(ctx)
	req.touchCart()
	c, err := r.s.updateCart(maskedID, req, func(c *cart) error { return fn(c, req) })
	if err != nil {
		return nil, err
	}
	return r.s.newCartResolver(c, req), nil
}

func (r *rootResolver) mutateOutput(ctx context.Context, maskedID string, fn func(c *cart, req *requestInfo) error) (*cartOutput, error) {
	cr, err := r.mutate(ctx, maskedID, fn)
	if err != nil {
		return nil, err
	}
	return &cartOutput{Cart: cr}, nil
}

// CreateEmptyCart resolves the deprecated Mutation.createEmptyCart.
func (r *rootResolver) CreateEmptyCart(ctx context.Context, args struct {
	Input *struct{ CartID *string }
}) (*string, error) {
	req := requestFrom(ctx)
	req.touchCart()
	var predefined string
	if args.Input != nil && args.Input.CartID != nil {
		predefined = *args.Input.CartID
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if req.isCustomer() {
		id := r.s.customerCartLocked().maskedID
		return &id, nil
	}
	if err := r.s.checkPredefinedIDLocked(predefined); err != nil {
		return nil, err
	}
	id := r.s.newCartLocked(predefined, 0).maskedID
	return &id, nil
}

func (s *Store) checkPredefinedIDLocked(id string) error {
	if id == "" {
		return nil
	}
	if len(id) != 32 {
		return inputError("Cart ID length should to be 32 symbols.")
	}
	if _, ok := s.carts[id]; ok {
		return inputError("Cart with ID \"%s\" already exists.", id)
	}
	return nil
}

// CreateGuestCart resolves Mutation.createGuestCart.
func (r *rootResolver) CreateGuestCart(ctx context.Context, args struct {
	Input *struct{ CartUID *graphql.ID }
}) (*cartOutput, error) {
	req := requestFrom(ctx)
	req.touchCart()
	if req.isCustomer() {
		return nil, inputError(msgGuestCartForCustomer)
	}
	var predefined string
	if args.Input != nil && args.Input.CartUID != nil {
		predefined = string(*args.Input.CartUID)
	}
	r.s.mu.Lock()
	if err := r.s.checkPredefinedIDLocked(predefined); err != nil {
		r.s.mu.Unlock()
		return nil, err
	}
	c := r.s.newCartLocked(predefined, 0).clone()
	r.s.mu.Unlock()
	return &cartOutput{Cart: r.s.newCartResolver(c, req)}, nil
}

type cartItemInput struct {
	Sku             string
	Quantity        float64
	ParentSku       *string
	SelectedOptions *[]graphql.ID
	EnteredOptions  *[]struct {
		UID   graphql.ID
		Value string
	}
}

func (in *cartItemInput) selected() []string {
	if in.SelectedOptions == nil {
		return nil
	}
	out := make([]string, len(*in.SelectedOptions))
	for i, id := range *in.SelectedOptions {
		out[i] = string(id)
	}
	return out
}

// userError resolves the Error interface of AddProductsToCartOutput.user_errors.
type userError struct {
	message string
	code    string
}

func (e *userError) Message() string    { return e.message }
func (e *userError) Code() string       { return e.code }
func (e *userError) Quantity() *float64 { return nil }
func (e *userError) ToCartUserInputError() (*userError, bool) {
	return e, e.code != "INSUFFICIENT_STOCK"
}
func (e *userError) ToInsufficientStockError() (*userError, bool) {
	return e, e.code == "INSUFFICIENT_STOCK"
}

type addProductsOutput struct {
	Cart       *cartResolver
	UserErrors []*userError
}

// AddProductsToCart resolves Mutation.addProductsToCart: problems with single items are
// reported in user_errors, the others are added.
func (r *rootResolver) AddProductsToCart(ctx context.Context, args struct {
	CartID    string
	CartItems []cartItemInput
}) (*addProductsOutput, error) {
	var userErrors []*userError
	cr, err := r.mutate(ctx, args.CartID, func(c *cart, _ *requestInfo) error {
		for i := range args.CartItems {
			in := &args.CartItems[i]
			p, child, code, msg := r.s.resolveCartItemInput(in.Sku, in.ParentSku, in.selected())
			if msg == "" {
				qty, err := decFromFloat(in.Quantity)
				if err != nil {
					code, msg = "INVALID_PARAMETER_VALUE", "The product quantity should be greater than 0"
				} else if msg = r.s.addLocked(c, p, child, qty); msg != "" {
					code = "INVALID_PARAMETER_VALUE"
				}
			}
			if msg != "" {
				userErrors = append(userErrors, &userError{message: msg, code: code})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if userErrors == nil {
		userErrors = []*userError{}
	}
	return &addProductsOutput{Cart: cr, UserErrors: userErrors}, nil
}

type legacyCartItemsInput struct {
	CartID    string
	CartItems []struct {
		Data                cartItemInput
		ParentSku           *string
		VariantSku          *string
		CustomizableOptions *[]struct {
			UID         *graphql.ID
			ID          *int32
			ValueString string
		}
	}
}

// addLegacy implements addSimpleProductsToCart, addVirtualProductsToCart and
// addConfigurableProductsToCart: any problem fails the whole mutation with a GraphQL error.
func (r *rootResolver) addLegacy(ctx context.Context, in *legacyCartItemsInput, configurable bool) (*cartOutput, error) {
	if in == nil || strings.TrimSpace(in.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	if len(in.CartItems) == 0 {
		return nil, missingParam("cart_items")
	}
	return r.mutateOutput(ctx, in.CartID, func(c *cart, _ *requestInfo) error {
		type add struct {
			p, child *product
			qty      decimal.Decimal
		}
		var adds []add
		for _, item := range in.CartItems {
			sku, parentSKU := item.Data.Sku, item.ParentSku
			if configurable && parentSKU == nil && item.VariantSku != nil {
				sku, parentSKU = *item.VariantSku, &item.Data.Sku
			}
			if configurable && parentSKU == nil {
				return missingParam("parent_sku")
			}
			p, child, code, msg := r.s.resolveCartItemInput(sku, parentSKU, nil)
			if msg != "" {
				if code == "PRODUCT_NOT_FOUND" {
					return noSuchEntity("%s", msg)
				}
				return inputError("%s", msg)
			}
			qty, err := decFromFloat(item.Data.Quantity)
			if err != nil || !qty.IsPos() {
				return inputError("Please enter a number greater than 0 in this field.")
			}
			adds = append(adds, add{p, child, qty})
		}
		for _, a := range adds {
			if msg := r.s.addLocked(c, a.p, a.child, a.qty); msg != "" {
				return inputError("%s", msg)
			}
		}
		return nil
	})
}

// AddSimpleProductsToCart resolves Mutation.addSimpleProductsToCart.
func (r *rootResolver) AddSimpleProductsToCart(ctx context.Context, args struct{ Input *legacyCartItemsInput }) (*cartOutput, error) {
	return r.addLegacy(ctx, args.Input, false)
}

// AddVirtualProductsToCart resolves Mutation.addVirtualProductsToCart.
func (r *rootResolver) AddVirtualProductsToCart(ctx context.Context, args struct{ Input *legacyCartItemsInput }) (*cartOutput, error) {
	return r.addLegacy(ctx, args.Input, false)
}

// AddConfigurableProductsToCart resolves Mutation.addConfigurableProductsToCart.
func (r *rootResolver) AddConfigurableProductsToCart(ctx context.Context, args struct{ Input *legacyCartItemsInput }) (*cartOutput, error) {
	return r.addLegacy(ctx, args.Input, true)
}

// itemID reads a cart item reference given as a uid (base64 of the id) or a numeric id.
func itemID(uid *graphql.ID, id *int32) (int, bool) {
	if uid != nil && *uid != "" {
		raw, ok := decodeUID(string(*uid))
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(raw)
		return n, err == nil
	}
	if id != nil {
		return int(*id), true
	}
	return 0, false
}

type updateCartItemsOutput struct {
	Cart   *cartResolver
	Errors []*userError
}

// UpdateCartItems resolves Mutation.updateCartItems; a quantity of 0 removes the item.
func (r *rootResolver) UpdateCartItems(ctx context.Context, args struct {
	Input *struct {
		CartID    string
		CartItems []struct {
			CartItemID          *int32
			CartItemUID         *graphql.ID
			Quantity            *float64
			CustomizableOptions *[]struct {
				UID         *graphql.ID
				ID          *int32
				ValueString string
			}
		}
	}
}) (*updateCartItemsOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	if len(args.Input.CartItems) == 0 {
		return nil, missingParam("cart_items")
	}
	cr, err := r.mutate(ctx, args.Input.CartID, func(c *cart, _ *requestInfo) error {
		for _, in := range args.Input.CartItems {
			if in.CartItemUID == nil && in.CartItemID == nil {
				return inputError(`Required parameter "cart_item_uid" for "cart_items" is missing.`)
			}
			if in.Quantity == nil {
				return inputError(`Required parameter "quantity" for "cart_items" is missing.`)
			}
			id, ok := itemID(in.CartItemUID, in.CartItemID)
			i := c.itemIndex(id)
			if !ok || i < 0 {
				return noSuchEntity("Could not find cart item with id: %d.", id)
			}
			qty, err := decFromFloat(*in.Quantity)
			if err != nil {
				return inputError("The product quantity should be greater than 0")
			}
			if qty.IsZero() {
				c.items = append(c.items[:i], c.items[i+1:]...)
				continue
			}
			if msg := checkQty(qty); msg != "" {
				return inputError("%s", msg)
			}
			c.items[i].qty = qty
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &updateCartItemsOutput{Cart: cr, Errors: []*userError{}}, nil
}

// RemoveItemFromCart resolves Mutation.removeItemFromCart.
func (r *rootResolver) RemoveItemFromCart(ctx context.Context, args struct {
	Input *struct {
		CartID      string
		CartItemID  *int32
		CartItemUID *graphql.ID
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	in := args.Input
	if in.CartItemUID == nil && in.CartItemID == nil {
		return nil, missingParam("cart_item_id")
	}
	return r.mutateOutput(ctx, in.CartID, func(c *cart, _ *requestInfo) error {
		id, ok := itemID(in.CartItemUID, in.CartItemID)
		i := c.itemIndex(id)
		if !ok || i < 0 {
			return noSuchEntity(msgItemNotInCart)
		}
		c.items = append(c.items[:i], c.items[i+1:]...)
		return nil
	})
}

// ApplyCouponToCart resolves Mutation.applyCouponToCart.
func (r *rootResolver) ApplyCouponToCart(ctx context.Context, args struct {
	Input *struct {
		CartID     string
		CouponCode string
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	if strings.TrimSpace(args.Input.CouponCode) == "" {
		return nil, missingParam("coupon_code")
	}
	return r.mutateOutput(ctx, args.Input.CartID, func(c *cart, req *requestInfo) error {
		return r.s.applyCouponLocked(ctx, c, req, args.Input.CouponCode)
	})
}

// ApplyCouponsToCart resolves Adobe Commerce's Mutation.applyCouponsToCart; type defaults to
// REPLACE.
func (r *rootResolver) ApplyCouponsToCart(ctx context.Context, args struct {
	Input *struct {
		CartID      string
		CouponCodes []*string
		Type        *string
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, inputError(msgCartIDMissingStop)
	}
	in := args.Input
	replace := in.Type == nil || *in.Type == "REPLACE"
	return r.mutateOutput(ctx, in.CartID, func(c *cart, req *requestInfo) error {
		return r.s.applyCouponsLocked(ctx, c, req, derefStrings(in.CouponCodes), replace)
	})
}

// RemoveCouponsFromCart resolves Adobe Commerce's Mutation.removeCouponsFromCart: the listed
// codes, or all of them when none is listed or the cart has a single coupon slot.
func (r *rootResolver) RemoveCouponsFromCart(ctx context.Context, args struct {
	Input *struct {
		CartID      string
		CouponCodes []*string
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, inputError(msgCartIDMissingStop)
	}
	in := args.Input
	return r.mutateOutput(ctx, in.CartID, func(c *cart, _ *requestInfo) error {
		return r.s.removeCouponsLocked(c, derefStrings(in.CouponCodes), r.s.opts.MaxCoupons == 1)
	})
}

func derefStrings(in []*string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// RemoveCouponFromCart resolves Mutation.removeCouponFromCart.
func (r *rootResolver) RemoveCouponFromCart(ctx context.Context, args struct {
	Input *struct{ CartID string }
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	return r.mutateOutput(ctx, args.Input.CartID, func(c *cart, _ *requestInfo) error {
		return r.s.removeCouponsLocked(c, nil, true)
	})
}

// SetGuestEmailOnCart resolves Mutation.setGuestEmailOnCart.
func (r *rootResolver) SetGuestEmailOnCart(ctx context.Context, args struct {
	Input *struct {
		CartID string
		Email  string
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	email := strings.TrimSpace(args.Input.Email)
	if email == "" {
		return nil, missingParam("email")
	}
	if !validEmail(email) {
		return nil, inputError("Invalid email format")
	}
	return r.mutateOutput(ctx, args.Input.CartID, func(c *cart, req *requestInfo) error {
		if req.isCustomer() {
			return inputError("The request is not allowed for logged in customers")
		}
		c.email = email
		return nil
	})
}

// MergeCarts resolves Mutation.mergeCarts: the guest cart's items move into the customer's cart
// and the guest cart becomes inactive.
func (r *rootResolver) MergeCarts(ctx context.Context, args struct {
	SourceCartID      string
	DestinationCartID *string
}) (*cartResolver, error) {
	req := requestFrom(ctx)
	req.touchCart()
	if strings.TrimSpace(args.SourceCartID) == "" {
		return nil, missingParam("source_cart_id")
	}
	if !req.isCustomer() {
		return nil, authorizationError(msgCustomerUnknown)
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	destID := r.s.customerCartLocked().maskedID
	if args.DestinationCartID != nil && *args.DestinationCartID != "" {
		destID = *args.DestinationCartID
	}
	guest, err := r.s.cartForUserLocked(args.SourceCartID, &requestInfo{})
	if err != nil {
		return nil, err
	}
	dest, err := r.s.cartForUserLocked(destID, req)
	if err != nil {
		return nil, err
	}
	for _, it := range guest.items {
		if msg := r.s.addLocked(dest, it.product, it.child, it.qty); msg != "" {
			return nil, inputError("%s", msg)
		}
	}
	if len(guest.coupons) > 0 {
		dest.coupons = append([]string(nil), guest.coupons...)
	}
	dest.version++
	guest.active = false
	guest.version++
	return r.s.newCartResolver(dest.clone(), req), nil
}

type orderNumber struct {
	OrderNumber string
	OrderID     *string
}

type placeOrderOutput struct {
	Order   *orderNumber
	OrderV2 *orderResolver
	Errors  []*userError
}

// PlaceOrder resolves Mutation.placeOrder.
func (r *rootResolver) PlaceOrder(ctx context.Context, args struct {
	Input *struct{ CartID string }
}) (*placeOrderOutput, error) {
	req := requestFrom(ctx)
	req.touchCart()
	var maskedID string
	if args.Input != nil {
		maskedID = strings.TrimSpace(args.Input.CartID)
	}
	o, err := r.s.placeOrder(ctx, maskedID, req)
	if err != nil {
		return nil, err
	}
	return &placeOrderOutput{
		Order:   &orderNumber{OrderNumber: o.number, OrderID: ptrString(o.number)},
		OrderV2: &orderResolver{o: o},
		Errors:  []*userError{},
	}, nil
}
