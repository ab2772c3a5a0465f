// Command demostore runs the Magento-compatible demo GraphQL backend used by `make run`, the
// end-to-end tests and the benchmarks.
//
//	demostore [-listen 127.0.0.1:9080] [-audience-rules rules.json]
//
// With -audience-rules the store applies that audience rule file itself, from the
// X-Audience-Segments request header, inside its own totals and after its own coupon rule: a
// reference to check the sidecar's rewritten responses against.
//
// It logs "demostore: listening on ADDR" once it accepts connections (with -listen
// 127.0.0.1:0 the kernel picks the port and ADDR shows it) and stops gracefully on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9080", "address to serve /graphql on")
	audienceRules := flag.String("audience-rules", "", "apply this audience rule file inside the store's own totals")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*listen, *audienceRules); err != nil {
		log.Fatalf("demostore: %v", err)
	}
}

func run(listen, audienceRules string) error {
	opts := demostore.Options{}
	if audienceRules != "" {
		rs, err := rules.LoadFile(audienceRules)
		if err != nil {
			return fmt.Errorf("audience rules: %w", err)
		}
		opts.AudienceRules = demostore.RuleDiscounter{RuleSet: rs}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	opts.BaseURL = baseURL(ln.Addr())
	store := demostore.New(opts)
	srv := &http.Server{Handler: store, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("demostore: listening on %s", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Printf("demostore: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// baseURL is the store's public URL as seen on the listening address.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
