#!/usr/bin/env bash
# tests/real/run.sh [--build DIR] - real multi-threaded programs under the
# preload, each compared with a run without it: same outputs (checksums),
# same exit status, and no report in any JSON document lockwatch wrote.
#
#   the compressors, sort, sqlite3, python3 threading and memcached:
#       bench/real.sh -n 1 (every output checked against the native run)
#   stress-ng --mutex and --pthread workers (they leave with _exit)
#   openssl: enc/dec round trip of 16 MiB, RSA key generation (nested rwlocks)
#   redis-server --io-threads 2 under tests/real/redis_client.py
#   the Python demos (demos/python/), their correct variants
#
# Installs the Debian packages it needs when run as root (else prints the
# apt-get line and stops). Exit status 0 when every program behaved the
# same with and without lockwatch and nothing was reported, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
[ "${1:-}" = "--build" ] && build=$(cd "${2:?--build needs a directory}" && pwd)
preload="$build/preload/liblockwatch.so"
[ -f "$preload" ] || { echo "real: $preload is missing: build the project first" >&2; exit 2; }

packages=(stress-ng openssl redis-server redis-tools python3)
missing=()
for p in "${packages[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "real: missing Debian packages: ${missing[*]}; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi

work=$(mktemp -d)
trap 'pkill -f "redis-server.*$work" 2>/dev/null || true; rm -rf "$work"' EXIT
failed=0

# Runs "$@" natively then under lockwatch; both must exit `want` and print the
# same stdout; lockwatch's documents must have no report.
same() {
  local name=$1 want=$2
  shift 2
  local n_out=$work/$name.native l_out=$work/$name.lw
  local n_rc=0 l_rc=0
  "$@" > "$n_out" 2> "$work/$name.native.err" || n_rc=$?
  mkdir -p "$work/$name.json"
  LD_PRELOAD="$preload" LOCKWATCH_OPTIONS="json_path=$work/$name.json/lw.%p.json" \
    "$@" > "$l_out" 2> "$work/$name.lw.err" || l_rc=$?
  local why=""
  [ "$n_rc" = "$want" ] || why="native exit status $n_rc, expected $want"
  [ -z "$why" ] && [ "$l_rc" != "$n_rc" ] && why="exit status $l_rc under lockwatch, $n_rc natively"
  [ -z "$why" ] && ! cmp -s "$n_out" "$l_out" && why="stdout differs from the native run"
  if [ -z "$why" ]; then
    if ! ls "$work/$name.json"/*.json >/dev/null 2>&1; then
      why="lockwatch wrote no document"
    elif ! python3 "$root/bench/lwjson.py" "$work/$name.json"/*.json > "$work/$name.stats" 2>&1; then
      why="lockwatch reported: $(head -3 "$work/$name.stats")"
    fi
  fi
  if [ -n "$why" ]; then
    echo "real: $name FAILED: $why"
    tail -5 "$work/$name.lw.err" | sed 's/^/  /'
    failed=1
  else
    echo "real: $name ok ($(cat "$work/$name.stats"))"
  fi
}

echo "== bench/real.sh -n 1 (compressors, sort, sqlite3, python3, memcached)"
if ! bash "$root/bench/real.sh" -n 1 --preload "$preload" --build "$build"; then
  echo "real: bench/real.sh FAILED"
  failed=1
fi

echo "== stress-ng, openssl, redis"
# stress-ng's workers end with _exit: their documents must still be written
same stress-ng-mutex 0 sh -c 'stress-ng --mutex 2 --mutex-ops 20000 --quiet --timeout 30s >/dev/null; echo done $?'
same stress-ng-pthread 0 sh -c 'stress-ng --pthread 2 --pthread-ops 2000 --quiet --timeout 30s >/dev/null; echo done $?'

head -c 16777216 /dev/urandom > "$work/plain"
same openssl-enc 0 sh -c "openssl enc -aes-256-cbc -pbkdf2 -pass pass:lockwatch -S 0011223344556677 -in '$work/plain' -out '$work/cipher' && openssl enc -d -aes-256-cbc -pbkdf2 -pass pass:lockwatch -in '$work/cipher' | sha256sum; sha256sum < '$work/plain'"
same openssl-rsa 0 sh -c "openssl genrsa -out '$work/key.pem' 2048 2>/dev/null && openssl rsa -in '$work/key.pem' -check -noout"

# redis: the server runs under lockwatch (or not); the client always runs natively
redis_run() {
  local tag=$1 port=$2
  shift 2
  "$@" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --io-threads 2 --io-threads-do-reads yes --dir "$work" --logfile "$work/redis-$tag.log" \
    --pidfile "$work/redis-$tag.pid" --daemonize no &
  local pid=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  local rc=0
  env -u LD_PRELOAD python3 "$here/redis_client.py" "$port" 40000 || rc=$?
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return $rc
}
mkdir -p "$work/redis.json"
if redis_run native 16391 env && \
   redis_run lw 16392 env LD_PRELOAD="$preload" LOCKWATCH_OPTIONS="json_path=$work/redis.json/lw.%p.json"; then
  if python3 "$root/bench/lwjson.py" "$work/redis.json"/*.json > "$work/redis.stats" 2>&1; then
    echo "real: redis ok ($(cat "$work/redis.stats"))"
  else
    echo "real: redis FAILED: lockwatch reported or wrote nothing: $(head -3 "$work/redis.stats")"
    failed=1
  fi
else
  echo "real: redis FAILED: the client saw a wrong reply"
  failed=1
fi

echo "== the Python demos (threading.Lock is a semaphore), correct variants"
# Threads print in any order: outputs are compared sorted, or by what must not vary.
py=$root/demos/python
same py-bank-ordered 0 sh -c "python3 '$py/bank.py' --variant=ordered | sort"
same py-bank-coarse 0 sh -c "python3 '$py/bank.py' --variant=coarse | grep '^total'"
same py-ticket-office 0 sh -c "python3 '$py/ticket_office.py' --variant=locked | grep '^final stock' | tr -d 0-9"
same py-fake-database 0 sh -c "python3 '$py/fake_database.py' --variant=scoped | sort"

[ "$failed" = 0 ] && echo "real: every program behaved the same under lockwatch, with no report"
exit "$failed"
