#!/usr/bin/env bash
# bench/run.sh - lockwatch's overhead on the bench/ programs, against native.
#
#   bench/run.sh [-n RUNS] [--peers] [--preload PATH] [--build DIR]
#                [--json FILE] [--only REGEX] [--scale F]
#
# Builds the programs of bench/ (gcc -O1 -pthread; with --peers also
# clang -O1 -fsanitize=thread), then for every workload runs the program
# natively and under lockwatch (LD_PRELOAD) in turn, RUNS times each
# (default 5), interleaved: native, lockwatch, native, lockwatch, ... so
# that drift of the machine hits both alike. Prints the medians, their
# ratio and the target, then a few rows derived from them.
#
#   -n RUNS         runs per workload and tool (default 5)
#   --peers         also run ThreadSanitizer (TSAN_OPTIONS=detect_deadlocks=1)
#                   and Helgrind (short workloads only, fewer iterations:
#                   the programs report per-operation times, so no scaling
#                   is needed), when clang and valgrind are installed
#   --preload PATH  the library to preload (default BUILD/preload/liblockwatch.so,
#                   built with CMake if missing)
#   --build DIR     the project's build directory (default build); the
#                   benchmark programs go to DIR/bench-run
#   --json FILE     also write every raw number to FILE
#   --only REGEX    only the workloads whose name matches REGEX (grep -E)
#   --scale F       multiply every iteration count by F (e.g. 0.1 for a smoke run)
#   --profile       also run lockwatch with profile=1 (a "profile" column and
#                   its ratio to lockwatch without it)
#
# Every lockwatch run writes its JSON document; a report in any of them
# (the programs are correct) is shown in the table as REPORT and is kept.
# Exit status: 0, or 1 when a program failed or lockwatch reported. Missed
# targets do not change the exit status: this is a measurement, not a test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=5
peers=0
preload=""
build="$root/build"
json_out=""
only=""
scale=1
profile=0

die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=${2:?-n needs a number}; shift 2 ;;
    --peers) peers=1; shift ;;
    --preload) preload=${2:?--preload needs a path}; shift 2 ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --json) json_out=${2:?--json needs a file}; shift 2 ;;
    --only) only=${2:?--only needs a regex}; shift 2 ;;
    --scale) scale=${2:?--scale needs a number}; shift 2 ;;
    --profile) profile=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive whole number, not '$runs'"
