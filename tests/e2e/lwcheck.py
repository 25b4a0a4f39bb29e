#!/usr/bin/env python3
"""lwcheck.py - run ONE program under the lockwatch preload and check its verdict.

Usage:
  lwcheck.py --preload LIB [options] -- PROG ARGS...

The program runs with LD_PRELOAD=LIB and LOCKWATCH_OPTIONS set to --options
with json_path=<tempdir>/r.%p.json appended (see --json-path / --no-json),
under a timeout. Then the JSON document(s) it wrote are loaded and checked:
the document of the direct child (matched by pid) gives the main verdict;
documents of other processes (a program may fork) are checked separately.

"{tmp}" in --options, --json-path, the program's arguments and file checks is
replaced by the run's private temporary directory, "{pid}" (file checks only)
by the pid of the direct child. In file checks and per-process document checks
(--expect-pid-json), "{out:KEY}" and "{err:KEY}" are the value of the first
line KEY=VALUE the program wrote on stdout or stderr (a forked child's pid).

--preload-also puts another library (an allocator, say) in LD_PRELOAD, after
lockwatch or, with --preload-also-first, before it; the run is skipped (77) if
that library is not installed.

Exit status: 0 if every expectation holds; 1 (after printing what was expected
and what was found, with the run's stderr) if not; 2 on a bad command line;
77 if every expectation holds but --skip-unless-stdout's text is missing.

Stdlib only.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# "lockwatch: KIND (TITLE) (pid N)", e.g. "lock-order-inversion (potential deadlock)"
TEXT_HEADER_RE = re.compile(
    r"^lockwatch: (?P<kind>[a-z]+(?:-[a-z]+)*) \((?P<title>[^()\n]*)\) \(pid (?P<pid>\d+)\)$", re.M)
REPORT_BLOCK_RE = re.compile(
    r"^==================\nlockwatch: [a-z-]+ \([^()\n]*\) \(pid \d+\)\n"
    r"(?:.*\n)*?==================\n", re.M)
HEX_RE = re.compile(r"^0x[0-9a-f]+$")
LOCK_ID_RE = re.compile(r"^M[1-9][0-9]*$")
THREAD_ID_RE = re.compile(r"^T[0-9]+$")
STATS_KEYS = ("locks", "locks_created", "edges", "acquisitions", "fast_path_hits", "threads",
              "cycle_searches", "stacks", "bytes")


SKIPPED = 77  # exit status of a run that proves nothing (ctest's SKIP_RETURN_CODE)


class Failure(Exception):
    """An expectation did not hold."""


# ---- helpers -------------------------------------------------------------------


def marker_line(path, marker):
    """Line number (1-based) of the one comment `/* MARKER */` in path (in Python: `# /* MARKER */`)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise Failure(f"cannot read {path} to find marker {marker!r}: {e}")
    pat = re.compile(r"/\*\s*" + re.escape(marker) + r"\s*\*/")
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if pat.search(line)]
    if len(hits) != 1:
        raise Failure(f"marker comment /* {marker} */ must occur exactly once in {path}, "
                      f"found {len(hits)} time(s) (lines {hits})")
    return hits[0]


def parse_locations(spec, source_root):
    """'FILE:MARKER,FILE:MARKER' -> set of (basename, line). FILE ends at the first ':'."""
    out = {}
    for item in [s for s in spec.split(",") if s.strip()]:
        item = item.strip()
        if ":" not in item:
            raise Failure(f"bad location {item!r}: expected FILE:MARKER")
        path, marker = item.split(":", 1)
        if source_root and not os.path.isabs(path):
            path = os.path.join(source_root, path)
        line = marker_line(path, marker)
        out[(os.path.basename(path), line)] = f"{os.path.basename(path)}:{line} ({marker})"
    return out


def fmt_locs(locs):
    return "{" + ", ".join(f"{f}:{l}" for f, l in sorted(locs, key=lambda x: (str(x[0]), x[1]))) + "}"


def system_frame(f):
    """A frame in the C library or an installed header (/usr/include), which summaries and line
    checks pass over (docs/report-format.md: "the innermost frame in the program's own code")."""
    file = f.get("file")
    if file:
        # a sanitizer runtime's interceptors (make check-asan) are system code too
        return file.startswith(("/usr/include/", "../sysdeps/", "./nptl/")) or "/libsanitizer/" in file
    module = f.get("module")
    return not module or module.startswith(("/lib", "/usr/lib"))


# Functions whose frames the line checks pass over as well (--skip-function): a program's own
# lock helpers, so that the checks name the helper's callers.
SKIP_FUNCTIONS = set()


def user_frame(frames, skip=()):
    """The innermost frame in the program's own code (the first frame if there is none); frames
    of functions in `skip` are passed over too."""
    if not frames:
        return None
    for f in frames:
        if isinstance(f, dict) and not system_frame(f) and f.get("function") not in skip:
            return f
    return frames[0]


def innermost(frames):
    """(basename, line) of the innermost frame in the program's own code (frames of inlined
    library code, such as std::mutex::lock() from a header, are passed over), or None if the
    stack is empty or unknown."""
    f = user_frame(frames, SKIP_FUNCTIONS)
    if not isinstance(f, dict) or not f.get("file"):
        return None
    return (os.path.basename(f["file"]), f.get("line"))


def expand_pattern(pattern, pid):
    """json_path expansion as lockwatch does it: %p -> pid, %% -> %."""
    return re.sub(r"%[p%]", lambda m: str(pid) if m.group(0) == "%p" else "%", pattern)


def sub_placeholders(s, tmp, pid=None):
    s = s.replace("{tmp}", tmp)
    if pid is not None:
        s = s.replace("{pid}", str(pid))
    return s


def describe_status(rc):
    if rc is None:
        return "no status"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return f"killed by {name}"
    return f"exit status {rc}"


def tail(text, limit=12000):
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters left out ...]\n" + text[-limit:]


# ---- the JSON contract (docs/report-format.md) -----------------------------------


def check_frames(where, frames, problems):
    if not isinstance(frames, list):
        problems.append(f"{where}: frames must be an array, found {type(frames).__name__}")
        return
    for i, f in enumerate(frames):
        w = f"{where}[{i}]"
        if not isinstance(f, dict):
            problems.append(f"{w}: frame must be an object")
            continue
        for key in ("pc", "function", "file", "line", "column", "module", "offset"):
            if key not in f:
                problems.append(f"{w}: missing field {key!r}")
        for key in ("pc", "offset"):
            if key in f and not (isinstance(f[key], str) and HEX_RE.match(f[key])):
                problems.append(f"{w}.{key}: expected a hex string, found {f[key]!r}")
        for key in ("function", "file", "module"):
            if key in f and f[key] is not None and not isinstance(f[key], str):
                problems.append(f"{w}.{key}: expected a string or null, found {f[key]!r}")
        for key in ("line", "column"):
            if key in f and not (isinstance(f[key], int) and not isinstance(f[key], bool)
                                 and f[key] >= 0):
                problems.append(f"{w}.{key}: expected an integer >= 0, found {f[key]!r}")


