package cartql

// Merchandising sites: where an operation selects what audience merchandising rules change —
// the related, up-sell and cross-sell product lists of any product, and the CMS and dynamic
// blocks of cmsBlocks and dynamicBlocks. A planner with Options.Merchandising finds them
// through fragments, inline fragments and aliases, and adds hidden fields for the SKUs,
// product types and block ids it needs — always, the client's own fields are not read.

// Product lists and the fields that hold them.
var listFields = map[string]string{
	"related_products":   "related",
	"upsell_products":    "upsell",
	"crosssell_products": "crosssell",
}

// ListSite is a product list the client selected.
type ListSite struct {
	// List is "related", "upsell" or "crosssell".
	List string
	// Path leads from the answer's data to the objects of the products whose list this is:
	// response keys, arrays walked element by element.
	Path []string
	// Key is the list's response key in such a product; the product's SKU and __typename
	// are read from hidden fields.
	Key string
	// ItemSKU is the response key of the SKU of each product in the list.
	ItemSKU string
	// Lookup is an operation that reads products by SKU (variable $_aud_skus) with the
	// client's own selection of the list's items, the SKU under ItemSKU; its answer's
	// products are at data.products.items.
	Lookup string
	// Variables are the client's variables Lookup uses.
	Variables []string
}

// BlockSite is a cmsBlocks or dynamicBlocks root field the client selected.
type BlockSite struct {
	// Field is "cmsBlocks" or "dynamicBlocks"; Key its response key.
	Field, Key string
	// ID is the response key of each item's identifier (cmsBlocks) or uid (dynamicBlocks).
	ID string
	// Lookup is an operation that reads blocks by id (variable $_aud_ids) with the client's
	// own selection of the items, the id under ID; its answer's blocks are at
	// data.<Field>.items.
	Lookup string
	// Variables are the client's variables Lookup uses.
	Variables []string
}

// HasMerch reports whether the operation selects product lists or blocks.
func (p *Plan) HasMerch() bool { return len(p.lists)+len(p.blocks) > 0 }

// ListSites returns the product lists the operation selects.
func (p *Plan) ListSites() []ListSite { return p.lists }

// BlockSites returns the blocks fields the operation selects.
func (p *Plan) BlockSites() []BlockSite { return p.blocks }
