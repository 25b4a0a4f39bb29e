#!/usr/bin/env bash
# Installs the Debian packages lockwatch needs to build and test itself.
# As root, installs what is missing; otherwise prints the apt-get line and
# fails. Usage: scripts/deps.sh [--quiet] [--ci]
#   --ci  also what CI's extra checks need: clang and its sanitizer and
#         libFuzzer runtimes (make check-fuzz), and chromium, in which the
#         HTML page test (tools.html.bank) checks the page; without it that
#         test is skipped
set -euo pipefail

packages=(cmake make gcc g++ pkg-config uthash-dev check libdw-dev libelf-dev
          libjson-c-dev python3 python3-dev graphviz)
# optional: without it the GLib tests (e2e.glib.*) and bench/glib_pair are skipped
packages+=(libglib2.0-dev)

quiet=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --ci) packages+=(clang libclang-rt-14-dev chromium) ;;
    *) echo "lockwatch: scripts/deps.sh: unknown argument '$arg' (accepted: --quiet, --ci)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  [[ $quiet == 1 ]] || echo "lockwatch: all build dependencies are installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "lockwatch: missing Debian packages: ${missing[*]}" >&2
  echo "lockwatch: install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "lockwatch: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