def check_report(where, r, problems):
    if not isinstance(r, dict):
        problems.append(f"{where}: a report must be an object")
        return
    inversion = r.get("kind") == "lock-order-inversion"
    required = ("id", "kind", "summary", "locks", "edges", "threads") if inversion else \
        ("id", "kind", "summary")
    missing = [key for key in required if key not in r]
    for key in missing:
        problems.append(f"{where}: missing field {key!r}")
    if missing:
        return
    if not (isinstance(r["kind"], str) and re.match(r"^[a-z]+(-[a-z]+)*$", r["kind"])):
        problems.append(f"{where}.kind: not a kind name: {r['kind']!r}")
    if not isinstance(r["summary"], str) or not r["summary"].startswith(str(r["kind"])):
        problems.append(f"{where}.summary: should start with the kind, found {r['summary']!r}")
    if not inversion:
        for key in ("locks", "edges", "threads"):
            if key in r and not isinstance(r[key], list):
                problems.append(f"{where}.{key}: expected an array")
        if not all(isinstance(r.get(k, []), list) for k in ("locks", "edges", "threads")):
            return
        r = dict(r)
        for key in ("locks", "edges", "threads"):
            r.setdefault(key, [])
    locks, edges, threads = r["locks"], r["edges"], r["threads"]
    if not all(isinstance(x, list) for x in (locks, edges, threads)):
        problems.append(f"{where}: locks, edges and threads must be arrays")
        return
    lock_ids = []
    for i, l in enumerate(locks):
        w = f"{where}.locks[{i}]"
        if not isinstance(l, dict):
            problems.append(f"{w}: must be an object")
            continue
        for key in ("id", "address", "type", "name", "created"):
            if key not in l:
                problems.append(f"{w}: missing field {key!r}")
        if not (isinstance(l.get("id"), str) and LOCK_ID_RE.match(l["id"])):
            problems.append(f"{w}.id: expected M<n>, found {l.get('id')!r}")
        lock_ids.append(l.get("id"))
        if not (isinstance(l.get("address"), str) and HEX_RE.match(l["address"])):
            problems.append(f"{w}.address: expected a hex string, found {l.get('address')!r}")
        if l.get("type") not in ("mutex", "rwlock", "spinlock", "C11 mutex", "semaphore",
                                  "custom lock", "GMutex"):
            problems.append(f"{w}.type: unknown type {l.get('type')!r}")
        if l.get("name") is not None and not isinstance(l.get("name"), str):
            problems.append(f"{w}.name: expected a string or null")
        check_frames(f"{w}.created", l.get("created", []), problems)
    if len(set(lock_ids)) != len(lock_ids):
        problems.append(f"{where}.locks: lock ids repeat: {lock_ids}")
    thread_ids = set()
    for i, t in enumerate(threads):
        w = f"{where}.threads[{i}]"
        if not isinstance(t, dict):
            problems.append(f"{w}: must be an object")
            continue
        for key in ("id", "tid", "parent", "created"):
            if key not in t:
                problems.append(f"{w}: missing field {key!r}")
        if not (isinstance(t.get("id"), str) and THREAD_ID_RE.match(t["id"])):
            problems.append(f"{w}.id: expected T<n>, found {t.get('id')!r}")
        thread_ids.add(t.get("id"))
        if not (isinstance(t.get("tid"), int) and t["tid"] > 0):
            problems.append(f"{w}.tid: expected a positive integer, found {t.get('tid')!r}")
        if t.get("parent") is not None and not (isinstance(t["parent"], str)
                                                and THREAD_ID_RE.match(t["parent"])):
            problems.append(f"{w}.parent: expected T<n> or null, found {t.get('parent')!r}")
        check_frames(f"{w}.created", t.get("created", []), problems)
    for i, e in enumerate(edges):
        w = f"{where}.edges[{i}]"
        if not isinstance(e, dict):
            problems.append(f"{w}: must be an object")
            continue
        for key in ("from", "to", "from_mode", "to_mode", "thread", "held_locks", "acquired",
                    "held", "also_by_thread"):
            if key not in e:
                problems.append(f"{w}: missing field {key!r}")
        for key in ("from_mode", "to_mode"):
            if e.get(key) not in ("write", "read"):
                problems.append(f"{w}.{key}: expected write or read, found {e.get(key)!r}")
        if e.get("thread") not in thread_ids:
            problems.append(f"{w}.thread: {e.get('thread')!r} is not in the report's threads "
                            f"{sorted(x for x in thread_ids if x)}")
        if e.get("also_by_thread") is not None and not (
                isinstance(e["also_by_thread"], str) and THREAD_ID_RE.match(e["also_by_thread"])):
            problems.append(f"{w}.also_by_thread: expected T<n> or null")
        held = e.get("held_locks")
        if not isinstance(held, list):
            problems.append(f"{w}.held_locks: expected an array")
        elif e.get("from") not in held:
            problems.append(f"{w}.held_locks: {held} does not contain the edge's 'from' "
                            f"{e.get('from')!r}")
        elif e.get("to") in held:
            problems.append(f"{w}.held_locks: {held} contains the edge's 'to' {e.get('to')!r}")
        check_frames(f"{w}.acquired", e.get("acquired", []), problems)
        check_frames(f"{w}.held", e.get("held", []), problems)
        if not e.get("acquired"):
            problems.append(f"{w}.acquired: empty stack")
        if not e.get("held"):
            problems.append(f"{w}.held: empty stack")
    if r["kind"] == "lock-order-inversion":
        cycle = r.get("cycle")
        if not isinstance(cycle, list) or not cycle:
            problems.append(f"{where}.cycle: expected a non-empty array, found {cycle!r}")
            return
        n = len(cycle)
        gate = r.get("gate") if isinstance(r.get("gate"), list) else []
        if len(locks) != n + len(gate) or len(edges) != n:
            problems.append(f"{where}: a cycle of {n} with {len(gate)} gate locks needs "
                            f"{n + len(gate)} locks and {n} edges, found "
                            f"{len(locks)} locks and {len(edges)} edges")
            return
        if lock_ids[n:] != gate:
            problems.append(f"{where}: the locks after the cycle are not its gate: locks "
                            f"{lock_ids}, gate {gate}")
        lock_ids = lock_ids[:n]
        if "guarded" in r and (not isinstance(r["guarded"], bool) or r["guarded"] != bool(gate)):
            problems.append(f"{where}.guarded: expected {bool(gate)} (gate {gate}), found "
                            f"{r.get('guarded')!r}")
        if lock_ids != cycle:
            problems.append(f"{where}: locks are not in cycle order: locks {lock_ids}, "
                            f"cycle {cycle}")
        for i, e in enumerate(edges):
            if isinstance(e, dict) and (e.get("from") != cycle[i] or e.get("to") != cycle[(i + 1) % n]):
                problems.append(f"{where}.edges[{i}]: goes {e.get('from')} -> {e.get('to')}, "
                                f"expected {cycle[i]} -> {cycle[(i + 1) % n]}")
        try:
            nums = [int(c[1:]) for c in cycle]
            if nums[0] != min(nums):
                problems.append(f"{where}.cycle: does not start at its smallest id: {cycle}")
        except (TypeError, ValueError, IndexError):
            problems.append(f"{where}.cycle: bad lock ids {cycle}")
        ce = r.get("closing_edge")
        if not (isinstance(ce, int) and 0 <= ce < n):
            problems.append(f"{where}.closing_edge: expected an index below {n}, found {ce!r}")
        # summary: kind, file:line and function of the first edge's innermost frame in the
        # program's own code
        # (past the program's lock wrappers: "where", and "where_other" for the opposite order)
        if edges and isinstance(edges[0], dict) and edges[0].get("acquired"):
            f = r.get("where") if isinstance(r.get("where"), dict) else \
                user_frame(edges[0]["acquired"])
            want = r["kind"]
            if f.get("file"):
                want += f" {os.path.basename(f['file'])}:{f.get('line')}"
            if f.get("function"):
                want += f" in {f['function']}"
            o = r.get("where_other")
            if isinstance(o, dict) and o.get("function") and f.get("function") and \
                    o["function"] != f["function"]:
                want += " against"
                if o.get("file"):
                    want += f" {os.path.basename(o['file'])}:{o.get('line')}"
                want += f" in {o['function']}"
            if r.get("summary") != want:
                problems.append(f"{where}.summary: expected {want!r}, found {r.get('summary')!r}")


