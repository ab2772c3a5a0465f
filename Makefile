# caddy-audiences: `make run` starts the demo, `make test` runs every test.
GO       ?= go
BIN      := $(CURDIR)/bin
CADDY    := $(BIN)/caddy
DEMO     := $(BIN)/demostore
UPSTREAM ?=

.PHONY: all build run test vet fmt-check bench clean

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
	CADDY_BIN=$(CADDY) DEMOSTORE_BIN=$(DEMO) $(GO) test -count=1 -timeout 30m ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN)
