#!/usr/bin/env bash
# Builds the container image of examples/server (make image): a static
# binary, CA certificates and a non-root user, assembled in build/image and
# put on scratch by ./Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-sparrow:dev}
tool=$(scripts/container-tool.sh)
certs=/etc/ssl/certs/ca-certificates.crt
if [ ! -f "$certs" ]; then
  echo "make image: $certs is missing; install it: sudo apt-get install ca-certificates" >&2
  exit 1
fi
context=build/image
rm -rf "$context"
mkdir -p "$context"
echo "make image: compiling bin/sparrow-server statically (CGO_ENABLED=0)"
CGO_ENABLED=0 "${GO:-go}" build -trimpath -ldflags "-s -w" -o "$context/sparrow-server" ./examples/server
cp "$certs" "$context/ca-certificates.crt"
echo 'sparrow:x:65532:65532:sparrow:/:/sbin/nologin' > "$context/passwd"
echo 'sparrow:x:65532:' > "$context/group"
echo "make image: $tool build -t $image"
format=()
if [ "$(basename "$tool")" = podman ]; then
  format=(--format docker) # keeps HEALTHCHECK, which the OCI format drops
fi
"$tool" build "${format[@]}" -t "$image" -f Dockerfile "$context"
