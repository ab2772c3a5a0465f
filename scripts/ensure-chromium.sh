#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is on PATH for the dashboard's end-to-end test.
# Installs Debian's own `chromium` package and nothing else; needs root to install.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
# Without root or apt-get, say so; the dashboard test then skips, except under CI where it
# fails, so a CI image without Chromium cannot pass unnoticed.
cannot() {
	echo "ensure-chromium: chromium is not on PATH and $1; install Debian's chromium package" >&2
	if [ -n "${CI:-}" ]; then exit 1; fi
	exit 0
}
[ "$(id -u)" -eq 0 ] || cannot "installing it needs root"
command -v apt-get >/dev/null 2>&1 || cannot "apt-get is missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
