#!/usr/bin/env bash
# bench/real.sh - lockwatch's overhead on real multi-threaded programs.
#
#   bench/real.sh [-n RUNS] [--preload PATH] [--build DIR] [--only REGEX]
#                 [--workdir DIR] [--json FILE]
#
# Runs each program natively and under lockwatch (LD_PRELOAD), RUNS times
# each (default 5, at least 3 recommended), interleaved, and prints the
# medians of wall time and peak resident set size and their ratios against
# the targets (wall <= 1.05x, peak RSS <= 1.10x):
#
#   sqlite     sqlite3, PRAGMA threads=4: a 600,000-row table, two indexes,
#              sorting queries, integrity check
#   xz         xz -T2 -2: compress 64 MiB, then decompress
#   zstd       zstd -T2 -12: compress 64 MiB, then decompress
#   pigz       pigz -p 2 -9: compress 64 MiB, then decompress
#   sort       sort --parallel=4 on three keys of the 64 MiB text
#   python     python3 threading: producers and consumers on a queue.Queue,
#              a Lock, a Condition, a Barrier
#   memcached  memcached -t 4 serving 4 loopback connections of
#              bench/memcached_client (which runs natively and checks every
#              reply): 40,000 keys of 512 bytes, 400,000 gets and sets; the
#              wall time is the client's, the RSS memcached's
#
# Every run's output (and, for the compressors, the compressed file) must
# have the same checksum as the first native run, and round trips must give
# back the input. Every lockwatch run writes its JSON documents
# (json_path=.../lw.%p.json) and none may contain a report. The inputs are
# generated once (deterministically) in the work directory.
#
#   -n RUNS         runs per program and tool (default 5)
#   --preload PATH  the library to preload (default BUILD/preload/liblockwatch.so,
#                   built with CMake if missing)
#   --build DIR     the project's build directory (default build)
#   --only REGEX    only the programs whose name matches REGEX (grep -E)
#   --workdir DIR   keep inputs and outputs in DIR (default: a temporary
#                   directory, removed at exit)
#   --json FILE     also write every raw number to FILE
#   --profile       also run under lockwatch with profile=1 (a third tool,
#                   compared with lockwatch without it: target wall <= 1.10x,
#                   same outputs), and print each program's profile table
#                   from its last run
#
# Missing Debian packages (sqlite3 xz-utils zstd pigz coreutils python3
# memcached time gcc procps) are installed with apt-get when run as root; otherwise
# the script prints the apt-get line and stops. Exit status: 0, or 1 when a
# run failed, an output differed or lockwatch reported. Missed targets do
# not change it: this is a measurement, not a test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=5
preload=""
build="$root/build"
only=""
workdir=""
json_out=""
profile=0

die() { echo "real.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=${2:?-n needs a number}; shift 2 ;;
    --preload) preload=${2:?--preload needs a path}; shift 2 ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --only) only=${2:?--only needs a regex}; shift 2 ;;
    --workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
    --json) json_out=${2:?--json needs a file}; shift 2 ;;
    --profile) profile=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive whole number, not '$runs'"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac

# ---- what is needed ------------------------------------------------------------

# command -> Debian package
needed="sqlite3:sqlite3 xz:xz-utils zstd:zstd pigz:pigz sort:coreutils /usr/bin/python3:python3
memcached:memcached /usr/bin/time:time gcc:gcc sha256sum:coreutils pgrep:procps"
missing=()
for pair in $needed; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1; then
    case " ${missing[*]:-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing packages; run: sudo apt-get install ${missing[*]}"
  fi
fi
python=/usr/bin/python3

if [ -z "$preload" ]; then
  preload="$build/preload/liblockwatch.so"
  if [ ! -f "$preload" ]; then
    echo "== building lockwatch in $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" --target lockwatch -j "$(nproc)" >/dev/null
  fi
