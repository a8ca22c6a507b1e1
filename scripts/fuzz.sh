#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME each
# (make fuzz; CI runs it with the default). A failure leaves its input under
# the package's testdata/fuzz, to commit as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-15s}
status=0
while IFS=: read -r file name; do
  pkg=$(dirname "$file")
  echo "fuzz: $name ($pkg) for $fuzztime"
  "${GO:-go}" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" || status=1
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | grep -v node_modules | sed 's/:func /:/' | sort)
exit $status
