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
	for d.NextBlock(0) {
		switch d.Val() {
		case "source":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Source = v
		case "honor_dnt":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			on, err := parseSwitch(v)
			if err != nil {
				return d.Errf("honor_dnt: %v", err)
			}
			h.HonorDNT = &on
		case "upstream_header":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.UpstreamHeader = v
		case "strip_inbound":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.StripInbound = true
		case "max_segments":
			n, err := positiveInt(d)
			if err != nil {
				return err
			}
			h.MaxSegments = n
		case "max_bytes":
			n, err := positiveInt(d)
			if err != nil {
				return err
			}
			h.MaxBytes = n
		case "rules":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Rules = v
		case "graphql_path":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.GraphQLPath = v
		case "max_body":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(v)
			if err != nil || size == 0 || size > 1<<30 {
				return d.Errf("max_body: want a size such as 4MiB (at most 1GiB), got %q", v)
			}
			h.MaxBody = int64(size)
		case "tax_after_discount":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			on, err := parseSwitch(v)
			if err != nil {
				return d.Errf("tax_after_discount: %v", err)
			}
			h.TaxAfterDiscount = &on
		case "tax_rate":
			args := d.RemainingArgs()
			if len(args) != 2 {
				return d.ArgErr()
			}
			if h.TaxRates == nil {
				h.TaxRates = map[string]string{}
			}
			h.TaxRates[args[0]] = args[1]
		case "tax_calculation":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.TaxCalculation = v
		case "cart_fields":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			h.CartFields = append(h.CartFields, args...)
		case "name":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Name = v
		case "audiences":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Audiences = v
		case "allow_unknown_audiences":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.AllowUnknownAudiences = true
		case "reload_interval":
			dur, err := durationArg(d)
			if err != nil {
				return err
			}
			h.ReloadInterval = dur
		case "candidate_cache_size":
			n, err := positiveInt(d)
			if err != nil {
				return err
			}
			h.CandidateCacheSize = n
		case "plan_cache_size":
			n, err := positiveInt(d)
			if err != nil {
				return err
			}
			h.PlanCacheSize = n
		case "preview_time_header":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.PreviewTimeHeader = v
		case "server_timing":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			on, err := parseSwitch(v)
			if err != nil {
				return d.Errf("server_timing: %v", err)
			}
			h.ServerTiming = &on
		case "gate_policy":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.GatePolicy = v
		case "trust":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Trust = v
		case "org_id":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.OrgID = v
		case "membership_cookie":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.MembershipCookie = v
		case "membership_keys":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			h.MembershipKeys = append(h.MembershipKeys, args...)
		case "membership_ttl":
			dur, err := durationArg(d)
			if err != nil {
				return err
			}
			h.MembershipTTL = dur
		case "cart_pins":
			n, err := positiveInt(d)
			if err != nil {
				return err
			}
			h.CartPins = n
		case "edge":
			if d.NextArg() {
				return d.ArgErr()
			}
			if err := h.unmarshalEdge(d); err != nil {
				return err
			}
		case "multi_coupon":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.MultiCoupon = true
		default:
			return d.Errf("unrecognized subdirective %q", d.Val())
		}
	}
	return nil
}

// unmarshalEdge reads the edge { … } block.
func (h *Handler) unmarshalEdge(d *caddyfile.Dispenser) error {
	e := new(EdgeConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		sub := d.Val()
		if sub == "lookup_ttl" || sub == "lookup_timeout" {
			dur, err := durationArg(d)
			if err != nil {
				return err
			}
			if sub == "lookup_ttl" {
				e.LookupTTL = dur
			} else {
				e.LookupTimeout = dur
			}
			continue
		}
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		switch sub {
		case "datastream_id":
			e.DatastreamID = v
		case "edge_url":
			e.URL = v
		case "client_id":
			e.ClientID = v
		case "client_secret":
			e.ClientSecret = v
		case "ims_url":
			e.IMSURL = v
		case "destination_alias":
			e.DestinationAlias = v
		case "on_lookup_error":
			e.OnLookupError = v
		default:
			return d.Errf("edge: unrecognized subdirective %q", sub)
		}
	}
	h.Edge = e
	return nil
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