fi
[ -f "$preload" ] || die "no preload library at $preload"
case "$preload" in /*) ;; *) preload="$PWD/$preload" ;; esac

bin="$build/bench-run/gcc"
mkdir -p "$bin"
gcc -O1 -g -pthread -o "$bin/memcached_client" "$here/memcached_client.c"

if [ -n "$workdir" ]; then
  mkdir -p "$workdir"
  D=$(cd "$workdir" && pwd)
else
  D=$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-real.XXXXXX")
  trap 'rm -rf "$D"' EXIT
fi
mkdir -p "$D/in"
failed=0

# ---- inputs ------------------------------------------------------------------------

# 64 MiB of text lines: pseudo-random words from a fixed vocabulary and a
# number, compressible about 3:1.
if [ ! -f "$D/in/data" ] || [ "$(stat -c %s "$D/in/data")" != 67108864 ]; then
  echo "== generating 64 MiB of input"
  "$python" - "$D/in/data" 67108864 <<'EOF'
import random, sys
rng = random.Random(20240601)
letters = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(4096)]
path, target = sys.argv[1], int(sys.argv[2])
size, chunk = 0, []
with open(path, "w") as out:
    while size < target:
        line = " ".join(rng.choices(words, k=rng.randint(4, 14))) + " %d\n" % rng.randint(0, 10**6)
        line = line[: target - size - 1] + "\n" if size + len(line) > target else line
        chunk.append(line)
        size += len(line)
        if len(chunk) >= 4096:
            out.write("".join(chunk))
            chunk = []
    out.write("".join(chunk))
EOF
fi

cat >"$D/in/sqlite.sql" <<'EOF'
PRAGMA threads = 4;
PRAGMA journal_mode = WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, d TEXT);
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 600000)
INSERT INTO t(id, a, b, c, d)
  SELECT i, (i * 7919) % 100003, printf('%08x', (i * 2654435761) % 4294967296),
         ((i * 31) % 1000) / 7.0, printf('row-%d-%d', i % 977, (i * 13) % 10007)
  FROM s;
COMMIT;
CREATE INDEX t_a ON t(a, c);
CREATE INDEX t_b ON t(b);
SELECT count(*), sum(a), total(c), count(DISTINCT a) FROM t;
SELECT b, id FROM t ORDER BY b LIMIT 3 OFFSET 300000;
SELECT a, count(*) AS n FROM t GROUP BY a ORDER BY n DESC, a LIMIT 3;
SELECT d, count(*) FROM t GROUP BY d ORDER BY d DESC LIMIT 3;
SELECT sum(length(d)) FROM (SELECT d FROM t ORDER BY d, c, id);
PRAGMA integrity_check;
EOF

cat >"$D/in/threads.py" <<'EOF'
"""Producers, consumers and a shared tally: the threading module's locks,
conditions, queues, barrier and events. Prints a deterministic digest."""
import hashlib
import queue
import threading

PRODUCERS, CONSUMERS, ITEMS = 2, 4, 500000

work = queue.Queue(maxsize=256)
tally_lock = threading.Lock()
tally = {}
barrier = threading.Barrier(PRODUCERS + CONSUMERS)
finished = threading.Condition()
finished_count = 0


def produce(p):
    barrier.wait()
    for i in range(ITEMS):
        work.put((p, i))


def consume(c):
    global finished_count
    barrier.wait()
    while True:
        item = work.get()
        if item is None:
            break
        p, i = item
        v = (p * 1000003 + i * 7919) % 65521
        with tally_lock:
            tally[v % 97] = tally.get(v % 97, 0) + v
    with finished:
        finished_count += 1
        finished.notify_all()


threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
threads += [threading.Thread(target=consume, args=(c,)) for c in range(CONSUMERS)]
for t in threads:
    t.start()
for t in threads[:PRODUCERS]:
    t.join()
for _ in range(CONSUMERS):
    work.put(None)
with finished:
    finished.wait_for(lambda: finished_count == CONSUMERS)
for t in threads:
    t.join()
print(sum(tally.values()), hashlib.sha256(repr(sorted(tally.items())).encode()).hexdigest())
EOF

# ---- the programs ----------------------------------------------------------------
#
# name | shell command (I: inputs, R: an empty directory for this run; its
# stdout goes to R/stdout) | files of R compared with the first native run |
# file of R that must equal I/data (round trips), or empty

programs=(
  'sqlite|sqlite3 "$R/db" < "$I/sqlite.sql"|stdout|'
  'xz|xz -T2 -2 -c "$I/data" > "$R/c" && xz -T2 -dc "$R/c" > "$R/out"|c out|out'
  'zstd|zstd -q -T2 -12 -c "$I/data" > "$R/c" && zstd -q -T2 -dc "$R/c" > "$R/out"|c out|out'
  'pigz|pigz -p 2 -9 -c "$I/data" > "$R/c" && pigz -p 2 -dc "$R/c" > "$R/out"|c out|out'
  'sort|LC_ALL=C sort --parallel=4 -S 1G -k2,2 -k4,4 -k1,1n "$I/data" > "$R/out"|out|'
  "python|$python \"\$I/threads.py\"|stdout|"
  'memcached|(memcached)|stdout|'
)

declare -A wall rss sums notes

# Prints the median of the numbers given as arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Prints $1 / $2 with 3 decimals, or "-".
ratio() {
  if [ -z "${1:-}" ] || [ -z "${2:-}" ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.3f\n", a / b }'
}

# Nanoseconds since the epoch.
now_ns() { date +%s%N; }

# Prints a free TCP port on the loopback interface.
free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs memcached (under the environment in "$@", e.g. env LD_PRELOAD=...)
# with /usr/bin/time writing to $R/time, drives it with the client, stops it.
# Sets the globals run_wall (the client's seconds) and run_rc.
run_memcached() {
  local port user=() tp mp client_rc=0
  port=$(free_port)
  [ "$(id -u)" = 0 ] && user=(-u root)
  /usr/bin/time -o "$R/time" -f '%e %M' "$@" \
    memcached "${user[@]}" -l 127.0.0.1 -p "$port" -U 0 -t 4 -m 256 -c 64 2>"$R/server.err" &
  tp=$!
  "$bin/memcached_client" -p "$port" -c 4 -n 100000 -k 10000 -s 512 -w 20 >"$R/client" 2>"$R/client.err" || client_rc=$?
  mp=$(pgrep -P "$tp" || true)
  [ -n "$mp" ] && kill -TERM "$mp"
  run_rc=0
  wait "$tp" || run_rc=$?
  [ "$client_rc" = 0 ] || { run_rc=$client_rc; cat "$R/client.err" >>"$R/stderr"; }
  cat "$R/server.err" >>"$R/stderr"
  run_wall=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' "$R/client")
  # the checksum depends only on the replies; the timing part is dropped
  sed 's/ seconds=.*//' "$R/client" >"$R/stdout"
}

