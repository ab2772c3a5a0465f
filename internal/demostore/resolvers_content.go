package demostore

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
)

// CMS blocks (CmsGraphQl) and Adobe Commerce's dynamic blocks (BannerGraphQl).

type cmsBlocksArgs struct {
	Identifiers *[]*string
}

type cmsBlocks struct {
	Items *[]*cmsBlockResolver
}

// cmsBlockResolver resolves CmsBlock.
type cmsBlockResolver struct {
	b cmsBlock
}

// Identifier resolves CmsBlock.identifier.
func (r *cmsBlockResolver) Identifier() *string { return ptrString(r.b.identifier) }

// Title resolves CmsBlock.title.
func (r *cmsBlockResolver) Title() *string { return ptrString(r.b.title) }

// Content resolves CmsBlock.content.
func (r *cmsBlockResolver) Content() *string { return ptrString(r.b.content) }

// msgCMSBlockIdentifiers is CmsGraphQl's message for a missing or empty identifiers list.
const msgCMSBlockIdentifiers = `"identifiers" of CMS blocks should be specified`

// cmsBlockMissing is CmsGraphQl's message for an unknown or disabled block.
func cmsBlockMissing(identifier string) string {
	return `The CMS block with the "` + identifier + `" ID doesn't exist.`
}

// CmsBlocks resolves Query.cmsBlocks as CmsGraphQl's Blocks resolver does: one item per
// distinct identifier in the order asked (Magento keys its result by identifier, so a repeated
// identifier keeps its first place), and null in the place of an unknown or disabled block.
// The error Magento reports for each such null is added by cmsBlockErrors, because
// graphql-go cannot fail a list item.
func (r *rootResolver) CmsBlocks(args cmsBlocksArgs) (*cmsBlocks, error) {
	ids, err := cmsBlockIdentifiers(args.Identifiers)
	if err != nil {
		return nil, err
	}
	items := make([]*cmsBlockResolver, len(ids))
	for i, id := range ids {
		if b, ok := cmsBlockBy(id); ok {
			items[i] = &cmsBlockResolver{b: b}
		}
	}
	return &cmsBlocks{Items: &items}, nil
}