def check_document(doc, where):
    """Returns a list of contract violations of one JSON document."""
    problems = []
    if not isinstance(doc, dict):
        return [f"{where}: the document is not a JSON object"]
    for key in ("tool", "version", "pid", "program", "argv", "reports", "stats"):
        if key not in doc:
            problems.append(f"{where}: missing top-level field {key!r}")
    if problems:
        return problems
    if doc["tool"] != "lockwatch":
        problems.append(f"{where}.tool: expected 'lockwatch', found {doc['tool']!r}")
    if not isinstance(doc["version"], str):
        problems.append(f"{where}.version: expected a string")
    if not isinstance(doc["pid"], int):
        problems.append(f"{where}.pid: expected an integer")
    if not isinstance(doc["argv"], list) or not all(isinstance(a, str) for a in doc["argv"]):
        problems.append(f"{where}.argv: expected an array of strings")
    if not isinstance(doc["reports"], list):
        problems.append(f"{where}.reports: expected an array")
        return problems
    for i, r in enumerate(doc["reports"]):
        check_report(f"{where}.reports[{i}]", r, problems)
        if isinstance(r, dict) and r.get("id") != i + 1:
            problems.append(f"{where}.reports[{i}].id: expected {i + 1}, found {r.get('id')!r}")
    stats = doc["stats"]
    if not isinstance(stats, dict):
        problems.append(f"{where}.stats: expected an object")
    else:
        for key in STATS_KEYS:
            v = stats.get(key)
            if not (isinstance(v, int) and v >= 0):
                problems.append(f"{where}.stats.{key}: expected an integer >= 0, found {v!r}")
        if all(isinstance(stats.get(k), int) for k in ("locks", "locks_created")) and \
                stats["locks"] > stats["locks_created"]:
            problems.append(f"{where}.stats: more live locks ({stats['locks']}) than ever "
                            f"created ({stats['locks_created']})")
    return problems


def load_json_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Failure(f"cannot read JSON document {path}: {e}")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Failure(f"JSON document {path} is malformed: {e}\n--- its first 2000 bytes ---\n"
                      f"{data[:2000].decode('utf-8', 'replace')}")


def json_from_stderr(stderr):
    """The JSON document lockwatch wrote to stderr when json_path was unwritable."""
    marker = "the JSON report follows on stderr instead\n"
    at = stderr.find(marker)
    if at < 0:
        raise Failure("expected the JSON document on stderr after a line ending in "
                      f"{marker.strip()!r}, but there is no such line")
    start = stderr.find("{", at + len(marker))
    if start < 0:
        raise Failure("no JSON document follows the 'follows on stderr' line")
    try:
        doc, _ = json.JSONDecoder().raw_decode(stderr, start)
    except ValueError as e:
        raise Failure(f"the JSON document on stderr is malformed: {e}")
    return doc


# ---- expectations ----------------------------------------------------------------


def parse_kind_count(spec):
    if "=" in spec:
        kind, count = spec.split("=", 1)
        try:
            return kind, int(count)
        except ValueError:
            raise SystemExit(f"lwcheck: bad --expect-report {spec!r}")
    return spec, None


def parse_stat(spec):
    m = re.match(r"^([a-z_]+)(<=|>=|=)(\d+)$", spec)
    if not m:
        raise SystemExit(f"lwcheck: bad --expect-stat {spec!r}: expected KEY=N, KEY<=N or KEY>=N")
    return m.group(1), m.group(2), int(m.group(3))


def check_json_value(doc, spec, fail):
    """Checks one --expect-json PATH=VALUE against doc (PATH may end in .length)."""
    m = re.match(r"^([^=]+)=(.*)$", spec, re.S)
    if not m:
        raise SystemExit(f"lwcheck: bad --expect-json {spec!r}")
    path, raw = m.group(1), m.group(2)
    node = doc
    for part in path.split("."):
        try:
            if isinstance(node, list) and part == "length":
                node = len(node)
            elif isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node[part]
            else:
                raise KeyError(part)
        except (KeyError, IndexError, ValueError):
            fail(f"JSON value {path}: not found (stopped at {part!r})")
            return
    if raw == "null":
        want = None
    elif raw in ("true", "false") and isinstance(node, bool):
        want = raw == "true"
    elif re.match(r"^-?\d+$", raw):
        want = int(raw)
    else:
        want = raw
    if node != want:
        fail(f"JSON value {path}: expected {want!r}, found {node!r}")


def json_at(doc, path):
    """The value at a dotted PATH (list indexes, .length) in doc, or None."""
    node = doc
    for part in path.split("."):
        if isinstance(node, list) and part == "length":
            node = len(node)
        elif isinstance(node, list) and re.match(r"^\d+$", part) and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def stdout_value(stdout, key, fail):
    """VALUE of the first stdout line KEY=VALUE (for {out:KEY})."""
    m = re.search(r"^" + re.escape(key) + r"=(.*)$", stdout, re.M)
    if not m:
        fail(f"the program's output has no line {key}=VALUE (needed for {{out:{key}}} or "
             f"{{err:{key}}})")
        return "<missing>"
    return m.group(1).strip()