# Runs program $1 (name) with command $2 under tool $3 (native or lockwatch);
# appends its wall time and peak RSS, checks outputs $4 and round trip $5.
run_one() {
  local name=$1 cmd=$2 tool=$3 outs=$4 same=$5 env=() t0 t1 sum f
  R="$D/run"
  rm -rf "$R"
  mkdir -p "$R"
  export I="$D/in" R
  if [ "$tool" = lockwatch ]; then
    env=(env "LD_PRELOAD=$preload" "LOCKWATCH_OPTIONS=json_path=$R/lw.%p.json")
  elif [ "$tool" = profile ]; then
    env=(env "LD_PRELOAD=$preload" "LOCKWATCH_OPTIONS=profile=1:json_path=$R/lw.%p.json")
  fi
  run_rc=0
  if [ "$name" = memcached ]; then
    run_memcached "${env[@]}"
  else
    t0=$(now_ns)
    /usr/bin/time -o "$R/time" -f '%e %M' "${env[@]}" sh -c "$cmd" >"$R/stdout" 2>"$R/stderr" || run_rc=$?
    t1=$(now_ns)
    run_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }')
  fi
  if [ "$run_rc" != 0 ]; then
    echo "real.sh: $name under $tool failed (exit status $run_rc):" >&2
    head -20 "$R/stderr" | sed 's/^/    /' >&2
    notes[$name,$tool]="FAIL"
    failed=1
    return
  fi
  wall[$name,$tool]+="$run_wall "
  rss[$name,$tool]+="$(tail -1 "$R/time" | awk '{ print $2 }') "

  sum=""
  for f in $outs; do sum+="$(sha256sum <"$R/$f" | cut -c1-16) "; done
  if [ -n "$same" ] && ! cmp -s "$R/$same" "$I/data"; then
    echo "real.sh: $name under $tool: the round trip did not give back the input" >&2
    notes[$name,$tool]="WRONG-OUTPUT"
    failed=1
  fi
  if [ -z "${sums[$name]:-}" ]; then
    sums[$name]=$sum
  elif [ "${sums[$name]}" != "$sum" ]; then
    echo "real.sh: $name under $tool: output differs from the native run ($sum vs ${sums[$name]})" >&2
    notes[$name,$tool]="WRONG-OUTPUT"
    failed=1
  fi

  if [ "$tool" = profile ]; then
    # the tables of every process, kept for the end; stderr has nothing else of lockwatch's
    grep -v ': 0 locks acquired 0 times' "$R/stderr" | sed -n '/^lockwatch: profile of /,$p' >"$D/profile.$name.txt" || true
  fi
  if [ "$tool" = lockwatch ] || [ "$tool" = profile ]; then
    local docs=("$R"/lw.*.json) out
    if [ ! -e "${docs[0]}" ]; then
      echo "real.sh: $name: lockwatch wrote no JSON document" >&2
      notes[$name,$tool]="NO-JSON"
      failed=1
    elif ! out=$("$python" "$here/lwjson.py" "${docs[@]}"); then
      local keep="$build/bench-run/reports/$name"
      mkdir -p "$keep"
      cp "${docs[@]}" "$keep/"
      echo "real.sh: lockwatch reported on $name; documents kept in $keep" >&2
      notes[$name,$tool]="REPORT"
      failed=1
    else
      notes[$name,stats]=$out
    fi
    if [ "$tool" = lockwatch ] && grep -q '^lockwatch: ' "$R/stderr"; then
      echo "real.sh: $name: lockwatch wrote on stderr:" >&2
      grep '^lockwatch: ' "$R/stderr" | head -5 | sed 's/^/    /' >&2
    fi
  fi
}