[[ "$scale" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--scale wants a positive number, not '$scale'"
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac

# ---- build -------------------------------------------------------------------

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

progs="lock_pair nested3 contended many_locks graph held churn munmap"
bin="$build/bench-run/gcc"
tsan_bin="$build/bench-run/tsan"
mkdir -p "$bin"
for p in $progs api_noop; do
  gcc -O1 -g -pthread -I"$root/include" -o "$bin/$p" "$here/$p.c"
done

have_tsan=0
have_helgrind=0
if [ "$peers" = 1 ]; then
  if command -v clang >/dev/null; then
    mkdir -p "$tsan_bin"
    have_tsan=1
    for p in $progs; do
      clang -O1 -g -pthread -fsanitize=thread -I"$root/include" -o "$tsan_bin/$p" "$here/$p.c" || { have_tsan=0; break; }
    done
    [ "$have_tsan" = 1 ] || echo "run.sh: clang cannot build with -fsanitize=thread; no ThreadSanitizer column" >&2
  else
    echo "run.sh: clang not found; no ThreadSanitizer column" >&2
  fi
  if command -v valgrind >/dev/null; then
    have_helgrind=1
  else
    echo "run.sh: valgrind not found; no Helgrind column" >&2
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lockwatch-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

# ---- the workloads -------------------------------------------------------------
#
# name | program and arguments | Helgrind arguments (empty: not run) | key | unit
# The iteration counts make each native run take roughly 0.2-1 s on a
# 2-core machine.

workloads=(
  "lock_pair/1t|lock_pair -t 1 -n 20000000|lock_pair -t 1 -n 100000 -w 1000|ns_per_op|ns/pair"
  "lock_pair/2t|lock_pair -t 2 -n 20000000|lock_pair -t 2 -n 50000 -w 1000|ns_per_op|ns/pair"
  "lock_pair/4t|lock_pair -t 4 -n 10000000|lock_pair -t 4 -n 25000 -w 1000|ns_per_op|ns/pair"
  "sem_pair/1t|lock_pair -s -t 1 -n 20000000|lock_pair -s -t 1 -n 100000 -w 1000|ns_per_op|ns/pair"
  "lock_pair/1t/declared|lock_pair -t 1 -n 20000000 -a||ns_per_op|ns/pair"
  "nested3|nested3 -n 8000000|nested3 -n 5000|ns_per_op|ns/pair"
  "nested3/declared|nested3 -n 8000000 -a||ns_per_op|ns/pair"
  "contended/2t|contended -t 2 -n 5000000|contended -t 2 -n 50000|ns_per_op|ns/pair"
  "contended/4t|contended -t 4 -n 2500000|contended -t 4 -n 25000|ns_per_op|ns/pair"
  "many_locks|many_locks -t 8 -n 200||ns_per_op|ns/acq"
  "graph/random|graph -o random||seconds|s"
  "graph/chain|graph -o chain||seconds|s"
  "graph/ordered|graph -o ordered||seconds|s"
  "held/1000|held -n 1000 -r 5||ns_per_lock|ns/lock"
  "held/10000|held -n 10000 -r 5||ns_per_lock|ns/lock"
  "held/100000|held -n 100000 -r 5||ns_per_lock|ns/lock"
  "churn/1t|churn -t 1 -n 2000000|churn -t 1 -n 20000|ns_per_op|ns/round"
  "churn/2t|churn -t 2 -n 1000000|churn -t 2 -n 10000|ns_per_op|ns/round"
  "churn/zeroed|churn -z -t 1 -n 2000000||ns_per_op|ns/round"
  "munmap|munmap -r 21||ns_per_op|ns"
)

# Multiplies the -n value of a command line by $scale (at least 1).
scaled() {
  awk -v s="$scale" '{
    for (i = 1; i <= NF; i++)
      if ($(i - 1) == "-n") { v = int($i * s); if (v < 1) v = 1; $i = v }
    print
  }' <<<"$1"
}

# Prints the value of key $1 in the result line $2 (empty if absent).
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2"; }

# Prints the median of the numbers given as arguments (empty if none).
median() {
  [ $# -gt 0 ] || return 0
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Prints $1 / $2 with 2 decimals, or "-" when either is missing or $2 is 0.
ratio() {
  if [ -z "${1:-}" ] || [ -z "${2:-}" ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}

declare -A vals bpl cpw stats notes

# Runs tool $1 on workload $2 (name) with command line $3 and appends the
# value of key $4 in its result line to vals[$2,$1] (and bytes_per_lock, if
# any, to bpl[$2,$1]). A failure or a report is noted in notes[$2,$1].
run_one() {
  local tool=$1 name=$2 cmd=$3 key=$4 out err rc=0 line
  out="$work/out" err="$work/err"
  rm -f "$work"/lw.*.json
  set -- $cmd
  local prog=$1; shift
  case "$tool" in
    native) "$bin/$prog" "$@" >"$out" 2>"$err" || rc=$? ;;
    lockwatch)
      LOCKWATCH_OPTIONS="json_path=$work/lw.%p.json" LD_PRELOAD="$preload" \
        "$bin/$prog" "$@" >"$out" 2>"$err" || rc=$? ;;
    profile)
      LOCKWATCH_OPTIONS="profile=1:json_path=$work/lw.%p.json" LD_PRELOAD="$preload" \
        "$bin/$prog" "$@" >"$out" 2>"$err" || rc=$? ;;
    tsan)
      TSAN_OPTIONS="detect_deadlocks=1 ${TSAN_OPTIONS:-}" "$tsan_bin/$prog" "$@" >"$out" 2>"$err" || rc=$? ;;
    helgrind) valgrind --tool=helgrind -q "$bin/$prog" "$@" >"$out" 2>"$err" || rc=$? ;;
  esac
  line=$(grep -m1 '^bench=' "$out" || true)
  [ "$prog" = munmap ] && printf '%s\n' "$line" >"$work/munmap.$tool"
  if [ "$rc" != 0 ] || [ -z "$line" ]; then
    echo "run.sh: $name under $tool failed (exit status $rc):" >&2
    sed 's/^/    /' "$err" | head -20 >&2
    notes[$name,$tool]="FAIL"
    failed=1
    return
  fi
  vals[$name,$tool]+="$(field "$key" "$line") "
  [ -n "$(field bytes_per_lock "$line")" ] && bpl[$name,$tool]+="$(field bytes_per_lock "$line") "
  [ -n "$(field cpu_per_wall "$line")" ] && cpw[$name,$tool]+="$(field cpu_per_wall "$line") "
  case "$tool" in
    lockwatch|profile)
      local docs=("$work"/lw.*.json)
      if [ ! -e "${docs[0]}" ]; then
        echo "run.sh: $name: lockwatch wrote no JSON document (is $preload really lockwatch?)" >&2
        notes[$name,$tool]="NO-JSON"
        failed=1
      elif ! stats[$name]=$(python3 "$here/lwjson.py" "${docs[@]}"); then
        local keep="$build/bench-run/reports"
        mkdir -p "$keep"
        cp "${docs[@]}" "$keep/"
        echo "run.sh: lockwatch reported on $name (a correct program); documents kept in $keep" >&2
        notes[$name,$tool]="REPORT"
        failed=1
      fi ;;
    tsan)
      if grep -q 'WARNING: ThreadSanitizer' "$err"; then
        notes[$name,$tool]="reported"
        grep -m1 'WARNING: ThreadSanitizer' "$err" | sed "s/^/run.sh: $name under ThreadSanitizer: /" >&2
      fi ;;
    helgrind)
      if [ -s "$err" ]; then
        notes[$name,$tool]="reported"
        grep -m1 -v '^==[0-9]*== *$' "$err" | sed "s/^/run.sh: $name under Helgrind: /" >&2
      fi ;;
  esac
}

