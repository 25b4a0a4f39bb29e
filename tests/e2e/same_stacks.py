#!/usr/bin/env python3
"""same_stacks.py - the stacks of a run's reports do not depend on the unwinder.

Usage: same_stacks.py PRELOAD PROGRAM [ARGS...]

Runs PROGRAM under the preload twice, with unwinder=glibc and with
unwinder=auto (libunwind when installed), and compares every stack of
every report (edges' acquired and held stacks, events' stacks) frame by
frame, by module and offset. Exits 0 when all are equal and there is at
least one report; 1 with the first difference otherwise; 77 (skipped)
when libunwind.so.8 is not installed.
"""
import ctypes
import json
import os
import subprocess
import sys
import tempfile


def stacks(doc):
    out = []
    for r in doc.get("reports", []):
        for e in r.get("edges") or []:
            for key in ("acquired", "held"):
                out.append((r["kind"], key, [(f.get("module"), f.get("offset"))
                                             for f in e.get(key) or []]))
        for ev in r.get("events") or []:
            out.append((r["kind"], ev.get("what"), [(f.get("module"), f.get("offset"))
                                                    for f in ev.get("stack") or []]))
    return out


def run(preload, argv, unwinder, tmp):
    path = os.path.join(tmp, unwinder + ".json")
    env = dict(os.environ, LD_PRELOAD=preload,
               LOCKWATCH_OPTIONS="unwinder=%s:json_path=%s" % (unwinder, path))
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60, check=False)
    with open(path) as f:
        return json.load(f)


def main():
    preload, argv = sys.argv[1], sys.argv[2:]
    try:
        ctypes.CDLL("libunwind.so.8")
    except OSError:
        print("libunwind.so.8 is not installed: nothing to compare")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        a, b = run(preload, argv, "glibc", tmp), run(preload, argv, "auto", tmp)
    sa, sb = stacks(a), stacks(b)
    if not sa:
        print("FAIL: no report, so no stack to compare")
        return 1
    if len(sa) != len(sb):
        print("FAIL: %d stacks with glibc, %d with auto" % (len(sa), len(sb)))
        return 1
    for x, y in zip(sa, sb):
        if x != y:
            print("FAIL: %s %s differs:\n  glibc: %s\n  auto:  %s" % (x[0], x[1], x[2], y[2]))
            return 1
    frames = sum(len(x[2]) for x in sa)
    print("%d stacks, %d frames: the same with both unwinders" % (len(sa), frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