def report_lines(report):
    """Innermost (basename, line) of every edge's acquired and held stacks."""
    locs = set()
    for e in report.get("edges", []):
        for key in ("acquired", "held"):
            loc = innermost(e.get(key))
            locs.add(loc if loc else ("<no file>", 0))
    return locs


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preload", required=True, help="path of liblockwatch.so")
    ap.add_argument("--options", default="", help="LOCKWATCH_OPTIONS (json_path is appended)")
    ap.add_argument("--json-path", default="{tmp}/r.%p.json",
                    help="json_path to set (default {tmp}/r.%%p.json)")
    ap.add_argument("--no-json", action="store_true",
                    help="do not set json_path and expect no JSON document")
    ap.add_argument("--json-on-stderr", action="store_true",
                    help="json_path is unwritable: read the document from stderr")
    ap.add_argument("--expect-exit", type=int, help="expected exit status")
    ap.add_argument("--expect-report", action="append", default=[], metavar="KIND[=COUNT]",
                    help="a report kind expected (COUNT times; any number >= 1 without COUNT)")
    ap.add_argument("--expect-silent", action="store_true",
                    help="no report and no 'lockwatch:' text on stderr at all")
    ap.add_argument("--expect-no-reports", action="store_true",
                    help="no report (JSON or text); other lockwatch messages are allowed")
    ap.add_argument("--expect-lines", metavar="FILE:MARKER,...",
                    help="innermost frames of all edges of each inversion equal these lines")
    ap.add_argument("--expect-lines-include", metavar="FILE:MARKER,...",
                    help="innermost frames of all edges of each inversion include these lines")
    ap.add_argument("--expect-created-lines", metavar="FILE:MARKER,...",
                    help="innermost frames of the locks' 'created' stacks equal these lines")
    ap.add_argument("--expect-thread-lines", metavar="FILE:MARKER,...",
                    help="innermost frames of the threads' 'created' stacks equal these lines")
    ap.add_argument("--expect-lock-names", metavar="NAME,...",
                    help="the multiset of lock names of each inversion ('null' for none)")
    ap.add_argument("--expect-cycle-len", type=int, help="number of locks in each cycle")
    ap.add_argument("--expect-stat", action="append", default=[], metavar="KEY=N|KEY<=N|KEY>=N",
                    help="a stats field of the main JSON document")
    ap.add_argument("--expect-json", action="append", default=[], metavar="PATH=VALUE",
                    help="a value in the main JSON document: PATH is dotted keys and list "
                         "indexes (reports.0.edges.1.thread); VALUE is null, an integer or a "
                         "string; a PATH ending in .length is an array's length")
    ap.add_argument("--expect-json-absent", action="append", default=[], metavar="PATH",
                    help="the main JSON document has nothing at PATH")
    ap.add_argument("--expect-json-near", action="append", default=[], metavar="PATH=VALUE~PCT",
                    help="the integer at PATH in the main document is within PCT percent of "
                         "VALUE ({out:KEY} is the program's stdout line KEY=VALUE)")
    ap.add_argument("--expect-json-lines", action="append", default=[],
                    metavar="PATH=FILE:MARKER",
                    help="the innermost frame in the program's own code of the stack at PATH "
                         "in the main document is at this line")
    ap.add_argument("--expect-other-docs", type=int, metavar="N",
                    help="number of JSON documents of other processes (forked children)")
    ap.add_argument("--expect-other-reports", action="append", default=[],
                    metavar="KIND=COUNT", help="reports in the other processes' documents, summed")
    ap.add_argument("--expect-stdout-contains", action="append", default=[], metavar="TEXT")
    ap.add_argument("--expect-stdout-lacks", action="append", default=[], metavar="TEXT")
    ap.add_argument("--expect-stdout-empty", action="store_true")
    ap.add_argument("--expect-stderr-contains", action="append", default=[], metavar="TEXT")
    ap.add_argument("--expect-stderr-lacks", action="append", default=[], metavar="TEXT")
    ap.add_argument("--expect-stderr-regex", action="append", default=[], metavar="REGEX",
                    help="a regular expression (multiline) that must match stderr")
    ap.add_argument("--expect-stderr-only-reports", action="store_true",
                    help="stderr holds nothing but report blocks")
    ap.add_argument("--expect-stderr-prefixed", action="store_true",
                    help="every stderr line starts with 'lockwatch: '")
    ap.add_argument("--expect-options-listed", metavar="OPTIONS_INC",
                    help="every key of options.inc appears in a help line on stderr")
    ap.add_argument("--expect-file-contains", action="append", default=[], metavar="PATH=TEXT",
                    help="file PATH ({tmp}, {pid}, {out:KEY}, {err:KEY} expanded) exists and "
                         "contains TEXT")
    ap.add_argument("--expect-file-lacks", action="append", default=[], metavar="PATH=TEXT",
                    help="file PATH exists and does not contain TEXT")
    ap.add_argument("--expect-file-absent", action="append", default=[], metavar="PATH")
    ap.add_argument("--source-root", help="relative FILEs in line checks are under this directory")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds before the run is killed")
    ap.add_argument("--stdin", help="file given to the program as stdin (default /dev/null)")
    ap.add_argument("--compare-native", action="store_true",
                    help="run without the preload too; stdout must be identical (and the exit "
                         "status too when the run is expected silent)")
    ap.add_argument("--expect-native-exit", type=int, default=None, metavar="N",
                    help="with --compare-native: the run without the preload must exit N and "
                         "print nothing of lockwatch's on stderr")
    ap.add_argument("--no-argv-check", action="store_true",
                    help="do not compare the document's program and argv with the command")
    ap.add_argument("--unhex-args", action="store_true",
                    help="decode %%XX escapes in the program's arguments into raw bytes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--write-file", action="append", default=[], metavar="PATH=TEXT",
                    help="before the run, write TEXT to PATH ({tmp} expanded; \\n in TEXT is "
                         "a newline)")
    ap.add_argument("--expect-detail", action="append", default=[], metavar="KIND=DETAIL",
                    help="every report of KIND has this detail ('null' for none)")
    ap.add_argument("--expect-events", action="append", default=[], metavar="KIND=WHAT,...",
                    help="every report of KIND has exactly these events[].what, in order")
    ap.add_argument("--expect-event-lines", action="append", default=[],
                    metavar="KIND:WHAT=FILE:MARKER,...",
                    help="in every report of KIND, the innermost frames of the events whose "
                         "'what' is WHAT are exactly these lines")
    ap.add_argument("--expect-kind-lock-names", action="append", default=[],
                    metavar="KIND=NAME,...",
                    help="the multiset of lock names of every report of KIND ('null' for none)")
    ap.add_argument("--expect-kind-json", action="append", default=[],
                    metavar="KIND:PATH(=|>=|<=)VALUE",
                    help="a value in every report of KIND (PATH relative to the report, as in "
                         "--expect-json; >= and <= compare integers); {out:KEY} in VALUE is "
                         "the value of the program's stdout line KEY=VALUE")
    ap.add_argument("--skip-function", action="append", default=[], metavar="NAME",
                    help="line checks pass over frames of this function (a lock helper of the "
                         "program) and name its caller")
    ap.add_argument("--skip-unless-stdout", metavar="TEXT",
                    help="if the program's stdout lacks TEXT (a precondition the run cannot "
                         "force, such as an address being reused), the run proves nothing: "
                         "after the other checks pass, exit with status 77 (skipped)")
    ap.add_argument("--max-seconds", type=float, metavar="S",
                    help="the run (under lockwatch) must end within S seconds of wall time")
    ap.add_argument("--preload-also", action="append", default=[], metavar="LIB",
                    help="another library to preload after lockwatch (before it with "
                         "--preload-also-first); a bare file name is looked up as the loader "
                         "would; if it is not installed, the run is skipped (exit status 77). "
                         "The native run of --compare-native preloads it too")
    ap.add_argument("--preload-also-first", action="store_true",
                    help="put the --preload-also libraries before lockwatch in LD_PRELOAD")
    ap.add_argument("--expect-pid-json", action="append", default=[],
                    metavar="PID:PATH(=|>=|<=)VALUE",
                    help="a value in the JSON document of process PID (an integer, {pid}, "
                         "{out:KEY} or {err:KEY}: the value of the first stdout or stderr line "
                         "KEY=VALUE), which must exist; PATH and VALUE as in --expect-json")
    ap.add_argument("--expect-pid-no-doc", action="append", default=[], metavar="PID",
                    help="process PID (as in --expect-pid-json) wrote no JSON document")
    ap.add_argument("--expect-stdout-regex", action="append", default=[], metavar="REGEX",
                    help="a regular expression (multiline) that must match stdout")
    ap.add_argument("--expect-stderr-count", action="append", default=[], metavar="REGEX=N",
                    help="exactly N lines of stderr match REGEX")
    ap.add_argument("--make-dir", action="append", default=[], metavar="PATH",
                    help="before the run, make the directory PATH ({tmp} expanded)")
    ap.add_argument("--make-symlink", action="append", default=[], metavar="LINK=TARGET",
                    help="before the run, make LINK a symbolic link to TARGET ({tmp} expanded)")
    ap.add_argument("--expect-file-equals", action="append", default=[], metavar="PATH=TEXT",
                    help="file PATH holds exactly TEXT (\\n in TEXT is a newline)")
    ap.add_argument("--expect-file-regular", action="append", default=[], metavar="PATH",
                    help="PATH is a regular file, not a symbolic link")
    if "--" not in argv:
        ap.error("no program given (put it after --)")
    split = argv.index("--")
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        ap.error("no program given (put it after --)")
    if not os.path.exists(args.preload):
        print(f"lwcheck: FAIL: the preload library {args.preload} does not exist")
        return 1

    SKIP_FUNCTIONS.clear()
    SKIP_FUNCTIONS.update(args.skip_function)
    tmp = tempfile.mkdtemp(prefix="lwcheck.")
    try:
        return run_and_check(args, cmd, tmp)
    except Failure as f:
        print(f"lwcheck: FAIL: {f}")
        return 1
    finally:
        if args.keep:
            print(f"lwcheck: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_once(cmd, env, stdin_path, timeout):
    """Runs cmd; returns (pid, returncode, stdout bytes, stderr bytes)."""
    with open(stdin_path or os.devnull, "rb") as stdin:
        try:
            p = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise Failure(f"cannot start {cmd[0]}: {e}")
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            out, err = p.communicate()
            raise Failure(f"TIMEOUT: {' '.join(os.fsdecode(c) for c in cmd)} did not finish within {timeout:g} s and was "
                          f"killed (a hang, e.g. a real deadlock?)\n--- stdout (tail) ---\n"
                          f"{tail(out.decode('utf-8', 'replace'), 3000)}\n--- stderr (tail) ---\n"
                          f"{tail(err.decode('utf-8', 'replace'))}")
    return p.pid, p.returncode, out, err


def find_library(name):
    """The path of a shared library: name itself if it is a path that exists, else the file
    of that name in the loader's cache (ldconfig -p) or its usual directories; None if absent."""
    if "/" in name:
        return os.path.abspath(name) if os.path.exists(name) else None
    try:
        listing = subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=20).stdout.decode("utf-8",
                                                                                     "replace")
    except (OSError, subprocess.SubprocessError):
        listing = ""
    want_x86_64 = os.uname().machine == "x86_64"
    for line in listing.splitlines():
        m = re.match(r"^\s*(\S+) \(([^)]*)\) => (\S+)$", line)
        if not m or m.group(1) != name or ("x86-64" in m.group(2)) != want_x86_64:
            continue
        if os.path.exists(m.group(3)):
            return m.group(3)
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
              "/lib", "/usr/lib", "/usr/local/lib"):
        path = os.path.join(d, name)
        if os.path.exists(path):
            return path
    return None


