#!/usr/bin/env python3
"""merge.py - how long lockwatch merge takes on a whole test suite's documents.

Usage: merge.py LOCKWATCH [--docs N] [--edges M] [--classes K] [--schema 2|3] [--keep DIR]

Writes N documents (default 1,000) of M class edges each (default 1,000: a
million in all) over K lock classes (default 20,000), in the runtime's own
format (schema 3: one class unit per document; --schema 2 writes the
earlier objects with string keys), as a suite of N test processes would leave them: each
document's edges go from a lower class number to a higher one, except that
one document in a hundred also takes one pair the other way, so the merged
graph has cycles that no document has alone. Then times `LOCKWATCH merge`
over all of them (best of 3) and prints the time (wall and CPU), the edges
per second, the peak memory of the merge, and the number of cross-document
reports it found.

Stdlib only; not a test (nothing here fails on time).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time


def frames(k):
    return [{"pc": hex(0x1000 + k), "function": f"path_{k}", "file": f"/src/suite/t{k % 97}.c",
             "line": 10 + k % 300, "column": 3, "module": "/src/suite/test", "offset": hex(0x1000 + k),
             "inlined": False}]


def document(i, edges, classes, rng, schema):
    stack_ids = [f"S{(i * 64 + k):016x}" for k in range(32)]
    used = set()
    graph = []
    while len(graph) < edges:
        a, b = sorted(rng.sample(range(classes), 2))
        if (a, b) in used:
            continue
        used.add((a, b))
        graph.append((a, b))
    if i % 100 == 1:  # this test takes one known pair the other way round
        graph[0] = (1, 0)
    doc = {
        "tool": "lockwatch", "version": "0.1.0", "schema": 2, "pid": 10000 + i,
        "program": f"/src/suite/test_{i}", "argv": [f"test_{i}"], "reports": [], "suppressed": [],
        "classes": [{"id": f"C{c:016x}", "how": "static", "type": "mutex", "name": f"lock_{c}",
                     "module": "/src/suite/libsuite.so", "offset": hex(0x4000 + 64 * c),
                     "instances": 1, "created": []}
                    for c in sorted({x for e in graph for x in e})],
        "class_graph": [{"from": f"C{a:016x}", "to": f"C{b:016x}", "from_mode": "write",
                         "to_mode": "write", "thread": "T1",
                         "acquired": stack_ids[(a + b) % 32], "held": stack_ids[a % 32]}
                        for a, b in graph],
        "stacks": [{"id": s, "frames": frames(i * 64 + k)} for k, s in enumerate(stack_ids)],
        "stats": {"locks": 0, "locks_created": len(graph), "edges": 0, "edges_created": len(graph)},
    }
    return doc if schema == 2 else to_units(doc)


def to_units(doc):
    """The same document in schema 3: classes, stacks and edges in one class unit."""
    stacks = {s["id"]: k for k, s in enumerate(doc["stacks"])}
    classes = {c["id"]: k for k, c in enumerate(doc["classes"])}
    unit = {
        "pid": doc["pid"], "program": doc["program"],
        "classes": [[c["id"], c["how"], c["type"], c["name"], c["module"], c["offset"],
                     c["instances"], -1] for c in doc["classes"]],
        "edges": [[classes[e["from"]], classes[e["to"]],
                   2 * (e["from_mode"] == "read") + (e["to_mode"] == "read"), int(e["thread"][1:]),
                   stacks[e["acquired"]], stacks[e["held"]]] for e in doc["class_graph"]],
        "stacks": doc["stacks"],
    }
    for key in ("classes", "class_graph", "stacks"):
        del doc[key]
    doc["schema"] = 3
    stats = doc.pop("stats")
    doc["class_units"] = [unit]
    doc["stats"] = stats
    return doc


def dump(doc, f):
    """As the runtime writes: one row of a unit's tables per line."""
    if doc["schema"] == 2:
        json.dump(doc, f)
        return
    unit = doc["class_units"][0]
    f.write(json.dumps({k: v for k, v in doc.items() if k != "class_units"})[:-1])
    f.write(', "class_units": [{"pid": %d, "program": %s,' % (unit["pid"], json.dumps(unit["program"])))
    for key in ("classes", "edges", "stacks"):
        f.write('\n"%s": [\n' % key)
        f.write(",\n".join(json.dumps(row) for row in unit[key]))
        f.write("]" + ("," if key != "stacks" else ""))
    f.write("}]}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lockwatch")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--edges", type=int, default=1000)
    ap.add_argument("--classes", type=int, default=20000)
    ap.add_argument("--schema", type=int, choices=(2, 3), default=3)
    ap.add_argument("--keep", help="write the documents here and keep them")
    a = ap.parse_args()
    rng = random.Random(7)
    tmp = a.keep or tempfile.mkdtemp(prefix="lw-merge-bench-")
    os.makedirs(tmp, exist_ok=True)
    paths = []
    for i in range(a.docs):
        p = os.path.join(tmp, f"t{i:04d}.json")
        with open(p, "w", encoding="utf-8") as f:
            dump(document(i, a.edges, a.classes, rng, a.schema), f)
        paths.append(p)
    size = sum(os.path.getsize(p) for p in paths)
    out = os.path.join(tmp, "merged.json")
    best = cpu = peak = None
    for _ in range(3):
        t0 = time.monotonic()
        p = subprocess.Popen([a.lockwatch, "merge", "-o", out] + paths, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        _, err = p.communicate()
        dt = time.monotonic() - t0
        if p.returncode not in (0, 66):
            print(err, file=sys.stderr)
            return 1
        best = dt if best is None else min(best, dt)
    # the CPU time and peak memory of one more merge, measured by the kernel
    p = subprocess.Popen([a.lockwatch, "merge", "-o", out] + paths, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss / 1024
    with open(out, encoding="utf-8") as f:
        merged = json.load(f)
    across = sum(1 for r in merged["reports"] if r.get("across_documents"))
    total = a.docs * a.edges
    print(f"merge: {a.docs} documents, {total} class edges, {size / 1e6:.0f} MB (schema {a.schema}): "
          f"{best:.2f} s wall, {cpu:.2f} s CPU, {peak:.0f} MB peak "
          f"({total / best / 1e6:.2f} M edges/s), {across} reports across documents, "
          f"load average {os.getloadavg()[0]:.2f}")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
