#!/usr/bin/env python3
"""html_page.py - how long a suite's HTML page takes to open in headless Chromium.

    bench/html_page.py --lockwatch build/tools/lockwatch --doc RUN.json
                       [--runs 1000] [--reports 100] [-n 3] [--chromium PATH]

Builds a merged document as lockwatch run --json writes it, of --runs
processes and --reports reports: the reports are copies of the first report
of RUN.json (a real one, e.g. of bank --variant=naive), each with locks of its
own names so that the graph has a part per report, spread over the
processes. Then lockwatch report --html writes its page, and Chromium opens a
copy of the page with a probe that, at the load event, forces a layout and
notes performance.now() (milliseconds since navigation started: parse,
style, script and layout of the whole page), then ticks every kind box
off and on again and types in the filter, timing each.

Prints the sizes, the time lockwatch took to write the page, and the median
of -n loads. Not a test: nothing here asserts a time. Stdlib only.
"""
import argparse
import copy
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "tools"))
import html_check as hc  # noqa: E402

PROBE = """<script>
addEventListener('load', function () {
  document.body.offsetHeight;
  var load = performance.now();
  var q = document.getElementById('filter-text'), t0 = performance.now();
  q.value = 'accounts7+64'; q.dispatchEvent(new Event('input'));
  var shown = document.getElementById('filter-count').textContent;
  document.body.offsetHeight;
  var filter = performance.now() - t0;
  q.value = ''; q.dispatchEvent(new Event('input'));
  document.body.setAttribute('data-bench', load.toFixed(1) + '|' + filter.toFixed(1) + '|' + shown);
});
</script></body>"""


def merged(doc, runs, reports):
    """A merged document of runs processes and reports copies of doc's first report."""
    base = doc["reports"][0]
    procs = [{"pid": 100000 + i, "program": doc["program"], "argv": doc["argv"]}
             for i in range(runs)]
    out = []
    for k in range(reports):
        r = copy.deepcopy(base)
        r["id"] = 1
        r["pid"] = procs[k * runs // reports]["pid"]
        for lock in r["locks"]:
            if lock.get("name"):
                lock["name"] = lock["name"].replace("accounts", f"accounts{k}")
        r["summary"] = r.get("summary", r["kind"])
        out.append(r)
    stats = {key: v * runs for key, v in doc.get("stats", {}).items() if isinstance(v, int)}
    return {"tool": "lockwatch", "version": doc.get("version", "0"), "pid": procs[0]["pid"],
            "program": doc["program"], "argv": doc["argv"], "processes": procs,
            "reports": out, "suppressed": [], "stats": stats}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lockwatch", required=True)
    ap.add_argument("--doc", required=True, help="a document with at least one report")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--reports", type=int, default=100)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--chromium")
    args = ap.parse_args()
    with open(args.doc, encoding="utf-8") as f:
        doc = json.load(f)
    if not doc.get("reports"):
        sys.exit(f"html_page: {args.doc} has no report to copy")
    chromium = hc.find_chromium(args.chromium)
    tmp = tempfile.mkdtemp(prefix="lockwatch-bench-html-")
    try:
        src = os.path.join(tmp, "suite.json")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(merged(doc, args.runs, args.reports), f)
        page = os.path.join(tmp, "suite.html")
        t0 = time.monotonic()
        subprocess.run([args.lockwatch, "report", "--html", page, src], check=True)
        write_s = time.monotonic() - t0
        with open(page, encoding="utf-8") as f:
            text = f.read()
        probe = os.path.join(tmp, "probe.html")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(text.replace("</body>", PROBE))
        loads, filters, walls = [], [], []
        for _ in range(args.n):
            t0 = time.monotonic()
            dom = hc.dump_dom(chromium, probe)
            walls.append(time.monotonic() - t0)
            got = dom.find("body").attrs.get("data-bench", "")
            m = re.fullmatch(r"([\d.]+)\|([\d.]+)\|(.*)", got)
            if not m:
                sys.exit(f"html_page: the probe did not run: {got!r}")
            loads.append(float(m.group(1)))
            filters.append(float(m.group(2)))
            shown = m.group(3)
        print(f"document: {os.path.getsize(src) / 1e6:.1f} MB, {args.runs} processes, "
              f"{args.reports} reports")
        print(f"page: {len(text.encode()) / 1e6:.1f} MB, written in {write_s:.2f} s")
        print(f"load (navigation start to load event and layout), median of {args.n}: "
              f"{statistics.median(loads):.0f} ms (all: {', '.join(f'{x:.0f}' for x in loads)})")
        print(f"filter 'accounts7+64' ({shown}): median {statistics.median(filters):.0f} ms")
        print(f"whole Chromium run (start, load, dump, quit), median: "
              f"{statistics.median(walls):.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