# ---- run ---------------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "lockwatch overhead benchmarks, $(date '+%Y-%m-%d %H:%M %Z')"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(gcc --version | head -1)"
[ "$have_tsan" = 1 ] && echo "peers: $(clang --version | head -1)"
[ "$have_helgrind" = 1 ] && echo "peers: $(valgrind --version) (Helgrind)"
echo "preload: ${preload#"$root"/}; $runs runs each, interleaved"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

names=()
for w in "${workloads[@]}"; do
  IFS='|' read -r name cmd hg_cmd key unit <<<"$w"
  if [ -n "$only" ] && ! grep -Eq -- "$only" <<<"$name"; then continue; fi
  names+=("$name")
  cmd=$(scaled "$cmd")
  hg_cmd=$(scaled "$hg_cmd")
  printf '%-14s' "$name" >&2
  for ((r = 1; r <= runs; r++)); do
    run_one native "$name" "$cmd" "$key"
    run_one lockwatch "$name" "$cmd" "$key"
    [ "$profile" = 1 ] && run_one profile "$name" "$cmd" "$key"
    [ "$have_tsan" = 1 ] && run_one tsan "$name" "$cmd" "$key"
    [ "$have_helgrind" = 1 ] && [ -n "$hg_cmd" ] && run_one helgrind "$name" "$hg_cmd" "$key"
    printf '.' >&2
  done
  echo >&2
done
echo >&2

# ---- the table -----------------------------------------------------------------

# Prints the median of tool $2 on workload $1.
med() { median ${vals[$1,$2]:-}; }

# Formats number $1 for the table: seconds ($2 = s) with 3 decimals, other
# values with 1 (none from 100 up); "-" if there is none.
fmt() {
  if [ -z "${1:-}" ]; then echo "-"; return; fi
  awk -v v="$1" -v u="${2:-}" 'BEGIN {
    if (u == "s") printf "%.3f\n", v; else if (v >= 100) printf "%.0f\n", v; else printf "%.1f\n", v }'
}