def base_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKWATCH_OPTIONS", None)
    return env


def run_and_check(args, cmd, tmp):
    cmd = [sub_placeholders(c, tmp) for c in cmd]
    if args.unhex_args:
        cmd = cmd[:1] + [re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                                os.fsencode(c)) for c in cmd[1:]]
    shown_args = [c.decode("utf-8", "replace") if isinstance(c, bytes) else c for c in cmd]
    options = sub_placeholders(args.options, tmp)
    json_pattern = None
    if not args.no_json:
        json_pattern = sub_placeholders(args.json_path, tmp)
        options = (options + ":" if options else "") + "json_path=" + json_pattern
    also = []
    for lib in args.preload_also:
        path = find_library(lib)
        if path is None:
            print(f"lwcheck: SKIP: {lib} is not installed, so the run proves nothing")
            return SKIPPED
        also.append(path)
    env = base_env()
    preload = [os.path.abspath(args.preload)]
    preload = also + preload if args.preload_also_first else preload + also
    env["LD_PRELOAD"] = ":".join(preload)
    # make check-asan: a sanitized preload needs the sanitizer runtime loaded first
    first = os.environ.get("LWCHECK_PRELOAD_FIRST")
    if first:
        env["LD_PRELOAD"] = first + ":" + env["LD_PRELOAD"]
    env["LOCKWATCH_OPTIONS"] = options
    native_env = base_env()
    if also:
        native_env["LD_PRELOAD"] = ":".join(also)

    for spec in args.make_dir:
        os.makedirs(sub_placeholders(spec, tmp), exist_ok=True)
    for spec in args.make_symlink:
        link, sep, target = spec.partition("=")
        if not sep:
            raise SystemExit(f"lwcheck: bad --make-symlink {spec!r}: expected LINK=TARGET")
        os.symlink(sub_placeholders(target, tmp), sub_placeholders(link, tmp))

    for spec in args.write_file:
        path, sep, text = spec.partition("=")
        if not sep:
            raise SystemExit(f"lwcheck: bad --write-file {spec!r}: expected PATH=TEXT")
        with open(sub_placeholders(path, tmp), "w", encoding="utf-8") as f:
            f.write(sub_placeholders(text, tmp).replace("\\n", "\n"))

    started = time.monotonic()
    pid, rc, out, err_b = run_once(cmd, env, args.stdin, args.timeout)
    elapsed = time.monotonic() - started
    stderr = err_b.decode("utf-8", "replace")
    stdout = out.decode("utf-8", "replace")
    failures = []

    def fail(msg):
        failures.append(msg)

    # ---- exit status
    if args.expect_exit is not None and rc != args.expect_exit:
        fail(f"exit status: expected {args.expect_exit}, found {describe_status(rc)}")
    elif args.expect_exit is None and rc is not None and rc < 0:
        fail(f"the program was {describe_status(rc)}")

    # ---- JSON documents
    main_doc, other_docs = None, []
    if args.json_on_stderr:
        try:
            main_doc = json_from_stderr(stderr)
        except Failure as e:
            fail(str(e))
    elif json_pattern:
        main_path = expand_pattern(json_pattern, pid)
        pid_free = expand_pattern(json_pattern, "\0")
        if "\0" in pid_free:
            found = sorted(glob.glob(glob.escape(pid_free).replace("\0", "*")))
        else:
            found = [pid_free] if os.path.exists(pid_free) else []
        for path in found:
            if path == main_path:
                continue
            try:
                other_docs.append((path, load_json_file(path)))
            except Failure as e:
                fail(str(e))
        if not os.path.exists(main_path):
            fail(f"no JSON document at {main_path} (json_path={json_pattern}, pid {pid}); "
                 f"files in the directory: {sorted(os.listdir(os.path.dirname(main_path) or '.'))}")
        else:
            try:
                main_doc = load_json_file(main_path)
            except Failure as e:
                fail(str(e))
        leftovers = [p for p in glob.glob(os.path.join(os.path.dirname(main_path), "*.tmp.*"))]
        if leftovers:
            fail(f"temporary files left next to the JSON document: {leftovers}")
    elif args.no_json:
        stray = [p for p in os.listdir(tmp) if p.endswith(".json")]
        if stray:
            fail(f"unexpected JSON files: {stray}")

    reports = []
    if main_doc is not None:
        for problem in check_document(main_doc, "main document"):
            fail(f"JSON contract: {problem}")
        if isinstance(main_doc, dict):
            if not args.json_on_stderr and main_doc.get("pid") != pid:
                fail(f"main document: pid is {main_doc.get('pid')!r}, expected {pid}")
            if args.no_argv_check:
                pass
            elif isinstance(main_doc.get("argv"), list) and main_doc["argv"][1:] != shown_args[1:]:
                fail(f"main document: argv {main_doc['argv']!r} does not match the command line "
                     f"{shown_args!r}")
            prog = main_doc.get("program")
            if not args.no_argv_check and isinstance(prog, str) and os.path.realpath(prog) != os.path.realpath(
                    shutil.which(cmd[0]) or cmd[0]):
                fail(f"main document: program {prog!r} is not {cmd[0]!r}")
            if isinstance(main_doc.get("reports"), list):
                reports = [r for r in main_doc["reports"] if isinstance(r, dict)]
    for path, doc in other_docs:
        for problem in check_document(doc, path):
            fail(f"JSON contract: {problem}")
        if isinstance(doc, dict) and doc.get("pid") == pid:
            fail(f"{path}: claims the main pid {pid}")

    counts = {}
    for r in reports:
        counts[r.get("kind")] = counts.get(r.get("kind"), 0) + 1

    # text reports of the main process on stderr
    text_headers = [m for m in TEXT_HEADER_RE.finditer(stderr) if int(m.group("pid")) == pid]
    text_in_log = "log_path=" in options
    if main_doc is not None and not text_in_log and not args.expect_silent:
        if len(text_headers) != len(reports):
            fail(f"stderr has {len(text_headers)} text report(s) of pid {pid}, the JSON document "
                 f"has {len(reports)}")

    # ---- report expectations
    for spec in args.expect_report:
        kind, count = parse_kind_count(spec)
        have = counts.get(kind, 0)
        if count is None and have == 0:
            fail(f"expected at least one {kind} report, found none (reports: {counts})")
        elif count is not None and have != count:
            fail(f"expected {count} {kind} report(s), found {have} (reports: {counts})")
    if args.expect_silent or args.expect_no_reports:
        if reports:
            fail(f"expected no report, found {len(reports)}: "
                 f"{[r.get('summary') for r in reports]}")
        if text_headers:
            fail(f"expected no report, but stderr has {len(text_headers)} report text(s) of "
                 f"pid {pid}")
    if args.expect_silent:
        if "SUMMARY: lockwatch:" in stderr:
            fail("expected no report, but stderr has report text")
        if "lockwatch:" in stderr:
            fail("expected no 'lockwatch:' text on stderr")
        if main_doc is None and not args.no_json:
            fail("a silent run must still write its JSON document")

    inversions = [r for r in reports if r.get("kind") == "lock-order-inversion"]
    need_inv = (args.expect_lines or args.expect_lines_include or args.expect_lock_names
                or args.expect_cycle_len is not None or args.expect_created_lines
                or args.expect_thread_lines)
    if need_inv and not inversions:
        fail("an inversion report was needed for the line/name/cycle checks, but there is none")
    for idx, r in enumerate(inversions):
        tag = f"inversion #{idx + 1} ({r.get('summary')})"
        have = report_lines(r)
        for spec, equal in ((args.expect_lines, True), (args.expect_lines_include, False)):
            if not spec:
                continue
            want = parse_locations(spec, args.source_root)
            ok = have == set(want) if equal else set(want) <= have
            if not ok:
                fail(f"{tag}: innermost frames of the edges' acquired/held stacks: expected "
                     f"{'exactly' if equal else 'at least'} {sorted(want.values())}, found "
                     f"{fmt_locs(have)}")
        if args.expect_created_lines:
            want = parse_locations(args.expect_created_lines, args.source_root)
            got = set()
            for l in r.get("locks", []):
                loc = innermost(l.get("created"))
                got.add(loc if loc else ("<empty created stack>", 0))
            if got != set(want):
                fail(f"{tag}: innermost frames of the locks' 'created' stacks: expected "
                     f"{sorted(want.values())}, found {fmt_locs(got)}")
        if args.expect_thread_lines:
            want = parse_locations(args.expect_thread_lines, args.source_root)
            got = set()
            for t in r.get("threads", []):
                loc = innermost(t.get("created"))
                got.add(loc if loc else ("<empty created stack>", 0))
            if got != set(want):
                fail(f"{tag}: innermost frames of the threads' 'created' stacks: expected "
                     f"{sorted(want.values())}, found {fmt_locs(got)}")
        if args.expect_lock_names:
            def name_key(x):
                return (x is None, str(x))
            want = sorted((None if n == "null" else n
                           for n in args.expect_lock_names.split(",")), key=name_key)
            got = [l.get("name") for l in r.get("locks", [])]
            if sorted(got, key=name_key) != want:
                fail(f"{tag}: lock names: expected {want}, found {got}")
        if args.expect_cycle_len is not None:
            n = len(r.get("cycle") or [])
            if n != args.expect_cycle_len or len(r.get("edges", [])) != n or \
                    len(r.get("locks", [])) != n:
                fail(f"{tag}: expected a cycle of {args.expect_cycle_len} locks and edges, found "
                     f"{n} in cycle, {len(r.get('locks', []))} locks, "
                     f"{len(r.get('edges', []))} edges")

    # ---- wall time
    if args.max_seconds is not None and elapsed >= args.max_seconds:
        fail(f"the run took {elapsed:.2f} s, expected less than {args.max_seconds:g} s")

    # ---- reports of one kind: detail, events, lock names, fields
    def of_kind(kind):
        return [r for r in reports if r.get("kind") == kind]

    def need_kind(kind, what):
        rs = of_kind(kind)
        if not rs:
            fail(f"{what}: expected at least one {kind} report, found none (reports: {counts})")
        return rs

    for spec in args.expect_detail:
        kind, _, detail = spec.partition("=")
        want = None if detail == "null" else detail
        for r in need_kind(kind, f"--expect-detail {spec}"):
            if r.get("detail") != want:
                fail(f"{kind} report ({r.get('summary')}): detail expected {want!r}, found "
                     f"{r.get('detail')!r}")
    for spec in args.expect_events:
        kind, _, whats = spec.partition("=")
        want = [w for w in whats.split(",") if w]
        for r in need_kind(kind, f"--expect-events {spec}"):
            got = [e.get("what") for e in r.get("events") or [] if isinstance(e, dict)]
            if got != want:
                fail(f"{kind} report ({r.get('summary')}): events expected {want}, found {got}")
    for spec in args.expect_event_lines:
        head, _, locs = spec.partition("=")
        kind, _, what = head.rpartition(":")
        want = parse_locations(locs, args.source_root)
        for r in need_kind(kind, f"--expect-event-lines {spec}"):
            got = set()
            for e in r.get("events") or []:
                if isinstance(e, dict) and e.get("what") == what:
                    loc = innermost(e.get("stack"))
                    got.add(loc if loc else ("<empty stack>", 0))
            if got != set(want):
                fail(f"{kind} report ({r.get('summary')}): innermost frames of its {what!r} "
                     f"events: expected {sorted(want.values())}, found {fmt_locs(got)}")
    for spec in args.expect_kind_lock_names:
        kind, _, names = spec.partition("=")

        def name_key(x):
            return (x is None, str(x))
        want = sorted((None if n == "null" else n for n in names.split(",")), key=name_key)
        for r in need_kind(kind, f"--expect-kind-lock-names {spec}"):
            got = [l.get("name") for l in r.get("locks") or [] if isinstance(l, dict)]
            if sorted(got, key=name_key) != want:
                fail(f"{kind} report ({r.get('summary')}): lock names expected {want}, "
                     f"found {got}")
    for spec in args.expect_kind_json:
        kind, _, rest = spec.partition(":")
        rest = sub_placeholders(rest, tmp, pid)
        rest = re.sub(r"\{out:([A-Za-z0-9_]+)\}", lambda m: stdout_value(stdout, m.group(1), fail),
                      rest)
        m = re.match(r"^([^<>=]+)(>=|<=)(-?\d+)$", rest)
        for idx, r in enumerate(need_kind(kind, f"--expect-kind-json {spec}")):
            if m:
                node = json_at(r, m.group(1))
                v = int(m.group(3))
                ok = isinstance(node, int) and not isinstance(node, bool) and (
                    node >= v if m.group(2) == ">=" else node <= v)
                if not ok:
                    fail(f"{kind} report ({r.get('summary')}): {m.group(1)} expected "
                         f"{m.group(2)}{v}, found {node!r}")
            else:
                check_json_value(r, rest, lambda msg, r=r: fail(f"{kind} report "
                                                                f"({r.get('summary')}): {msg}"))

    # ---- stats
    if args.expect_stat:
        stats = main_doc.get("stats") if isinstance(main_doc, dict) else None
        if not isinstance(stats, dict):
            fail("stats expected, but there is no main document with stats")
        else:
            for spec in args.expect_stat:
                key, op, val = parse_stat(spec)
                v = stats.get(key)
                ok = isinstance(v, int) and ((op == "=" and v == val) or (op == "<=" and v <= val)
                                             or (op == ">=" and v >= val))
                if not ok:
                    fail(f"stats.{key}: expected {op}{val}, found {v!r}")

    # ---- values in the main document
    for spec in args.expect_json:
        spec = re.sub(r"\{out:([A-Za-z0-9_]+)\}", lambda m: stdout_value(stdout, m.group(1), fail),
                      sub_placeholders(spec, tmp, pid))
        check_json_value(main_doc, spec, fail)

    for spec in args.expect_json_absent:
        if json_at(main_doc, spec) is not None:
            fail(f"JSON value {spec}: expected none, found {json_at(main_doc, spec)!r}")
    for spec in args.expect_json_near:
        spec = re.sub(r"\{out:([A-Za-z0-9_]+)\}", lambda m: stdout_value(stdout, m.group(1), fail),
                      spec)
        m = re.match(r"^([^=]+)=(\d+)~(\d+(?:\.\d+)?)$", spec)
        if not m:
            raise SystemExit(f"lwcheck: bad --expect-json-near {spec!r}: expected PATH=VALUE~PCT")
        node, want, pct = json_at(main_doc, m.group(1)), int(m.group(2)), float(m.group(3))
        if not isinstance(node, int) or abs(node - want) > want * pct / 100:
            fail(f"JSON value {m.group(1)}: expected within {pct:g}% of {want}, found {node!r}")
    for spec in args.expect_json_lines:
        path, _, loc = spec.partition("=")
        want = parse_locations(loc, args.source_root)
        got = innermost(json_at(main_doc, path))
        if got not in want:
            fail(f"JSON stack {path}: innermost frame expected at {sorted(want.values())}, "
                 f"found {got}")

    # ---- other processes
    if args.expect_other_docs is not None and len(other_docs) != args.expect_other_docs:
        fail(f"expected {args.expect_other_docs} JSON document(s) of other processes, found "
             f"{len(other_docs)}: {[p for p, _ in other_docs]}")
    for spec in args.expect_other_reports:
        kind, count = parse_kind_count(spec)
        have = sum(1 for _, d in other_docs if isinstance(d, dict)
                   for r in (d.get("reports") or []) if isinstance(r, dict) and r.get("kind") == kind)
        if (count is None and have == 0) or (count is not None and have != count):
            fail(f"other processes: expected {count if count is not None else '>= 1'} {kind} "
                 f"report(s), found {have}")

    # ---- the documents of given processes
    def pid_of(spec):
        spec = re.sub(r"\{(out|err):([A-Za-z0-9_]+)\}",
                      lambda m: stdout_value(stdout if m.group(1) == "out" else stderr,
                                             m.group(2), fail),
                      sub_placeholders(spec, tmp, pid))
        if not re.match(r"^\d+$", spec):
            fail(f"not a process id: {spec!r}")
            return None
        return int(spec)

    def doc_of(p):
        if json_pattern is None or "%p" not in json_pattern:
            fail("per-process checks need a json_path with %p")
            return None, None
        path = expand_pattern(json_pattern, p)
        if not os.path.exists(path):
            return path, None
        try:
            return path, load_json_file(path)
        except Failure as e:
            fail(str(e))
            return path, None

    for spec in args.expect_pid_json:
        m = re.match(r"^(\{[^}]*\}|[^:{]*):(.*)$", spec, re.S)
        who, rest = (m.group(1), m.group(2)) if m else (spec, None)
        if rest is None:
            raise SystemExit(f"lwcheck: bad --expect-pid-json {spec!r}: expected PID:PATH=VALUE")
        p = pid_of(who)
        if p is None:
            continue
        path, doc = doc_of(p)
        if path is None:
            continue
        if doc is None:
            fail(f"process {p} ({who}) should have written a JSON document at {path}; the "
                 f"directory holds {sorted(os.listdir(os.path.dirname(path) or '.'))}")
            continue
        if doc.get("pid") != p:
            fail(f"{path}: pid is {doc.get('pid')!r}, expected {p}")
        rest = sub_placeholders(rest, tmp, pid)
        rest = re.sub(r"\{out:([A-Za-z0-9_]+)\}", lambda m: stdout_value(stdout, m.group(1), fail),
                      rest)
        m = re.match(r"^([^<>=]+)(>=|<=)(-?\d+)$", rest)
        if m:
            node = json_at(doc, m.group(1))
            v = int(m.group(3))
            ok = isinstance(node, int) and not isinstance(node, bool) and (
                node >= v if m.group(2) == ">=" else node <= v)
            if not ok:
                fail(f"document of process {p} ({who}): {m.group(1)} expected {m.group(2)}{v}, "
                     f"found {node!r}")
        else:
            check_json_value(doc, rest, lambda msg, p=p, who=who: fail(
                f"document of process {p} ({who}): {msg}"))
    for spec in args.expect_pid_no_doc:
        p = pid_of(spec)
        if p is None:
            continue
        path, doc = doc_of(p)
        if path is not None and os.path.exists(path):
            fail(f"process {p} ({spec}) should have written no JSON document, found {path}")

    # ---- output
    for rx in args.expect_stdout_regex:
        if not re.search(sub_placeholders(rx, tmp, pid), stdout, re.M):
            fail(f"stdout should match /{rx}/")
    for spec in args.expect_stderr_count:
        rx, _, count = spec.rpartition("=")
        if not rx or not re.match(r"^\d+$", count):
            raise SystemExit(f"lwcheck: bad --expect-stderr-count {spec!r}: expected REGEX=N")
        rx = sub_placeholders(rx, tmp, pid)
        n = sum(1 for line in stderr.splitlines() if re.search(rx, line))
        if n != int(count):
            fail(f"stderr should have exactly {count} line(s) matching /{rx}/, found {n}")
    for text in args.expect_stdout_contains:
        if text not in stdout:
            fail(f"stdout should contain {text!r}")
    for text in args.expect_stdout_lacks:
        if text in stdout:
            fail(f"stdout should not contain {text!r}")
    if args.expect_stdout_empty and out:
        fail(f"stdout should be empty, found {len(out)} bytes: {tail(stdout, 500)!r}")
    for text in args.expect_stderr_contains:
        text = sub_placeholders(text, tmp, pid)
        if text not in stderr:
            fail(f"stderr should contain {text!r}")
    for text in args.expect_stderr_lacks:
        text = sub_placeholders(text, tmp, pid)
        if text in stderr:
            fail(f"stderr should not contain {text!r}")
    for rx in args.expect_stderr_regex:
        rx = sub_placeholders(rx, tmp, pid)
        if not re.search(rx, stderr, re.M):
            fail(f"stderr should match /{rx}/")
    if args.expect_stderr_only_reports:
        rest = REPORT_BLOCK_RE.sub("", stderr)
        if not REPORT_BLOCK_RE.search(stderr):
            fail("stderr should hold report blocks, found none")
        if rest:
            fail(f"stderr should hold nothing but reports; outside them: {tail(rest, 2000)!r}")
    if args.expect_stderr_prefixed:
        lines = stderr.splitlines()
        if not lines:
            fail("stderr should have 'lockwatch: ' lines, it is empty")
        bad = [l for l in lines if not l.startswith("lockwatch: ")]
        if bad:
            fail(f"every stderr line should start with 'lockwatch: ', these do not: {bad[:5]}")
    if args.expect_options_listed:
        keys = []
        try:
            with open(args.expect_options_listed, encoding="utf-8") as f:
                keys = re.findall(r"^\s*LW_OPT_[A-Z]+\(\s*([a-z_0-9]+)\s*,", f.read(), re.M)
        except OSError as e:
            fail(f"cannot read {args.expect_options_listed}: {e}")
        if not keys:
            fail(f"no option found in {args.expect_options_listed}")
        for key in keys:
            if not re.search(r"^\s+" + re.escape(key) + r"\s", stderr, re.M):
                fail(f"help=1 output does not list option {key!r}")

    # ---- files
    def file_path(spec):
        """{tmp}, {pid}, and {out:KEY} / {err:KEY} (a line KEY=VALUE of the program's output)."""
        return re.sub(r"\{(out|err):([A-Za-z0-9_]+)\}",
                      lambda m: stdout_value(stdout if m.group(1) == "out" else stderr,
                                             m.group(2), fail),
                      sub_placeholders(spec, tmp, pid))

    for spec in args.expect_file_contains:
        path, _, text = spec.partition("=")
        path = file_path(path)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                content = f.read()
            if file_path(text) not in content:
                fail(f"file {path} should contain {text!r}; it holds: {tail(content, 1500)!r}")
        except OSError as e:
            fail(f"file {path} should exist: {e} (directory holds {sorted(os.listdir(tmp))})")
    for spec in args.expect_file_lacks:
        path, _, text = spec.partition("=")
        path = file_path(path)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                content = f.read()
            if file_path(text) in content:
                fail(f"file {path} should not contain {text!r}; it holds: {tail(content, 1500)!r}")
        except OSError as e:
            fail(f"file {path} should exist: {e}")
    for spec in args.expect_file_equals:
        path, _, text = spec.partition("=")
        path = file_path(path)
        want = sub_placeholders(text, tmp, pid).replace("\\n", "\n")
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                content = f.read()
            if content != want:
                fail(f"file {path} should hold exactly {want!r}; it holds {tail(content, 1500)!r}")
        except OSError as e:
            fail(f"file {path} should exist: {e}")
    for spec in args.expect_file_regular:
        path = file_path(spec)
        if os.path.islink(path):
            fail(f"{path} should be a regular file, it is a symbolic link to {os.readlink(path)}")
        elif not os.path.isfile(path):
            fail(f"{path} should be a regular file, it does not exist or is not a file")
    for spec in args.expect_file_absent:
        path = file_path(spec)
        if os.path.exists(path):
            fail(f"file {path} should not exist")

    # ---- native comparison
    if args.compare_native:
        _, nrc, nout, nerr = run_once(cmd, native_env, args.stdin, args.timeout)
        if nout != out:
            fail(f"stdout differs from the native run: {len(out)} bytes under lockwatch, "
                 f"{len(nout)} natively; first difference at byte "
                 f"{next((i for i, (a, b) in enumerate(zip(out, nout)) if a != b), min(len(out), len(nout)))}")
        if args.expect_native_exit is not None and nrc != args.expect_native_exit:
            fail(f"the native run was {describe_status(nrc)}, expected exit "
                 f"{args.expect_native_exit}")
        if args.expect_native_exit is not None and b"lockwatch:" in nerr:
            fail("the native run printed lockwatch text on stderr")
        if args.expect_silent and nrc != rc:
            fail(f"exit status differs from the native run: {describe_status(rc)} under "
                 f"lockwatch, {describe_status(nrc)} natively")
        if nrc is not None and nrc < 0 and nrc != args.expect_exit:
            fail(f"the native run was {describe_status(nrc)}")

    if failures:
        print(f"lwcheck: FAIL: {' '.join(shown_args)}")
        print(f"  LOCKWATCH_OPTIONS={options}")
        print(f"  pid {pid}, {describe_status(rc)}; reports: {counts or 'none'}")
        for f in failures:
            print(f"  - {f}")
        print("--- stdout (tail) ---")
        print(tail(stdout, 3000))
        print("--- stderr ---")
        print(tail(stderr))
        return 1
    if args.skip_unless_stdout is not None and args.skip_unless_stdout not in stdout:
        print(f"lwcheck: SKIP: {' '.join(shown_args)}: stdout lacks "
              f"{args.skip_unless_stdout!r}, so the run proves nothing")
        return SKIPPED
    print(f"lwcheck: ok: {' '.join(shown_args)} ({describe_status(rc)}, reports: {counts or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
