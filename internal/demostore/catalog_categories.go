package demostore

import (
	"strconv"
	"strings"
)

// category is a catalog category under the root category (id 2, "Default Category"), with
// Luma sample data's ids and url paths.
type category struct {
	id       int
	name     string
	urlKey   string
	parent   *category // nil under the root
	position int
}

// level is Magento's category level: 2 directly under the root category.
func (c *category) level() int {
	if c.parent == nil {
		return 2
	}
	return c.parent.level() + 1
}

// path is Magento's id path from the tree root: "1/2/3/4".
func (c *category) path() string {
	if c.parent == nil {
		return "1/" + strconv.Itoa(rootCategoryID) + "/" + strconv.Itoa(c.id)
	}
	return c.parent.path() + "/" + strconv.Itoa(c.id)
}

// urlPath is the category's url path: its ancestors' url keys and its own.
func (c *category) urlPath() string {
	if c.parent == nil {
		return c.urlKey
	}
	return c.parent.urlPath() + "/" + c.urlKey
}

// ancestors are the categories above c, top first (Magento's breadcrumbs).
func (c *category) ancestors() []*category {
	if c.parent == nil {
		return nil
	}
	return append(c.parent.ancestors(), c.parent)
}

// rootCategoryID is the store's root category ("Default Category").
const rootCategoryID = 2

// assignCategories builds Luma's Gear and Men > Tops branches and assigns the catalog's Luma
// products to them; VGC-50 and the DEMO-nnn products have no category.
func (c *catalog) assignCategories() {
	gear := &category{id: 3, name: "Gear", urlKey: "gear", position: 4}
	bags := &category{id: 4, name: "Bags", urlKey: "bags", parent: gear, position: 1}
	fitness := &category{id: 5, name: "Fitness Equipment", urlKey: "fitness-equipment", parent: gear, position: 2}
	watches := &category{id: 6, name: "Watches", urlKey: "watches", parent: gear, position: 3}
	men := &category{id: 11, name: "Men", urlKey: "men", position: 3}
	tops := &category{id: 12, name: "Tops", urlKey: "tops-men", parent: men, position: 1}
	hoodies := &category{id: 15, name: "Hoodies & Sweatshirts", urlKey: "hoodies-and-sweatshirts-men", parent: tops, position: 2}
	for _, p := range c.products {
		switch {
		case strings.HasPrefix(p.sku, "24-MB"), p.sku == "24-WB04":
			p.categories = []*category{gear, bags}
		case strings.HasPrefix(p.sku, "24-UG"):
			p.categories = []*category{gear, fitness}
		case p.sku == "24-WG02":
			p.categories = []*category{gear, watches}
		case p.sku == "MH01":
			p.categories = []*category{men, tops, hoodies}
		}
	}
}
