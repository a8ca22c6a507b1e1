# The Python client (client/python), included by the top-level Makefile.

TESTS   += test-python
PREREQS += prereqs-python

.PHONY: prereqs-python
prereqs-python:
	@client/python/ci-setup.sh --check

.PHONY: test-python
test-python: ## Run the Python client's tests against a real server and PostgreSQL (fresh schema)
	GO="$(GO)" PYTHON="$(PYTHON)" $(GO) run ./internal/cmd/withpg -fresh-schema -- client/python/run_tests.sh
