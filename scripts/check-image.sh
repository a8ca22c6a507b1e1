#!/usr/bin/env bash
# Builds the image (make image) and checks what is in it without running
# it: the server binary, static, as its entrypoint; CA certificates; a
# non-root user; the documented ports; the health check. CI runs it with
# Podman, which builds images where no Docker daemon runs.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-sparrow:check}
IMAGE=$image scripts/image.sh
tool=$(scripts/container-tool.sh)
fail() { echo "check-image: $*" >&2; exit 1; }

inspect() { "$tool" image inspect "$image" --format "$1"; }
[ "$(inspect '{{.Config.User}}')" = 65532:65532 ] || fail "user is $(inspect '{{.Config.User}}'), want 65532:65532 (non-root)"
for port in 8080/tcp 50051/tcp 8082/tcp; do
  inspect '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' | grep -qw "$port" || fail "port $port not exposed"
done
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/local/bin/sparrow-server"]' ] || fail "entrypoint is $(inspect '{{json .Config.Entrypoint}}')"
inspect '{{json .Config.Healthcheck}}' | grep -q healthcheck || fail "no health check"

# The files, from the saved image's layers.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$tool" save --format docker-archive -o "$dir/image.tar" "$image" >/dev/null
mkdir "$dir/root"
tar -xf "$dir/image.tar" -C "$dir"
for layer in $(find "$dir" -name '*.tar' ! -name image.tar); do
  tar -xf "$layer" -C "$dir/root"
done
[ -x "$dir/root/usr/local/bin/sparrow-server" ] || fail "no executable /usr/local/bin/sparrow-server"
"${GO:-go}" version -m "$dir/root/usr/local/bin/sparrow-server" | grep -q 'CGO_ENABLED=0' || fail "the binary is not static (CGO_ENABLED=0)"
[ -s "$dir/root/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA certificates"
grep -q '^sparrow:x:65532:65532:' "$dir/root/etc/passwd" || fail "no user 65532 in /etc/passwd"
echo "check-image: $image: static server binary, CA certificates, user 65532, ports 8080 50051 8082, health check"
