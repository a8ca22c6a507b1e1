#!/usr/bin/env bash
# Runs the Python client's tests: builds examples/server, then runs tests/
# from client/python (so `from proto import ...` resolves as documented).
# Needs DATABASE_URL pointing at a database of its own; `make test-python`
# runs it through withpg -fresh-schema, or by hand from the repository root:
#
#   go run ./internal/cmd/withpg -fresh-schema -- client/python/run_tests.sh
#
# PYTHON picks the interpreter (default: /usr/bin/python3, Debian's, when it
# has grpcio and protobuf, else python3); SPARROW_SERVER_BIN a prebuilt
# server. Extra arguments go to unittest (e.g. tests.test_client).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${DATABASE_URL:-}" ]; then
  echo "run_tests.sh: DATABASE_URL is not set; run: go run ./internal/cmd/withpg -fresh-schema -- client/python/run_tests.sh" >&2
  exit 2
fi

has_deps() { "$1" -c 'import grpc, google.protobuf' >/dev/null 2>&1; }
if [ -z "${PYTHON:-}" ]; then
  for candidate in /usr/bin/python3 python3; do
    if command -v "$candidate" >/dev/null && has_deps "$candidate"; then PYTHON=$candidate; break; fi
  done
fi
if [ -z "${PYTHON:-}" ] || ! has_deps "$PYTHON"; then
  echo "run_tests.sh: no Python with grpcio and protobuf (${PYTHON:-/usr/bin/python3, python3}); Debian: apt-get install python3-grpcio python3-protobuf (client/python/ci-setup.sh)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "${SPARROW_SERVER_BIN:-}" ]; then
  (cd "$root" && "${GO:-go}" build -o "$tmp/sparrow-server" ./examples/server)
  SPARROW_SERVER_BIN=$tmp/sparrow-server
fi
export SPARROW_SERVER_BIN PYTHONDONTWRITEBYTECODE=1

cd "$here"
echo "python: $PYTHON ($("$PYTHON" -c 'import sys, grpc, google.protobuf as p; print(sys.version.split()[0], "grpcio", grpc.__version__, "protobuf", p.__version__)'))"
if [ $# -gt 0 ]; then
  exec "$PYTHON" -m unittest -v "$@"
fi
exec "$PYTHON" -m tests