// cmsBlockIdentifiers checks the identifiers argument and removes repeats, keeping the first.
func cmsBlockIdentifiers(in *[]*string) ([]string, error) {
	if in == nil || len(*in) == 0 {
		return nil, inputError(msgCMSBlockIdentifiers)
	}
	var ids []string
	seen := map[string]bool{}
	for _, p := range *in {
		id := ""
		if p != nil {
			id = *p
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type dynamicBlocksArgs struct {
	Input       *dynamicBlocksInput
	PageSize    int32
	CurrentPage int32
}

type dynamicBlocksInput struct {
	Type             string
	Locations        *[]*string
	DynamicBlockUids *[]*graphql.ID
	CartID           *string
	ProductUID       *graphql.ID
}

type dynamicBlocks struct {
	Items      []*dynamicBlockResolver
	PageInfo   *pageInfo
	TotalCount int32
}

// dynamicBlockResolver resolves DynamicBlock.
type dynamicBlockResolver struct {
	b dynamicBlock
}

// UID resolves DynamicBlock.uid: base64 of the banner id.
func (r *dynamicBlockResolver) UID() graphql.ID { return graphql.ID(encodeUID(strconv.Itoa(r.b.id))) }

// Content resolves DynamicBlock.content.
func (r *dynamicBlockResolver) Content() *complexTextValue {
	return &complexTextValue{HTML: r.b.content}
}

// DynamicBlocks resolves Query.dynamicBlocks (Adobe Commerce) as BannerGraphQl does: the
// enabled blocks of the type (SPECIFIED: those whose uids are given, or all; cart price rule
// related: those linked to a rule, with cart_id only to a rule applied to that cart; catalog
// price rule related: none, the demo store has no catalog price rules), at one of the
// locations when given, in banner id order, paged like a Magento collection (a page past the
// last answers the last).
func (r *rootResolver) DynamicBlocks(ctx context.Context, args dynamicBlocksArgs) (*dynamicBlocks, error) {
	if args.PageSize < 1 {
		return nil, inputError("pageSize value must be greater than 0.")
	}
	if args.CurrentPage < 1 {
		return nil, inputError("currentPage value must be greater than 0.")
	}
	if args.Input == nil {
		// Magento reads input.type unguarded: the PHP error surfaces as an internal error.
		return nil, errors.New("Internal server error")
	}
	keep, err := r.dynamicBlockFilter(ctx, args.Input)
	if err != nil {
		return nil, err
	}
	var found []dynamicBlock
	for _, b := range demoDynamicBlocks {
		if b.enabled && keep(b) {
			found = append(found, b)
		}
	}
	total := int32(len(found))
	totalPages := int32(math.Ceil(float64(total) / float64(args.PageSize)))
	current := min(args.CurrentPage, max(totalPages, 1))
	start := min(int(args.PageSize)*int(current-1), len(found))
	end := min(start+int(args.PageSize), len(found))
	items := make([]*dynamicBlockResolver, 0, end-start)
	for _, b := range found[start:end] {
		items = append(items, &dynamicBlockResolver{b: b})
	}
	pageSize := args.PageSize
	return &dynamicBlocks{
		Items:      items,
		PageInfo:   &pageInfo{PageSize: &pageSize, CurrentPage: &current, TotalPages: &totalPages},
		TotalCount: total,
	}, nil
}

// dynamicBlockFilter turns the input into a predicate over blocks.
func (r *rootResolver) dynamicBlockFilter(ctx context.Context, in *dynamicBlocksInput) (func(dynamicBlock) bool, error) {
	var ofType func(dynamicBlock) bool
	switch in.Type {
	case "SPECIFIED":
		ids, err := decodeDynamicBlockUIDs(in.DynamicBlockUids)
		if err != nil {
			return nil, err
		}
		ofType = func(b dynamicBlock) bool { return ids == nil || ids[strconv.Itoa(b.id)] }
	case "CART_PRICE_RULE_RELATED":
		applied, err := r.appliedCartRules(ctx, in.CartID)
		if err != nil {
			return nil, err
		}
		ofType = func(b dynamicBlock) bool {
			return b.cartRule != "" && (applied == nil || applied[strings.ToUpper(b.cartRule)])
		}
	default: // CATALOG_PRICE_RULE_RELATED
		ofType = func(dynamicBlock) bool { return false }
	}
	if in.Locations == nil {
		return ofType, nil
	}
	var locations []string
	for _, l := range *in.Locations {
		if l != nil {
			locations = append(locations, *l)
		}
	}
	if len(locations) == 0 {
		return ofType, nil
	}
	return func(b dynamicBlock) bool { return ofType(b) && b.appliesTo(locations) }, nil
}

// decodeDynamicBlockUIDs decodes the uids with Magento's Uid::decode, which refuses a value
// that is not canonical base64; nil means no uid filter.
func decodeDynamicBlockUIDs(uids *[]*graphql.ID) (map[string]bool, error) {
	if uids == nil || len(*uids) == 0 {
		return nil, nil
	}
	ids := map[string]bool{}
	for _, uid := range *uids {
		if uid == nil {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(string(*uid))
		if err != nil || base64.StdEncoding.EncodeToString(raw) != string(*uid) {
			return nil, inputError(`Value of uid "%s" is incorrect.`, string(*uid))
		}
		ids[string(raw)] = true
	}
	return ids, nil
}

// appliedCartRules returns the coupon codes applied to the cart (upper case), or nil when no
// cart is given. An unknown or foreign cart fails as every cart_id argument does.
func (r *rootResolver) appliedCartRules(ctx context.Context, cartID *string) (map[string]bool, error) {
	if cartID == nil || *cartID == "" {
		return nil, nil
	}
	c, err := r.s.readCart(*cartID, requestFrom(ctx))
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	for _, code := range c.coupons {
		applied[strings.ToUpper(code)] = true
	}
	return applied, nil
}