# ---- run ---------------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "lockwatch on real programs, $(date '+%Y-%m-%d %H:%M %Z')"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(gcc --version | head -1)"
echo "preload: ${preload#"$root"/}; $runs runs each, interleaved"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

names=()
for p in "${programs[@]}"; do
  IFS='|' read -r name cmd outs same <<<"$p"
  if [ -n "$only" ] && ! grep -Eq -- "$only" <<<"$name"; then continue; fi
  names+=("$name")
  printf '%-10s' "$name" >&2
  for ((r = 1; r <= runs; r++)); do
    run_one "$name" "$cmd" native "$outs" "$same"
    run_one "$name" "$cmd" lockwatch "$outs" "$same"
    [ "$profile" = 1 ] && run_one "$name" "$cmd" profile "$outs" "$same"
    printf '.' >&2
  done
  echo >&2
done
rm -rf "$D/run"
echo >&2

# Prints "met" if $1 <= $2, "missed" if not, "-" if $1 is not a number.
verdict() {
  awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "-"; else if (r + 0 <= t + 0) print "met"; else print "missed" }'
}

echo "| program | native s | lockwatch s | wall ratio | <= 1.05 | native peak RSS (KiB) | lockwatch peak RSS (KiB) | RSS ratio | <= 1.10 |"
echo "|---|---:|---:|---:|---|---:|---:|---:|---|"
json_rows=()
for name in "${names[@]}"; do
  nw="" lw="" nr="" lr=""
  [ -n "${wall[$name,native]:-}" ] && nw=$(median ${wall[$name,native]}) && nr=$(median ${rss[$name,native]})
  [ -n "${wall[$name,lockwatch]:-}" ] && lw=$(median ${wall[$name,lockwatch]}) && lr=$(median ${rss[$name,lockwatch]})
  wr=$(ratio "$lw" "$nw") rr=$(ratio "$lr" "$nr")
  wv=$(verdict "$wr" 1.05) rv=$(verdict "$rr" 1.10)
  note=${notes[$name,lockwatch]:-${notes[$name,native]:-}}
  [ -n "$note" ] && wv="$note" && rv="$note"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${nw:--}" "${lw:--}" "$wr" "$wv" \
    "${nr:--}" "${lr:--}" "$rr" "$rv"
  json_rows+=("{\"name\": \"$name\", \"wall_native\": [$(echo ${wall[$name,native]:-} | tr ' ' ',')], \"wall_lockwatch\": [$(echo ${wall[$name,lockwatch]:-} | tr ' ' ',')], \"rss_kib_native\": [$(echo ${rss[$name,native]:-} | tr ' ' ',')], \"rss_kib_lockwatch\": [$(echo ${rss[$name,lockwatch]:-} | tr ' ' ',')], \"wall_ratio\": \"$wr\", \"rss_ratio\": \"$rr\", \"lockwatch_stats\": {$(sed 's/ /, /g; s/\([a-z_]*\)=\([0-9]*\)/"\1": \2/g' <<<"${notes[$name,stats]:-}")}}")
