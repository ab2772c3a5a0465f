// Package loopback keeps the benchmark tools on this machine: it accepts only loopback
// addresses for the servers they listen on or send load to, and checks every connection they
// dial.
package loopback

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// Host reports whether host is "localhost" or a literal loopback IP (127.0.0.0/8, ::1).
// Other names are not resolved: what a name points to can change between check and dial.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// CheckURL parses raw and refuses anything but an http:// URL on a loopback host.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("url %q: only http:// is supported", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q: credentials in the URL are not supported", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("url %q: no host", raw)
	}
	if !Host(u.Hostname()) {
		return nil, fmt.Errorf("url %q: %s is not a loopback address (use 127.0.0.1, ::1 or localhost)", raw, u.Hostname())
	}
	return u, nil
}

// CheckListen refuses a listen address (host:port) whose host is not loopback; an empty host
// would mean every interface.
func CheckListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !Host(host) {
		return fmt.Errorf("listen address %q: want a loopback address such as 127.0.0.1:0", addr)
	}
	return nil
}

// control is a net.Dialer Control hook that aborts any connection whose resolved peer is not
// a loopback address, so neither a name nor a redirect can send traffic elsewhere.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: not a loopback address", address)
	}
	return nil
}

// DialContext connects to loopback addresses only; use it as http.Transport.DialContext.
func DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: control}
	return d.DialContext(ctx, network, addr)
}
