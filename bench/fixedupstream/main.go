// Command fixedupstream is the benchmarks' backend: a loopback HTTP server that answers
// /graphql with responses recorded from the demo store, so a load test measures the proxy in
// front of it and not the store.
//
//	fixedupstream -dir DIR [-listen 127.0.0.1:0]
//
// DIR holds three recorded bodies (cmd/benchrecord writes them): cart-augmented.json for an
// operation that carries the sidecar's hidden _aud_ fields, cart.json for any other operation
// that selects a cart, nocart.json for everything else. It logs "fixedupstream: listening on
// ADDR" once it accepts connections and stops on SIGINT or SIGTERM. It listens on loopback
// addresses only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
	"github.com/caddy-audiences/caddy-audiences/internal/servecmd"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	dir := flag.String("dir", "", "directory of the recorded responses (required)")
	flag.Parse()
	log.SetFlags(0)
	if err := run(*listen, *dir); err != nil {
		log.Fatalf("fixedupstream: %v", err)
	}
}

func run(listen, dir string) error {
	if dir == "" {
		return errors.New("-dir is required")
	}
	if err := loopback.CheckListen(listen); err != nil {
		return err
	}
	h, err := loadHandler(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return servecmd.Run("fixedupstream", ln, h)
}
