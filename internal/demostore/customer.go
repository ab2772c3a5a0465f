package demostore

import (
	"context"
	"math"
	"path"
	"strings"
)

// The demo customer's name (Luma's sample customer).
const (
	demoCustomerFirstname = "Veronica"
	demoCustomerLastname  = "Costello"
)

// Messages of SalesGraphQl's order resolvers.
const (
	msgGuestOrderNotFound = "We couldn't locate an order with the information provided."
	msgGuestOrderLogin    = "Please login to view the order."
)

// customerResolver resolves Customer for the demo customer.
type customerResolver struct {
	s *Store
}

// Customer resolves Query.customer: the demo customer, refused to guests.
func (r *rootResolver) Customer(ctx context.Context) (*customerResolver, error) {
	req := requestFrom(ctx)
	req.touchCart() // customer data is private: Cache-Control no-store
	if err := requireCustomer(req, msgCustomerUnknown); err != nil {
		return nil, err
	}
	return &customerResolver{s: r.s}, nil
}

func (c *customerResolver) Firstname() *string { return ptrString(demoCustomerFirstname) }
func (c *customerResolver) Lastname() *string  { return ptrString(demoCustomerLastname) }
func (c *customerResolver) Email() *string     { return ptrString(demoCustomerEmail) }

type customerOrdersArgs struct {
	Filter *struct {
		Number *struct {
			Eq    *string
			In    *[]*string
			Match *string
		}
	}
	CurrentPage int32
	PageSize    int32
}

// Orders resolves Customer.orders: the demo customer's placed orders, newest first.
func (c *customerResolver) Orders(args customerOrdersArgs) (*customerOrders, error) {
	if args.CurrentPage < 1 {
		return nil, inputError("currentPage value must be greater than 0.")
	}
	if args.PageSize < 1 {
		return nil, inputError("pageSize value must be greater than 0.")
	}
	c.s.mu.Lock()
	var all []*orderResolver
	for i := len(c.s.orders) - 1; i >= 0; i-- {
		if o := c.s.orders[i]; o.customerID == demoCustomerID && args.matches(o.number) {
			all = append(all, &orderResolver{o: o})
		}
	}
	c.s.mu.Unlock()
	total := int32(len(all))
	start := min(int(args.PageSize)*int(args.CurrentPage-1), len(all))
	end := min(start+int(args.PageSize), len(all))
	pages := int32(math.Ceil(float64(total) / float64(args.PageSize)))
	return &customerOrders{
		Items:      all[start:end],
		PageInfo:   &pageInfo{PageSize: &args.PageSize, CurrentPage: &args.CurrentPage, TotalPages: &pages},
		TotalCount: &total,
	}, nil
}

// matches applies the number filter: eq, in, or match (a glob, like SQL LIKE with %).
func (a customerOrdersArgs) matches(number string) bool {
	if a.Filter == nil || a.Filter.Number == nil {
		return true
	}
	f := a.Filter.Number
	if f.Eq != nil && *f.Eq != number {
		return false
	}
	if f.In != nil {
		found := false
		for _, n := range *f.In {
			found = found || (n != nil && *n == number)
		}
		if !found {
			return false
		}
	}
	if f.Match != nil {
		ok, _ := path.Match("*"+strings.ReplaceAll(*f.Match, "%", "*")+"*", number)
		return ok
	}
	return true
}

type customerOrders struct {
	Items      []*orderResolver
	PageInfo   *pageInfo
	TotalCount *int32
}

// GuestOrder resolves Query.guestOrder: a guest's order by number, email and billing last
// name; a customer's order needs a login.
func (r *rootResolver) GuestOrder(ctx context.Context, args struct {
	Input struct {
		Number   string
		Email    string
		Lastname string
	}
}) (*orderResolver, error) {
	req := requestFrom(ctx)
	req.touchCart()
	in := args.Input
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for _, o := range r.s.orders {
		if o.number != strings.TrimSpace(in.Number) {
			continue
		}
		if o.customerID != 0 {
			return nil, authorizationError(msgGuestOrderLogin)
		}
		billing := o.cart.billing
		if !strings.EqualFold(o.email, strings.TrimSpace(in.Email)) || billing == nil || !strings.EqualFold(billing.lastname, strings.TrimSpace(in.Lastname)) {
			break
		}
		return &orderResolver{o: o}, nil
	}
	return nil, noSuchEntity(msgGuestOrderNotFound)
}
