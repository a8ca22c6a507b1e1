#!/usr/bin/env bash
# Validates compose.yaml without a Docker daemon (docker-compose config),
# and checks what README.md promises of it: the three services, the
# documented ports, health checks, Sparrow waiting for a healthy
# PostgreSQL, and a named volume for PostgreSQL's data.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
fail() { echo "check-compose: $*" >&2; exit 1; }
"${compose[@]}" -f compose.yaml config -q
config=$("${compose[@]}" -f compose.yaml config)
for service in postgres sparrow otel-collector; do
  grep -q "^  $service:" <<<"$config" || fail "no service $service"
done
for port in 8080 50051 8082 5432 4317 4318; do
  grep -Eq "published: \"?$port\"?$|- \"?$port:" <<<"$config" || fail "port $port not published"
done
[ "$(grep -c 'healthcheck:' <<<"$config")" -ge 2 ] || fail "postgres and sparrow need health checks"
awk '/^  sparrow:/ {in_sparrow = 1} /^  [a-z-]+:/ && !/^  sparrow:/ {in_sparrow = 0}
  in_sparrow && /^      postgres:/ {getline; print; exit}' <<<"$config" | grep -q 'condition: service_healthy' ||
  fail "sparrow does not wait for a healthy postgres"
grep -q 'pgdata:/var/lib/postgresql/data' <<<"$config" || grep -q 'source: pgdata' <<<"$config" || fail "PostgreSQL's data is not on the named volume pgdata"
echo "check-compose: compose.yaml is valid: postgres, sparrow, otel-collector; ports 8080 50051 8082 5432 4317 4318; health checks; sparrow waits for postgres"
