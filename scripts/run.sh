#!/usr/bin/env bash
# Starts the demo store (unless UPSTREAM points elsewhere) and the sidecar in front of it,
# prints how to try it, and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

pids=()
stop() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop EXIT INT TERM

if [ -z "${UPSTREAM:-}" ]; then
	UPSTREAM=127.0.0.1:9080
	rules_flag=()
	bin/demostore -listen "$UPSTREAM" "${rules_flag[@]}" &
	pids+=($!)
fi
export UPSTREAM

bin/caddy run --config Caddyfile --adapter caddyfile &
pids+=($!)

for _ in $(seq 1 50); do
	curl -fsS -o /dev/null http://localhost:8080/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D 2>/dev/null && break
	sleep 0.2
done

cat <<TRY

caddy-audiences is running: http://localhost:8080 -> audiences -> $UPSTREAM (admin: localhost:2019)
Dashboard: http://localhost:8019/audiences/ui

Try it (copy and paste):

  CART=\$(curl -s localhost:8080/graphql -H 'Content-Type: application/json' \\
    -d '{"query":"mutation { createEmptyCart }"}' | sed -E 's/.*"createEmptyCart":"([^"]+)".*/\1/'); echo \$CART

  curl -s localhost:8080/graphql -H 'Content-Type: application/json' \\
    -d '{"query":"mutation(\$c:String!){addProductsToCart(cartId:\$c,cartItems:[{sku:\"24-MB01\",quantity:2}]){cart{total_quantity}}}","variables":{"c":"'\$CART'"}}'

  # the cart as a shopper outside every audience
  curl -s -G localhost:8080/graphql --data-urlencode 'query={cart(cart_id:"'\$CART'"){prices{grand_total{value currency} discounts{label amount{value}}}}}'

  # the same cart as a VIP shopper (header of a headless storefront); watch X-Demo-Received-Segments
  curl -si -G localhost:8080/graphql -H 'aep-segments-membership: 6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01' \\
    --data-urlencode 'query={cart(cart_id:"'\$CART'"){prices{grand_total{value currency} discounts{label amount{value}}}}}'

  # a bag's related products, for everyone and for a Bag lover (merchandising rules)
  curl -s -G localhost:8080/graphql --data-urlencode 'query={products(filter:{sku:{eq:"24-MB01"}}){items{related_products{sku name}}}}'
  curl -s -G localhost:8080/graphql -H 'aep-segments-membership: 0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5' \
    --data-urlencode 'query={products(filter:{sku:{eq:"24-MB01"}}){items{related_products{sku name}}}}'

Press Ctrl-C to stop.
TRY
wait -n "${pids[@]}"
