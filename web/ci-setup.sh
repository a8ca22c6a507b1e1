#!/usr/bin/env bash
# Installs what the dashboard's tests need on a Debian machine (make setup
# runs it, as root): Debian's Chromium for the browser tests (Playwright
# downloads no browser) and web/'s npm packages. Installs nothing when all is
# there. With --check it installs nothing: it names what is missing and
# fails (make test runs that first; the npm packages it installs itself).
set -euo pipefail
cd "$(dirname "$0")"

packages=(chromium fonts-liberation)
missing=()
for pkg in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
    missing+=("$pkg")
  fi
done
if [ "${1:-}" = --check ]; then
  status=0
  if [ ${#missing[@]} -gt 0 ]; then
    echo "the dashboard's browser tests need Debian packages: ${missing[*]}"
    echo "  install them: sudo make setup   (or: sudo apt-get install ${missing[*]})"
    status=1
  fi
  if ! command -v npm >/dev/null; then
    echo "the dashboard's tests need Node.js 20.19 or later with npm"
    status=1
  fi
  exit $status
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "web/ci-setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v npm >/dev/null; then
  echo "web/ci-setup.sh: Node.js 20.19 or later with npm is needed" >&2
  exit 1
fi
# The same stamp as web/web.mk's: npm ci again only when the lock file changed.
if [ ! -f node_modules/.sparrow-installed ] || [ package-lock.json -nt node_modules/.sparrow-installed ]; then
  echo "web/ci-setup.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.sparrow-installed
fi
