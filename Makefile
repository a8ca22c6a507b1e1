# Sparrow's everyday commands. `make help` lists them.

GO        ?= go
WITHPG    := $(GO) run ./internal/cmd/withpg --
GOTESTFLAGS ?=
FUZZTIME    ?= 15s
GOFILES   = $$(find . -name '*.go' -not -path '*/node_modules/*' -not -path './.git/*')

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The parts of make test, and the checks of what each needs; the parts in
# other languages add theirs from their own make files.
TESTS   := test-go
PREREQS := prereqs-go
-include client/python/python.mk
-include web/web.mk

.PHONY: test
test: prereqs ## Run every part of the test suite (Go, the Python client's, the dashboard's), each even when another fails, then a summary
	@failed=0; summary=""; \
	for part in $(TESTS); do \
		start=$$(date +%s); \
		if $(MAKE) --no-print-directory $$part; then result=ok; else result=FAIL; failed=1; fi; \
		summary="$$summary$$(printf '  %-4s  %-12s %4ss' $$result $$part $$(( $$(date +%s) - start )))\n"; \
	done; \
	printf '\nmake test:\n%b' "$$summary"; \
	exit $$failed

.PHONY: prereqs
prereqs: ## Check, before any test runs, what make test needs, and say how to get what is missing
	@failed=0; for check in $(PREREQS); do $(MAKE) -s --no-print-directory $$check 2>/dev/null || failed=1; done; \
	if [ $$failed = 1 ]; then echo "make test: nothing was run"; fi; exit $$failed

.PHONY: prereqs-go
prereqs-go:
	@GO="$(GO)" scripts/prereqs-go.sh

.PHONY: setup
setup: ## Install on Debian (as root) what the tests need beyond Go: PostgreSQL if none is found, protoc, Python's gRPC, Chromium, npm packages
	scripts/setup.sh

.PHONY: test-go
test-go: ## Run the Go tests against real PostgreSQL (found or started for you), with the race detector
	$(WITHPG) $(GO) test -race -timeout 30m $(GOTESTFLAGS) ./...

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 15s) against real PostgreSQL
	$(WITHPG) env GO="$(GO)" FUZZTIME="$(FUZZTIME)" scripts/fuzz.sh

.PHONY: test-bench
test-bench: ## Run the benchmark's scenarios at tiny sizes (examples/bench); apart from make test, as they need an idle machine
	$(WITHPG) $(GO) test -tags benchscenarios -run 'TestBench(Quick|Soak)' $(GOTESTFLAGS) ./examples/bench

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
run: build ## Run the standalone server (examples/server): API on :8080 and :50051, River's UI on :8082
	@echo "make run: bin/sparrow-server (Ctrl-C shuts it down gracefully)"
	@exec bin/sparrow-server

.PHONY: quickstart
quickstart: ## Build and run examples/quickstart, saying what happens while it compiles
	@echo "make quickstart: compiling examples/quickstart (the first build takes a minute or two)..."
	@$(GO) build -o bin/quickstart ./examples/quickstart
	@exec bin/quickstart

.PHONY: example
example: ## Call a running server with the Go client example (examples/client)
	$(GO) run ./examples/client

.PHONY: build
build: ## Build the server binary into bin/ (the first build takes a minute or two)
	$(GO) build -o bin/sparrow-server ./examples/server

.PHONY: clean
clean: ## Remove build outputs
	rm -rf bin build

.PHONY: image
image: ## Build the container image of examples/server (IMAGE, default sparrow:dev) with Docker or Podman
	@GO="$(GO)" scripts/image.sh

.PHONY: docker-dev
docker-dev: ## Bring up PostgreSQL, Sparrow and an OpenTelemetry collector with Docker Compose (compose.yaml)
	@GO="$(GO)" scripts/docker.sh dev

.PHONY: docker-purge
docker-purge: ## Remove docker-dev's containers, volumes and images
	@scripts/docker.sh purge

.PHONY: check-containers
check-containers: ## Build the image and check its contents, and validate compose.yaml (needs Podman or Docker, and docker-compose)
	@GO="$(GO)" scripts/check-image.sh
	@scripts/check-compose.sh

.PHONY: setup-containers
setup-containers: ## Install on Debian (as root) what check-containers needs: Podman and docker-compose
	@if ! command -v podman >/dev/null || ! command -v docker-compose >/dev/null; then \
		echo "make setup-containers: installing podman docker-compose"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman docker-compose >/dev/null; fi

.PHONY: clean-db
clean-db: ## Drop the databases the examples and interrupted test runs leave on the local PostgreSQL (keeps examples/server's)
	$(GO) run ./internal/cmd/cleandb

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