# Prints "met" when awk condition $1 holds (with r, v set to $2, $3), else "missed".
verdict() {
  awk -v r="$2" -v v="${3:-0}" "BEGIN { if ($1) print \"met\"; else print \"missed\" }"
}

# Prints the members of a JSON object made of the key=number pairs in $1.
jstats() { sed 's/ /, /g; s/\([a-z_]*\)=\([0-9]*\)/"\1": \2/g' <<<"$1"; }

# Prints the JSON members "tool": [values...] of array $1 for workload $2.
jtools() {
  local -n arr=$1
  local tool out=""
  for tool in native lockwatch profile tsan helgrind; do
    local v=${arr[$2,$tool]:-}
    v=$(echo $v | tr ' ' ',')
    out+="${out:+, }\"$tool\": [$v]"
  done
  echo "$out"
}

header="| workload | unit | native | lockwatch | ratio | target | result |"
rule="|---|---|---:|---:|---:|---|---|"
if [ "$profile" = 1 ]; then header+=" profile=1 | ratio | vs lockwatch |"; rule+="---:|---:|---:|"; fi
if [ "$have_tsan" = 1 ]; then header+=" tsan | ratio |"; rule+="---:|---:|"; fi
if [ "$have_helgrind" = 1 ]; then header+=" helgrind | ratio |"; rule+="---:|---:|"; fi
echo "$header"
echo "$rule"

