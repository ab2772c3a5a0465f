// Command caddy is Caddy with its standard modules plus the audiences module.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-audiences/caddy-audiences/caddymodule"
)

func main() {
	caddycmd.Main()
}
