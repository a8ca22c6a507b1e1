# Sparrow's everyday commands. `make help` lists them.

GO        ?= go
WITHPG    := $(GO) run ./internal/cmd/withpg --
GOTESTFLAGS ?=
GOFILES   = $$(find . -name '*.go' -not -path '*/node_modules/*' -not -path './.git/*')

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The parts in other languages add their test targets to TESTS from their
# own make files.
TESTS := test-go
-include client/python/python.mk
-include web/web.mk

.PHONY: test
test: $(TESTS) ## Run every test (Go, and the Python client's and dashboard's when present)

.PHONY: test-go
test-go: ## Run the Go tests against real PostgreSQL (found or started for you), with the race detector
	$(WITHPG) $(GO) test -race $(GOTESTFLAGS) ./...

.PHONY: lint
lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: fmt
fmt: ## Format the code
	gofmt -w $(GOFILES)

.PHONY: migrate
migrate: ## Apply River's and Sparrow's migrations to DATABASE_URL (or the local server) and exit
	$(GO) run ./examples/server migrate

.PHONY: run
run: ## Run the standalone server (examples/server): API on :8080 and :50051, River's UI on :8082
	$(GO) run ./examples/server

.PHONY: example
example: ## Call a running server with the Go client example (examples/client)
	$(GO) run ./examples/client

.PHONY: build
build: ## Build the server binary into bin/
	$(GO) build -o bin/sparrow-server ./examples/server

.PHONY: clean
clean: ## Remove build outputs
	rm -rf bin

.PHONY: generate
generate: ## Regenerate the code made from proto/webhook.proto (Go, Python, TypeScript)
	./proto/generate.sh

.PHONY: check-generate
check-generate: generate ## Fail when the committed generated code is stale
	@status=$$(git status --porcelain -- proto client web/src/gen); if [ -n "$$status" ]; then \
		echo "generated code is stale; run make generate and commit:"; echo "$$status"; git diff --stat -- proto client web/src/gen; exit 1; fi

.PHONY: bench
bench: ## The benchmark: Sparrow against same-run baselines, and its targets (BENCHFLAGS=-h lists the flags)
	$(GO) run ./examples/bench $(BENCHFLAGS)

.PHONY: bench-micro
bench-micro: ## Micro-benchmarks (go test -bench), each beside a baseline
	$(WITHPG) $(GO) test -run '^$$' -bench . -benchmem ./...
