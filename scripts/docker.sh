#!/usr/bin/env bash
# make docker-dev (dev) and make docker-purge (purge): compose.yaml's
# development environment, with Docker and Compose.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null; then
  echo "make docker-$1 needs Docker with Compose: https://docs.docker.com/engine/install/" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "make docker-$1 needs Docker's daemon, which does not answer (docker info fails): start it (sudo systemctl start docker)" >&2
  exit 1
fi
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  echo "make docker-$1 needs Docker Compose (the docker compose plugin, or docker-compose)" >&2
  exit 1
fi
export IMAGE=${IMAGE:-sparrow:dev}

case $1 in
dev)
  CONTAINER_TOOL=docker scripts/image.sh
  "${compose[@]}" up -d
  cat <<MSG
make docker-dev: up (docker compose ps; docker compose logs -f sparrow)
  API and dashboard  http://localhost:${SPARROW_HTTP_PORT:-8080}/ui/
  gRPC               localhost:${SPARROW_GRPC_PORT:-50051}
  River's UI         http://localhost:${RIVER_UI_PORT:-8082}/jobs
  PostgreSQL         postgres://sparrow:sparrow@localhost:${POSTGRES_PORT:-5432}/sparrow
  OTLP               localhost:${OTLP_GRPC_PORT:-4317} (gRPC), localhost:${OTLP_HTTP_PORT:-4318} (HTTP)
MSG
  ;;
purge)
  "${compose[@]}" down --volumes --remove-orphans --rmi all
  docker image rm --force "$IMAGE" >/dev/null 2>&1 || true
  echo "make docker-purge: containers, volumes and images removed"
  ;;
*)
  echo "usage: scripts/docker.sh dev|purge" >&2
  exit 2
  ;;
esac