json_rows=()
r1="" rn=""
for name in "${names[@]}"; do
  for w in "${workloads[@]}"; do
    IFS='|' read -r wname cmd hg_cmd key unit <<<"$w"
    [ "$wname" = "$name" ] && break
  done
  n=$(med "$name" native)
  l=$(med "$name" lockwatch)
  r=$(ratio "$l" "$n")
  case "$name" in
    lock_pair/1t) target="<= 1.5x"; res=$(verdict 'r <= 1.5' "$r"); r1=$r ;;
    lock_pair/1t/declared) target="<= 1.5x, as lock_pair/1t"
                 res=$(verdict 'r <= 1.5 && (v == 0 || r <= v * 1.1)' "$r" "$r1") ;;
    nested3/declared) target="<= 2x, as nested3"
                 res=$(verdict 'r <= 2 && (v == 0 || r <= v * 1.1)' "$r" "$rn") ;;
    lock_pair/*) target="<= 1.5x, not above 1t"
                 res=$(verdict 'r <= 1.5 && (v == 0 || r <= v * 1.1)' "$r" "$r1") ;;
    sem_pair/1t) target="<= lock_pair/1t"
                 res=$(verdict 'v == 0 || r <= v * 1.1' "$r" "$r1") ;;
    nested3) target="<= 2x"; res=$(verdict 'r <= 2' "$r"); rn=$r ;;
    contended/*) target="<= 1.2x"; res=$(verdict 'r <= 1.2' "$r") ;;
    many_locks) target="<= 2x"; res=$(verdict 'r <= 2' "$r") ;;
    churn/*) target="< 40 ns added"; res=$(verdict 'v < 40' "" "$(awk -v a="$l" -v b="$n" 'BEGIN { print a - b }')") ;;
    *) target="(see below)"; res="" ;;
  esac
  [ "$r" = "-" ] && res="-"
  [ -n "${notes[$name,lockwatch]:-}" ] && res="${notes[$name,lockwatch]}"
  [ -n "${notes[$name,native]:-}" ] && res="native ${notes[$name,native]}"
  row="| $name | $unit | $(fmt "$n" "$unit") | $(fmt "$l" "$unit") | $r | $target | $res |"
  t="" h=""
  if [ "$profile" = 1 ]; then
    pr=$(med "$name" profile)
    row+=" $(fmt "$pr" "$unit")${notes[$name,profile]:+ (${notes[$name,profile]})} | $(ratio "$pr" "$n") | $(ratio "$pr" "$l") |"
  fi
  if [ "$have_tsan" = 1 ]; then
    t=$(med "$name" tsan)
    row+=" $(fmt "$t" "$unit")${notes[$name,tsan]:+ (${notes[$name,tsan]})} | $(ratio "$t" "$n") |"
  fi
  if [ "$have_helgrind" = 1 ]; then
    h=$(med "$name" helgrind)
    row+=" $(fmt "$h" "$unit")${notes[$name,helgrind]:+ (${notes[$name,helgrind]})} | $(ratio "$h" "$n") |"
  fi
  echo "$row"
  json_rows+=("{\"name\": \"$name\", \"unit\": \"$unit\", \"command\": \"$(scaled "$cmd")\", $(jtools vals "$name"), \"bytes_per_lock\": {$(jtools bpl "$name")}, \"cpu_per_wall\": {$(jtools cpw "$name")}, \"lockwatch_stats\": {$(jstats "${stats[$name]:-}")}, \"target\": \"$target\", \"result\": \"$res\"}")
done

# Derived rows: memory per lock, and the graph's search cost.
derived=() drows=()
if [ -n "${bpl[many_locks,native]:-}" ] && [ -n "${bpl[many_locks,lockwatch]:-}" ]; then
  bn=$(median ${bpl[many_locks,native]}) bl=$(median ${bpl[many_locks,lockwatch]})
  added=$(awk -v a="$bl" -v b="$bn" 'BEGIN { printf "%.0f\n", a - b }')
  res=$(verdict 'v <= 200' "" "$added")
  drows+=("| many_locks memory, bytes per lock | $(fmt "$bn") | $(fmt "$bl") | $added | <= 200 added | $res |")
  derived+=("{\"name\": \"many_locks memory\", \"unit\": \"bytes/lock\", \"native\": $bn, \"lockwatch\": $bl, \"added\": $added, \"target\": \"<= 200 added\", \"result\": \"$res\"}")
fi
for g in random chain; do
  if [ -n "${vals[graph/$g,lockwatch]:-}" ] && [ -n "${vals[graph/ordered,lockwatch]:-}" ]; then
    a=$(med "graph/$g" lockwatch) b=$(med graph/ordered lockwatch)
    na=$(med "graph/$g" native)
    d=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", a - b }')
    res=$(verdict 'v < 0.5' "" "$d")
    searches=$(field cycle_searches " ${stats[graph/$g]:-}")
    # lockwatch's own timing of its graph work, if its stats have one
    own=""
    for k in graph_ns cycle_ns search_ns cycle_search_ns; do
      v=$(field "$k" " ${stats[graph/$g]:-}")
      [ -n "$v" ] && own=$(awk -v v="$v" 'BEGIN { printf "%.3f\n", v / 1e9 }') && break
    done
    if [ -n "$own" ]; then
      drows+=("| graph/$g: lockwatch's own timing ($k, s) | - | $own | - | < 0.5 s | $(verdict 'v < 0.5' "" "$own") |")
    fi
    drows+=("| graph/$g: searches and renumbering (graph/$g - graph/ordered, s) | - | $(fmt "$a" s) - $(fmt "$b" s) | $d | < 0.5 s | $res |")
    drows+=("| graph/$g: everything lockwatch adds (s; ${searches:-?} cycle searches) | $(fmt "$na" s) | $(fmt "$a" s) | $(awk -v a="$a" -v b="$na" 'BEGIN { printf "%.3f\n", a - b }') | (information) | |")
    derived+=("{\"name\": \"graph/$g searches\", \"unit\": \"s\", \"lockwatch\": $a, \"baseline\": $b, \"added\": $d, \"cycle_searches\": ${searches:-null}, \"target\": \"< 0.5 s\", \"result\": \"$res\"}")
  fi
done
if [ -n "${vals[held/1000,lockwatch]:-}" ] && [ -n "${vals[held/100000,lockwatch]:-}" ]; then
  a=$(med held/1000 lockwatch) b=$(med held/100000 lockwatch)
  fl=$(ratio "$b" "$a")
  res=$(verdict 'v <= 2' "" "$fl")
  drows+=("| held: ns per lock with 100,000 held / with 1,000 held | - | $(fmt "$b") / $(fmt "$a") | $fl | <= 2 (flat) | $res |")
  derived+=("{\"name\": \"held flatness\", \"unit\": \"ratio\", \"lockwatch\": $fl, \"target\": \"<= 2\", \"result\": \"$res\"}")
fi
# munmap of 1 TiB against 1 GiB, each holding one lock: the cost follows the locks, not the length.
if [ -n "${vals[munmap,lockwatch]:-}" ]; then
  m=$(sed -n 's/.*ratio=\([0-9.]*\).*/\1/p' "$work/munmap.lockwatch" 2>/dev/null || true)
  mn=$(sed -n 's/.*ratio=\([0-9.]*\).*/\1/p' "$work/munmap.native" 2>/dev/null || true)
  if [ -n "$m" ]; then
    res=$(verdict 'v <= 2' "" "$m")
    drows+=("| munmap: 1 TiB / 1 GiB, one lock in each (last run) | ${mn:--} | $m | - | <= 2 | $res |")
    derived+=("{\"name\": \"munmap 1 TiB / 1 GiB\", \"unit\": \"ratio\", \"native\": ${mn:-null}, \"lockwatch\": $m, \"target\": \"<= 2\", \"result\": \"$res\"}")
  fi
