# caddy-audiences: `make run` starts the demo, `make test` runs every test.
GO       ?= go
BIN      := $(CURDIR)/bin
CADDY    := $(BIN)/caddy
DEMO     := $(BIN)/demostore
UPSTREAM ?=

.PHONY: all build run test vet fmt-check bench soak instructions clean

all: build

# go build is incremental: with a warm module and build cache this takes seconds.
build:
	$(GO) build -o $(CADDY) ./cmd/caddy
	$(GO) build -o $(DEMO) ./cmd/demostore

run: build
	UPSTREAM=$(UPSTREAM) ./scripts/run.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# End-to-end tests use the binaries built here instead of building their own.
test: build fmt-check vet
	./scripts/ensure-chromium.sh
	CADDY_BIN=$(CADDY) DEMOSTORE_BIN=$(DEMO) $(GO) test -count=1 -timeout 30m ./...

# Go benchmarks and the load comparison of plain Caddy and the sidecar; writes BENCHMARKS.md.
# QUICK=1 keeps it under a minute. `make soak` is the 5-minute memory soak (QUICK=1: 30 s).
bench:
	GO="$(GO)" QUICK="$(QUICK)" ./scripts/bench.sh bench

soak:
	GO="$(GO)" QUICK="$(QUICK)" ./scripts/bench.sh soak

# Instructions per request of the four proxies of `make bench`, one at a time under callgrind
# (needs valgrind; about two minutes): a count other work on the machine does not move.
instructions:
	GO="$(GO)" QUICK="$(QUICK)" ./scripts/bench.sh instructions

clean:
	rm -rf $(BIN)
