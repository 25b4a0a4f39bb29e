#!/usr/bin/env python3
"""bench/python_lock.py - the Python layer's cost: uncontended `with lock:`.

  bench/python_lock.py [--python PY] [--build DIR] [-n RUNS] [--loops N]

Runs N (default 1,000,000) `with lock:` on one threading.Lock (then on an
RLock) in a child Python, natively and under `lockwatch run` (which loads
the Python layer), RUNS times each (default 5), interleaved, and prints
the medians and their ratio (target: within 3x). Not a test: nothing
here fails on a time. Exit status 0, or 1 when a run failed.
"""
import argparse
import os
import statistics
import subprocess
import sys

LOOP = r"""
import sys, threading, time
kind, n = sys.argv[1], int(sys.argv[2])
lock = getattr(threading, kind)()
t = time.perf_counter()
for _ in range(n):
    with lock:
        pass
print(time.perf_counter() - t)
"""


def one(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.stderr.write("bench/python_lock.py: %s failed (%d):\n%s" %
                         (" ".join(cmd), out.returncode, out.stderr))
        return None
    return float(out.stdout.split()[-1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="uncontended `with lock:`, native vs lockwatch run")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(here), "build"))
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--loops", type=int, default=1000000)
    a = ap.parse_args()
    tool = os.path.join(a.build, "tools", "lockwatch")
    if not os.access(tool, os.X_OK):
        sys.exit("bench/python_lock.py: no lockwatch command at %s (build first, or --build DIR)"
                 % tool)
    status = 0
    print("%-7s %12s %12s %7s  (%s, %d loops, median of %d)" %
          ("lock", "native s", "lockwatch s", "ratio", a.python, a.loops, a.runs))
    for kind in ("Lock", "RLock"):
        base = [a.python, "-c", LOOP, kind, str(a.loops)]
        nat, lw = [], []
        for _ in range(a.runs):
            for cmd, into in ((base, nat), ([tool, "run", "--"] + base, lw)):
                t = one(cmd)
                if t is None:
                    status = 1
                else:
                    into.append(t)
        if nat and lw:
            n, w = statistics.median(nat), statistics.median(lw)
            print("%-7s %12.3f %12.3f %6.2fx  (target: 3x)" % (kind, n, w, w / n))
    return status


if __name__ == "__main__":
    sys.exit(main())
