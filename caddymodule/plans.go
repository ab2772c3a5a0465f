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
	planner *cartql.Planner
	escapes *lru.Cache[*cartql.Plan, string]
	byGET   *lru.Cache[gqlhttp.Key, *cartql.Plan]
}

func newPlanCache(cartFields []string, size int) (*planCache, error) {
	planner, err := cartql.NewPlanner(cartql.Options{CacheSize: size, CartFields: cartFields})
	if err != nil {
		return nil, fmt.Errorf("cart_fields: %w", err)
	}
	c := &planCache{planner: planner}
	if c.escapes, err = lru.New[*cartql.Plan, string](size); err != nil {
		return nil, fmt.Errorf("escape cache: %w", err)
	}
	if c.byGET, err = lru.New[gqlhttp.Key, *cartql.Plan](size); err != nil {
		return nil, fmt.Errorf("plan cache: %w", err)
	}
	return c, nil
}

// plan analyses the request's operation; GET operations are looked up by their encoded text
// first, which spares decoding a query seen before.
func (c *planCache) plan(req *gqlhttp.Request) (*cartql.Plan, error) {
	key := req.Key()
	if key != (gqlhttp.Key{}) {
		if p, ok := c.byGET.Get(key); ok {
			return p, nil
		}
	}
	text, err := req.Text()
	if err != nil {
		return nil, err
	}
	p, err := c.planner.Plan(text, req.OperationName)
	if err == nil && key != (gqlhttp.Key{}) {
		// The key's strings point into the request's URL: keep copies, not the request.
		c.byGET.Add(gqlhttp.Key{Query: strings.Clone(key.Query), OperationName: strings.Clone(key.OperationName)}, p)
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

// mentionsAny reports whether text may name a cart or select product lists or blocks.
func (c *planCache) mentionsAny(text string) bool {
	return c.planner.Mentions(text) || c.planner.MentionsMerch(text)
}
