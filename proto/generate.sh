#!/usr/bin/env bash
# Regenerates everything made from proto/webhook.proto, reproducibly:
#   Go       proto/webhookpb/ (protoc-gen-go and protoc-gen-connect-go, pinned in go.mod as tools)
#   Python   client/python/proto/ (protoc's python and pyi outputs, grpc_python_plugin)
#   TS       web/src/gen/ (protoc-gen-es, pinned in proto/package-lock.json), the
#            dashboard's API bindings, used with @connectrpc/connect-web
# Run it through `make generate`. Needs Debian's protobuf-compiler (protoc
# 3.21.12, checked: PROTOC_VERSION below), protobuf-compiler-grpc and
# libprotobuf-dev, Go and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

# protoc writes its version into the generated Go, so another version would
# change every generated file and make check-generate fail with no change to
# the proto. Bump this with the regenerated files when moving protoc on.
PROTOC_VERSION=3.21.12

for cmd in protoc grpc_python_plugin npm go perl; do
  command -v "$cmd" >/dev/null || {
    echo "generate: $cmd not found (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc libprotobuf-dev)" >&2
    exit 1
  }
done
have=$(protoc --version 2>/dev/null | sed -n 's/^libprotoc //p') || have=""
if [ "$have" != "$PROTOC_VERSION" ]; then
  echo "generate: protoc is ${have:-of an unknown version} ($(command -v protoc)), want $PROTOC_VERSION:" \
    "the version is written into the generated files, so another one would make them differ from the committed ones." \
    "Install it (Debian bookworm: apt-get install protobuf-compiler) or put it first on PATH." >&2
  exit 1
fi
[ -f /usr/include/google/protobuf/struct.proto ] || { echo "generate: install libprotobuf-dev" >&2; exit 1; }

# The googleapis protos (google/api/annotations.proto) come from npm, pinned
# in proto/package-lock.json, rather than being copied into the repository.
npm ci --prefix proto --silent --no-audit --no-fund
googleapis=proto/node_modules/google-proto-files

protoc -I . -I "$googleapis" -I /usr/include \
  --plugin=protoc-gen-go="$(go tool -n protoc-gen-go)" \
  --go_out=. --go_opt=module=github.com/sparrowhq/sparrow \
  --plugin=protoc-gen-connect-go="$(go tool -n protoc-gen-connect-go)" \
  --connect-go_out=. --connect-go_opt=module=github.com/sparrowhq/sparrow,simple \
  proto/webhook.proto

# Clients that speak gRPC or Connect don't need the REST annotations, and
# the Python runtime has no googleapis package here to import them from, so
# they are generated from a copy without them.
plain=$(mktemp -d)
trap 'rm -rf "$plain"' EXIT
mkdir -p "$plain/proto"
perl -0pe 's/\n\s*option \(google\.api\.http\) = \{.*?\};//gs; s/import "google\/api\/annotations\.proto";\n//' \
  proto/webhook.proto > "$plain/proto/webhook.proto"
if grep -qE 'option \(google\.api|import "google/api' "$plain/proto/webhook.proto"; then
  echo "generate: failed to strip the google.api annotations" >&2
  exit 1
fi

mkdir -p client/python/proto
protoc -I "$plain" -I /usr/include \
  --python_out=client/python --pyi_out=client/python \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" --grpc_python_out=client/python \
  "$plain/proto/webhook.proto"

# The dashboard's TypeScript bindings: message types and service descriptors
# that @connectrpc/connect's createClient turns into typed clients, and
# google.rpc.BadRequest, to read the field an invalid argument names.
rm -rf web/src/gen
mkdir -p web/src/gen
protoc -I "$plain" -I /usr/include -I "$googleapis" \
  --plugin=protoc-gen-es=proto/node_modules/.bin/protoc-gen-es \
  --es_out=web/src/gen --es_opt=target=ts,import_extension=none \
  "$plain/proto/webhook.proto" google/rpc/error_details.proto
