#!/usr/bin/env python3
"""lwjson.py - reads the JSON documents lockwatch wrote for a benchmark run.

    lwjson.py FILE...

Checks that no document has a report (the benchmark programs are correct,
so any report is a false alarm or a lockwatch bug) and prints one line:

    documents=N reports=R locks=... edges=... cycle_searches=... bytes=...

with every whole-number field of `stats`, each the largest value over the
documents (the main process of a run is normally the one with the most). Exit status: 0 when no
document has a report, 1 when one has (each report's kind and summary are
printed on stderr first), 2 when a file cannot be read or parsed.
"""
import json
import sys

def main(paths):
    """Checks the documents at paths; returns the exit status described above."""
    best = {}
    reports = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"lwjson: {path}: {e}", file=sys.stderr)
            return 2
        for r in doc.get("reports", []):
            reports += 1
            print(f"lwjson: {path}: {doc.get('program')}: {r.get('kind')}: {r.get('summary')}",
                  file=sys.stderr)
        for key, value in doc.get("stats", {}).items():
            if isinstance(value, int) and not isinstance(value, bool) and value > best.get(key, -1):
                best[key] = value
    fields = [f"documents={len(paths)}", f"reports={reports}"]
    fields += [f"{key}={value}" for key, value in best.items()]
    print(" ".join(fields))
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
