# Sparrow's everyday commands. `make help` lists them.

GO        ?= go
WITHPG    := $(GO) run ./internal/cmd/withpg --
GOTESTFLAGS ?=

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: ## Run every test against real PostgreSQL (found or started for you), with the race detector
	$(WITHPG) $(GO) test -race $(GOTESTFLAGS) ./...

.PHONY: lint
lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: fmt
fmt: ## Format the code
	gofmt -w $$(git ls-files '*.go')

.PHONY: bench
bench: ## Micro-benchmarks (go test -bench)
	$(WITHPG) $(GO) test -run '^$$' -bench . -benchmem ./...
