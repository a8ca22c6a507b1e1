#!/usr/bin/env bash
# Installs what the Python client's tests need on a Debian machine (make
# setup runs it, as root): Debian's grpcio and protobuf for /usr/bin/python3,
# venv, pip, setuptools and wheel for the offline install test, and openssl
# for the TLS tests' CA. Installs nothing when all is there. With --check it
# installs nothing: it names what is missing and fails (make test runs that
# first).
set -euo pipefail

packages=(python3 python3-grpcio python3-protobuf python3-venv python3-pip python3-setuptools python3-wheel openssl)
missing=()
for pkg in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ] && [ "${1:-}" = --check ]; then
  echo "the Python client's tests need Debian packages: ${missing[*]}"
  echo "  install them: sudo make setup   (or: sudo apt-get install ${missing[*]})"
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "client/python/ci-setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
