# The dashboard (web/), included by the top-level Makefile. The app is built
# into dashboard/dist, which is committed and embedded by the Go package
# dashboard, so Go users need no Node.js.

WEB_NPM ?= npm
WEB_NODE_MODULES := web/node_modules/.sparrow-installed

TESTS   += test-web
PREREQS += prereqs-web

.PHONY: prereqs-web
prereqs-web:
	@web/ci-setup.sh --check

# npm ci, again whenever web/package-lock.json changes.
$(WEB_NODE_MODULES): web/package-lock.json
	cd web && $(WEB_NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: run-web
run-web: $(WEB_NODE_MODULES) ## Run the dashboard's dev server on :5173, sending API calls to the server on :8080 (make run)
	cd web && SPARROW_API=$${SPARROW_API:-http://localhost:8080} npx vite dev --port 5173 --strictPort

.PHONY: build-web
build-web: $(WEB_NODE_MODULES) ## Build the dashboard into dashboard/dist (commit it)
	cd web && $(WEB_NPM) run --silent build >/dev/null

.PHONY: check-web
check-web: ## Fail when the committed dashboard build or its API bindings are stale
	./proto/generate.sh
	@$(MAKE) --no-print-directory build-web
	@status=$$(git status --porcelain -- web/src/gen dashboard/dist dashboard/dist-sources.sha256); if [ -n "$$status" ]; then \
		echo "the dashboard build is stale; run make generate build-web and commit:"; echo "$$status"; exit 1; fi

.PHONY: test-web
test-web: build-web ## Type-check the dashboard, run its unit tests (Vitest) and its browser tests (Chromium) against a real server
	cd web && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human
	cd web && npx vitest run
	$(GO) run ./internal/cmd/withpg -fresh-schema -- sh -c 'cd web && npx playwright test'