done
if [ "$profile" = 1 ]; then
  echo
  echo "| program | lockwatch s | profile=1 s | ratio | <= 1.10 | profile=1 peak RSS (KiB) | RSS ratio to lockwatch |"
  echo "|---|---:|---:|---:|---|---:|---:|"
  for name in "${names[@]}"; do
    lw="" pw="" lr="" pr=""
    [ -n "${wall[$name,lockwatch]:-}" ] && lw=$(median ${wall[$name,lockwatch]}) && lr=$(median ${rss[$name,lockwatch]})
    [ -n "${wall[$name,profile]:-}" ] && pw=$(median ${wall[$name,profile]}) && pr=$(median ${rss[$name,profile]})
    pwr=$(ratio "$pw" "$lw")
    pv=$(verdict "$pwr" 1.10)
    [ -n "${notes[$name,profile]:-}" ] && pv="${notes[$name,profile]}"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${lw:--}" "${pw:--}" "$pwr" "$pv" "${pr:--}" "$(ratio "$pr" "$lr")"
  done
  for name in "${names[@]}"; do
    [ -s "$D/profile.$name.txt" ] || continue
    echo
    echo "profile of $name (last run, top locks of each process that took any):"
    head -40 "$D/profile.$name.txt"
  done
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Wall: median seconds (memcached: the client's time). Peak RSS: /usr/bin/time %M of the"
echo "whole command (memcached: the server). lockwatch's own statistics, from the last run:"
for name in "${names[@]}"; do
  [ -n "${notes[$name,stats]:-}" ] && echo "  $name: ${notes[$name,stats]}"
done

if [ -n "$json_out" ]; then
  {
    echo "{"
    echo "  \"date\": \"$(date '+%Y-%m-%d %H:%M %Z')\","
    echo "  \"machine\": {\"nproc\": $(nproc), \"cpu\": \"$cpu\", \"kernel\": \"$(uname -r)\", \"gcc\": \"$(gcc -dumpfullversion)\"},"
    echo "  \"preload\": \"${preload#"$root"/}\","
    echo "  \"load_average_end\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "  \"runs\": $runs,"
    echo "  \"programs\": ["
    for ((i = 0; i < ${#json_rows[@]}; i++)); do
      sep=","; [ $i -eq $((${#json_rows[@]} - 1)) ] && sep=""
      echo "    ${json_rows[$i]}$sep"
    done
    echo "  ]"
    echo "}"
  } >"$json_out"
  echo "raw numbers: $json_out"
fi
exit "$failed"
