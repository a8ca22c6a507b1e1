#!/usr/bin/env bash
# Checks what the Go tests need before they start: the Go version go.mod
# names, and a PostgreSQL to run against (DATABASE_URL, a server on
# 127.0.0.1:5432, or PostgreSQL's binaries for a throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(awk '/^go /{print $2; exit}' go.mod)
have=$(${GO:-go} env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
  echo "Sparrow needs Go $want or later; this is Go $have (https://go.dev/dl/)"
  exit 1
fi
if [ -z "${DATABASE_URL:-}" ] && ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432) \
    && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "the Go tests need PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432 (user postgres),"
  echo "  or install PostgreSQL's binaries for a throwaway cluster: sudo make setup   (or: sudo apt-get install postgresql)"
  exit 1
fi
