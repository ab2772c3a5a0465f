package demostore

import (
	"context"
	"strings"
)

// cartAddressInput is CartAddressInput.
type cartAddressInput struct {
	Firstname         string
	Lastname          string
	Company           *string
	Street            []string
	City              string
	Region            *string
	RegionID          *int32
	Postcode          *string
	CountryCode       string
	Telephone         *string
	VatID             *string
	SaveInAddressBook *bool
	Fax               *string
	Middlename        *string
	Prefix            *string
	Suffix            *string
}

func (in *cartAddressInput) toAddress(notes *string) (*cartAddress, error) {
	country := strings.ToUpper(strings.TrimSpace(in.CountryCode))
	if country == "" {
		return nil, missingParam("country_code")
	}
	street := make([]string, 0, len(in.Street))
	for _, s := range in.Street {
		if s = strings.TrimSpace(s); s != "" {
			street = append(street, s)
		}
	}
	return &cartAddress{
		firstname:     strings.TrimSpace(in.Firstname),
		lastname:      strings.TrimSpace(in.Lastname),
		company:       trimmed(in.Company),
		street:        street,
		city:          strings.TrimSpace(in.City),
		region:        regionFor(country, trimmed(in.Region), in.RegionID),
		postcode:      trimmed(in.Postcode),
		countryCode:   country,
		telephone:     trimmed(in.Telephone),
		vatID:         trimmed(in.VatID),
		fax:           trimmed(in.Fax),
		middlename:    trimmed(in.Middlename),
		prefix:        trimmed(in.Prefix),
		suffix:        trimmed(in.Suffix),
		customerNotes: trimmed(notes),
	}, nil
}

// customerAddress refuses address book ids: the demo customer has an empty address book.
func customerAddress(req *requestInfo, id int32) error {
	if !req.isCustomer() {
		return authorizationError(msgCustomerUnknown)
	}
	return noSuchEntity("Could not find a address with ID \"%d\"", id)
}

const msgVirtualNoShipping = "The Cart includes virtual product(s) only, so a shipping address is not used."

// SetShippingAddressesOnCart resolves Mutation.setShippingAddressesOnCart.
func (r *rootResolver) SetShippingAddressesOnCart(ctx context.Context, args struct {
	Input *struct {
		CartID            string
		ShippingAddresses []struct {
			CustomerAddressID *int32
			Address           *cartAddressInput
			CustomerNotes     *string
		}
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	in := args.Input
	switch {
	case len(in.ShippingAddresses) == 0:
		return nil, missingParam("shipping_addresses")
	case len(in.ShippingAddresses) > 1:
		return nil, inputError("You cannot specify multiple shipping addresses.")
	}
	sa := in.ShippingAddresses[0]
	return r.mutateOutput(ctx, in.CartID, func(c *cart, req *requestInfo) error {
		if c.isVirtual() {
			return inputError(msgVirtualNoShipping)
		}
		if sa.CustomerAddressID != nil {
			return customerAddress(req, *sa.CustomerAddressID)
		}
		if sa.Address == nil {
			return inputError(`The shipping address must contain either "customer_address_id" or "address".`)
		}
		a, err := sa.Address.toAddress(sa.CustomerNotes)
		if err != nil {
			return err
		}
		c.shipping = a
		c.shippingMethod = nil
		return nil
	})
}

// SetShippingMethodsOnCart resolves Mutation.setShippingMethodsOnCart.
func (r *rootResolver) SetShippingMethodsOnCart(ctx context.Context, args struct {
	Input *struct {
		CartID          string
		ShippingMethods []struct {
			CarrierCode string
			MethodCode  string
		}
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	in := args.Input
	switch {
	case len(in.ShippingMethods) == 0:
		return nil, missingParam("shipping_methods")
	case len(in.ShippingMethods) > 1:
		return nil, inputError("You cannot specify multiple shipping methods.")
	}
	m := in.ShippingMethods[0]
	return r.mutateOutput(ctx, in.CartID, func(c *cart, _ *requestInfo) error {
		return setShippingMethod(c, m.CarrierCode, m.MethodCode)
	})
}

// SetBillingAddressOnCart resolves Mutation.setBillingAddressOnCart.
func (r *rootResolver) SetBillingAddressOnCart(ctx context.Context, args struct {
	Input *struct {
		CartID         string
		BillingAddress struct {
			CustomerAddressID *int32
			Address           *cartAddressInput
			UseForShipping    *bool
			SameAsShipping    *bool
		}
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	ba := args.Input.BillingAddress
	sameAsShipping := (ba.SameAsShipping != nil && *ba.SameAsShipping) || (ba.UseForShipping != nil && *ba.UseForShipping)
	return r.mutateOutput(ctx, args.Input.CartID, func(c *cart, req *requestInfo) error {
		if ba.CustomerAddressID != nil {
			return customerAddress(req, *ba.CustomerAddressID)
		}
		if ba.Address == nil {
			if !sameAsShipping {
				return inputError(`The billing address must contain either "customer_address_id", "address", or "same_as_shipping".`)
			}
			if c.shipping == nil {
				return inputError(`Could not use the "same_as_shipping" option, because the shipping address has not been set.`)
			}
			billing := *c.shipping
			billing.customerNotes = nil
			c.billing = &billing
			return nil
		}
		a, err := ba.Address.toAddress(nil)
		if err != nil {
			return err
		}
		c.billing = a
		if sameAsShipping && !c.isVirtual() {
			shipping := *a
			c.shipping = &shipping
			c.shippingMethod = nil
		}
		return nil
	})
}

// SetPaymentMethodOnCart resolves Mutation.setPaymentMethodOnCart.
func (r *rootResolver) SetPaymentMethodOnCart(ctx context.Context, args struct {
	Input *struct {
		CartID        string
		PaymentMethod struct {
			Code                string
			PurchaseOrderNumber *string
		}
	}
}) (*cartOutput, error) {
	if args.Input == nil || strings.TrimSpace(args.Input.CartID) == "" {
		return nil, missingParam("cart_id")
	}
	pm := args.Input.PaymentMethod
	if strings.TrimSpace(pm.Code) == "" {
		return nil, inputError(`Required parameter "code" for "payment_method" is missing.`)
	}
	return r.mutateOutput(ctx, args.Input.CartID, func(c *cart, req *requestInfo) error {
		if !c.isVirtual() && c.shipping == nil {
			return inputError(msgNoShippingAddress)
		}
		t, err := r.s.collectTotals(ctx, c, req)
		if err != nil {
			return err
		}
		for _, m := range availablePayments(t) {
			if m.Code == pm.Code {
				c.payment = &paymentSelection{code: m.Code, title: m.Title, poNumber: trimmed(pm.PurchaseOrderNumber)}
				return nil
			}
		}
		return inputError(msgPaymentUnavailable)
	})
}
