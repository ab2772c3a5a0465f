package caddymodule

import (
	"fmt"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/dustin/go-humanize"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("audiences", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("audiences", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	if err := handler.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return handler, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	audiences [<matcher>] {
//	    source          header_then_cookie|header|cookie|union
//	    honor_dnt       on|off
//	    upstream_header <name>
//	    strip_inbound
//	    max_segments    <n>
//	    max_bytes       <n>
//	    rules           <file>
//	    graphql_path    <path>
//	    max_body        <size>
//	    tax_after_discount on|off
//	    tax_rate        <applied_taxes label> <percent>
//	    tax_calculation total|row|unit
//	    cart_fields     <Type.field...>
//	    name            <name>
//	    audiences       <file|url>
//	    audiences aep {                  # or: the catalog from Experience Platform
//	        client_id     <id>
//	        client_secret <secret>        # {env.AEP_CLIENT_SECRET}
//	        org_id        <ims org>
//	        sandbox       <name>          # default prod
//	        flow_ids      <id...>         # the store's destination dataflows
//	        refresh       <duration>      # default 15m
//	    }
//	    allow_unknown_audiences
//	    reload_interval <duration>
//	    candidate_cache_size <n>
//	    plan_cache_size <n>
//	    preview_time_header <header>    # staging only
//	    server_timing   on|off
//	    gate_policy     shopper_wins|audience_wins
//	    multi_coupon
//	    trust           client|signed|edge
//	    org_id          <ims org id>
//	    membership_cookie <name>
//	    membership_keys <key...>          # {env.AUD_KEY}; the first signs
//	    membership_ttl  <duration>
//	    cart_pins       <n>
//	    shared_state                      # locks, pool claims, pins in Caddy's storage
//	    lock_timeout    <duration>
//	    edge {
//	        datastream_id     <id>
//	        edge_url          <url>
//	        client_id         <id>
//	        client_secret     <secret>
//	        ims_url           <url>
//	        destination_alias <alias>
//	        lookup_ttl        <duration>
//	        lookup_timeout    <duration>
//	        on_lookup_error   none|client
//	    }
//	}
//
// Every subdirective is optional; the defaults are documented on the Handler fields.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	strs := map[string]*string{
		"source": &h.Source, "upstream_header": &h.UpstreamHeader, "rules": &h.Rules,
		"graphql_path": &h.GraphQLPath, "tax_calculation": &h.TaxCalculation, "name": &h.Name,
		"preview_time_header": &h.PreviewTimeHeader,
		"gate_policy":         &h.GatePolicy, "trust": &h.Trust, "org_id": &h.OrgID,
		"membership_cookie": &h.MembershipCookie,
	}
	ints := map[string]*int{
		"max_segments": &h.MaxSegments, "max_bytes": &h.MaxBytes, "candidate_cache_size": &h.CandidateCacheSize,
		"plan_cache_size": &h.PlanCacheSize, "cart_pins": &h.CartPins,
	}
	flags := map[string]*bool{"strip_inbound": &h.StripInbound, "allow_unknown_audiences": &h.AllowUnknownAudiences, "multi_coupon": &h.MultiCoupon, "shared_state": &h.SharedState}
	switches := map[string]**bool{"honor_dnt": &h.HonorDNT, "tax_after_discount": &h.TaxAfterDiscount, "server_timing": &h.ServerTiming}
	durations := map[string]*caddy.Duration{"reload_interval": &h.ReloadInterval, "membership_ttl": &h.MembershipTTL, "lock_timeout": &h.LockTimeout}
	lists := map[string]*[]string{"cart_fields": &h.CartFields, "membership_keys": &h.MembershipKeys}
	for d.NextBlock(0) {
		name := d.Val()
		var err error
		switch {
		case strs[name] != nil:
			*strs[name], err = oneArg(d)
		case ints[name] != nil:
			*ints[name], err = positiveInt(d)
		case durations[name] != nil:
			*durations[name], err = durationArg(d)
		case switches[name] != nil:
			*switches[name], err = switchArg(d)
		case flags[name] != nil:
			if d.NextArg() {
				return d.ArgErr()
			}
			*flags[name] = true
		case lists[name] != nil:
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			*lists[name] = append(*lists[name], args...)
		case name == "max_body":
			h.MaxBody, err = sizeArg(d)
		case name == "tax_rate":
			args := d.RemainingArgs()
			if len(args) != 2 {
				return d.ArgErr()
			}
			if h.TaxRates == nil {
				h.TaxRates = map[string]string{}
			}
			h.TaxRates[args[0]] = args[1]
		case name == "audiences":
			err = h.unmarshalAudiences(d)
		case name == "edge":
			if d.NextArg() {
				return d.ArgErr()
			}
			err = h.unmarshalEdge(d)
		default:
			return d.Errf("unrecognized subdirective %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unmarshalAudiences reads `audiences <file|url>` or `audiences aep { … }`.
func (h *Handler) unmarshalAudiences(d *caddyfile.Dispenser) error {
	v, err := oneArg(d)
	if err != nil {
		return err
	}
	if v != "aep" {
		h.Audiences = v
		return nil
	}
	c := new(AEPConfig)
	strs := map[string]*string{
		"client_id": &c.ClientID, "client_secret": &c.ClientSecret, "org_id": &c.OrgID, "sandbox": &c.Sandbox,
		"scope": &c.Scope, "ims_url": &c.IMSURL, "platform_url": &c.PlatformURL,
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch sub := d.Val(); {
		case strs[sub] != nil:
			*strs[sub], err = oneArg(d)
		case sub == "flow_ids":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			c.FlowIDs = append(c.FlowIDs, args...)
		case sub == "refresh":
			c.Refresh, err = durationArg(d)
		default:
			return d.Errf("audiences aep: unrecognized subdirective %q", sub)
		}
		if err != nil {
			return err
		}
	}
	h.AudiencesAEP = c
	return nil
}

// unmarshalEdge reads the edge { … } block.
func (h *Handler) unmarshalEdge(d *caddyfile.Dispenser) error {
	e := new(EdgeConfig)
	strs := map[string]*string{
		"datastream_id": &e.DatastreamID, "edge_url": &e.URL, "client_id": &e.ClientID, "client_secret": &e.ClientSecret,
		"ims_url": &e.IMSURL, "destination_alias": &e.DestinationAlias, "on_lookup_error": &e.OnLookupError,
	}
	durations := map[string]*caddy.Duration{"lookup_ttl": &e.LookupTTL, "lookup_timeout": &e.LookupTimeout}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch sub := d.Val(); {
		case durations[sub] != nil:
			*durations[sub], err = durationArg(d)
		case strs[sub] != nil:
			*strs[sub], err = oneArg(d)
		default:
			return d.Errf("edge: unrecognized subdirective %q", sub)
		}
		if err != nil {
			return err
		}
	}
	h.Edge = e
	return nil
}

// sizeArg returns the single size argument (4MiB) of max_body.
func sizeArg(d *caddyfile.Dispenser) (int64, error) {
	v, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	size, err := humanize.ParseBytes(v)
	if err != nil || size == 0 || size > 1<<30 {
		return 0, d.Errf("max_body: want a size such as 4MiB (at most 1GiB), got %q", v)
	}
	return int64(size), nil
}

// switchArg returns the single on/off argument of the current subdirective.
func switchArg(d *caddyfile.Dispenser) (*bool, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return nil, err
	}
	on, err := parseSwitch(v)
	if err != nil {
		return nil, d.Errf("%s: %v", name, err)
	}
	return &on, nil
}

// durationArg returns the single positive duration argument of the current subdirective.
func durationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur <= 0 {
		return 0, d.Errf("%s: want a duration such as 5s, got %q", name, v)
	}
	return caddy.Duration(dur), nil
}

// oneArg returns the single argument of the current subdirective.
func oneArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

// positiveInt returns the single positive integer argument of the current subdirective.
func positiveInt(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	v, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, d.Errf("%s: want a positive integer, got %q", name, v)
	}
	return n, nil
}

// parseSwitch reads on/off style booleans.
func parseSwitch(v string) (bool, error) {
	switch v {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, got %q", v)
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
