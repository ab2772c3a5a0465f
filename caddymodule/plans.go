package caddymodule

import (
	"fmt"
	"net/url"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
)

// planCache keeps what the handler derives from GraphQL operations: the plans, the
// augmented queries URL-escaped, and the plans of GET operations by their encoded text. It
// lives in the handler's shared state, so a config reload keeps it warm.
type planCache struct {
	// planners[1] also plans product lists and blocks, for rule sets with merchandising
	// rules; planners[0] leaves them alone, so no query is augmented for them otherwise.
	planners [2]*cartql.Planner
	escapes  *lru.Cache[*cartql.Plan, string]
	byGET    *lru.Cache[getKey, *cartql.Plan]
}

// getKey is a GET operation's key in the plan cache: its text and which planner planned it.
type getKey struct {
	gqlhttp.Key
	merch bool
}

func newPlanCache(cartFields []string, size int) (*planCache, error) {
	c := &planCache{}
	for i := range c.planners {
		planner, err := cartql.NewPlanner(cartql.Options{CacheSize: size, CartFields: cartFields, Merchandising: i == 1})
		if err != nil {
			return nil, fmt.Errorf("cart_fields: %w", err)
		}
		c.planners[i] = planner
	}
	var err error
	if c.escapes, err = lru.New[*cartql.Plan, string](size); err != nil {
		return nil, fmt.Errorf("escape cache: %w", err)
	}
	if c.byGET, err = lru.New[getKey, *cartql.Plan](size); err != nil {
		return nil, fmt.Errorf("plan cache: %w", err)
	}
	return c, nil
}

// planner returns the planner for a rule set with (merch) or without merchandising rules.
func (c *planCache) planner(merch bool) *cartql.Planner {
	if merch {
		return c.planners[1]
	}
	return c.planners[0]
}

// plan analyses the request's operation, product lists and blocks included when merch is
// set; GET operations are looked up by their encoded text first, which spares decoding a
// query seen before.
func (c *planCache) plan(req *gqlhttp.Request, merch bool) (*cartql.Plan, error) {
	key := getKey{req.Key(), merch}
	if key.Key != (gqlhttp.Key{}) {
		if p, ok := c.byGET.Get(key); ok {
			return p, nil
		}
	}
	text, err := req.Text()
	if err != nil {
		return nil, err
	}
	p, err := c.planner(merch).Plan(text, req.OperationName)
	if err == nil && key.Key != (gqlhttp.Key{}) {
		// The key's strings point into the request's URL: keep copies, not the request.
		key.Query, key.OperationName = strings.Clone(key.Query), strings.Clone(key.OperationName)
		c.byGET.Add(key, p)
	}
	return p, err
}

// escaped returns the plan's augmented query URL-escaped, computed once per plan.
func (c *planCache) escaped(plan *cartql.Plan) string {
	if e, ok := c.escapes.Get(plan); ok {
		return e
	}
	e := url.QueryEscape(plan.Query())
	c.escapes.Add(plan, e)
	return e
}
