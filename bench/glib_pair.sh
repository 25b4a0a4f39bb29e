#!/usr/bin/env bash
# glib_pair.sh - a GMutex pair against a pthread mutex pair, natively and under
# lockwatch, in one run: prints each cost and the two ratios to native.
# Usage: bench/glib_pair.sh BUILD_DIR [PAIRS]   (BUILD_DIR: the CMake build tree)
set -euo pipefail
build=${1:?usage: bench/glib_pair.sh BUILD_DIR [PAIRS]}
pairs=${2:-20000000}
prog=$build/bench/glib_pair
lib=$build/preload/liblockwatch.so
[[ -x $prog ]] || { echo "lockwatch: $prog not built (GLib headers missing? scripts/deps.sh)" >&2; exit 1; }
cost() { "$@" | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p'; }
best() { # the best of three runs
  local b="" v
  for _ in 1 2 3; do
    v=$(cost "$@")
    if [[ -z $b ]] || awk "BEGIN{exit !($v < $b)}"; then b=$v; fi
  done
  echo "$b"
}
gn=$(best "$prog" -n "$pairs")
pn=$(best "$prog" -p -n "$pairs")
gl=$(best env LD_PRELOAD="$lib" "$prog" -n "$pairs")
pl=$(best env LD_PRELOAD="$lib" "$prog" -p -n "$pairs")
awk -v gn="$gn" -v pn="$pn" -v gl="$gl" -v pl="$pl" 'BEGIN {
  printf "GMutex pair:  native %.2f ns, lockwatch %.2f ns, ratio %.2fx\n", gn, gl, gl / gn
  printf "pthread pair: native %.2f ns, lockwatch %.2f ns, ratio %.2fx\n", pn, pl, pl / pn
  printf "GMutex added %.2f ns per pair, pthread %.2f ns\n", gl - gn, pl - pn
}'