fi
# lockwatch.h's calls in a program run without lockwatch: one cached pointer check each.
if [ -z "$only" ] || echo "api_noop" | grep -Eq -- "$only"; then
  noop=$($bin/$(scaled "api_noop -n 200000000") | sed -n 's/.*ns_per_call=\([0-9.]*\).*/\1/p')
  if [ -n "$noop" ]; then
    res=$(verdict 'v < 1' "" "$noop")
    drows+=("| lockwatch.h call without lockwatch (api_noop, ns/call) | $noop | - | - | < 1 ns | $res |")
    derived+=("{\"name\": \"api no-op call\", \"unit\": \"ns/call\", \"native\": $noop, \"target\": \"< 1 ns\", \"result\": \"$res\"}")
  fi
fi
if [ ${#drows[@]} -gt 0 ]; then
  echo
  echo "| derived | native | lockwatch | added | target | result |"
  echo "|---|---:|---:|---:|---|---|"
  printf '%s\n' "${drows[@]}"
fi
echo
for name in "${names[@]}"; do
  if [ -n "${cpw[$name,native]:-}" ]; then
    echo "$name: CPUs busy (process CPU time / wall time, median): native $(median ${cpw[$name,native]})," \
      "lockwatch $(median ${cpw[$name,lockwatch]:-})"
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio: lockwatch median / native median, same machine, same run. lock_pair/2t and /4t"
echo "also need a ratio within 10% of lock_pair/1t's. Native and lockwatch ns are CPU time per"
echo "operation and thread, except contended (wall time / all pairs) and graph (wall seconds)."

if [ -n "$json_out" ]; then
  {
    echo "{"
    echo "  \"date\": \"$(date '+%Y-%m-%d %H:%M %Z')\","
    echo "  \"machine\": {\"nproc\": $(nproc), \"cpu\": \"$cpu\", \"kernel\": \"$(uname -r)\", \"gcc\": \"$(gcc -dumpfullversion)\"},"
    echo "  \"preload\": \"${preload#"$root"/}\","
    echo "  \"load_average_end\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "  \"runs\": $runs,"
    echo "  \"scale\": $scale,"
    echo "  \"workloads\": ["
    for ((i = 0; i < ${#json_rows[@]}; i++)); do
      sep=","; [ $i -eq $((${#json_rows[@]} - 1)) ] && sep=""
      echo "    ${json_rows[$i]}$sep"
    done
    echo "  ],"
    echo "  \"derived\": ["
    for ((i = 0; i < ${#derived[@]}; i++)); do
      sep=","; [ $i -eq $((${#derived[@]} - 1)) ] && sep=""
      echo "    ${derived[$i]}$sep"
    done
    echo "  ]"
    echo "}"
  } >"$json_out"
  echo "raw numbers: $json_out"
fi
exit "$failed"
