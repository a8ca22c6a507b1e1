#!/usr/bin/env bash
# Installs, on Debian, what Sparrow's tests and code generation need beyond
# Go: PostgreSQL (unless DATABASE_URL is set or a server answers on
# 127.0.0.1:5432), protoc with the gRPC plugin, and what the Python client's
# and the dashboard's tests need. Run it as root (make setup); it installs
# nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
if [ -z "${DATABASE_URL:-}" ] && ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432) \
    && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! command -v protoc >/dev/null || ! command -v grpc_python_plugin >/dev/null || [ ! -f /usr/include/google/protobuf/struct.proto ]; then
  need+=(protobuf-compiler protobuf-compiler-grpc libprotobuf-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "scripts/setup.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
client/python/ci-setup.sh
web/ci-setup.sh
