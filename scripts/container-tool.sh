#!/usr/bin/env bash
# Prints the container tool to build images with: $CONTAINER_TOOL when set,
# else docker when its daemon answers, else podman; or says what to install.
set -euo pipefail
if [ -n "${CONTAINER_TOOL:-}" ]; then
  echo "$CONTAINER_TOOL"
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  echo docker
elif command -v podman >/dev/null; then
  echo podman
else
  echo "building the image needs Docker with its daemon running (docker info answers), or Podman;" >&2
  echo "  install one (https://docs.docker.com/engine/install/, or: sudo apt-get install podman)" >&2
  exit 1
fi
