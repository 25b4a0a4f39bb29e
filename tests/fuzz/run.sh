#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS] - runs every fuzz target for SECONDS
# (default 20) on a copy of its seed corpus; fails if any target finds a
# crash, a leak or undefined behaviour.
set -euo pipefail
build=$1
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in options suppressions report_json; do
  mkdir -p "$work/$target"
  cp "$here/corpus/$target/"* "$work/$target/"
  echo "== fuzz_$target for ${seconds}s"
  if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
      -close_fd_mask=3 -artifact_prefix="$work/$target-" "$work/$target" \
      > "$work/$target.log" 2>&1; then
    echo "fuzz_$target FAILED:"
    tail -40 "$work/$target.log"
    mkdir -p "$build/fuzz-artifacts"
    cp "$work/$target-"* "$build/fuzz-artifacts/" 2>/dev/null || true
    status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$work/$target.log" | tail -1 || true
  fi
done
exit $status
