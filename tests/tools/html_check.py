#!/usr/bin/env python3
"""html_check.py - checks lockwatch's HTML pages, as text and in headless Chromium.

Usage:
  html_check.py bank --lockwatch CMD --preload LIB --bank PROG --source-dir DIR
                [--chromium PATH] [--screenshot OUT.png]

`bank` builds the bank demo's page end to end: runs `bank --variant=naive`
under the preload with a json_path, then `lockwatch report --html`, and
checks the page: its markup loads nothing from outside; in Chromium, the
rendered DOM shows the cycle, the scenario, both stacks with the lines of
demos/bank.c the demo marks (and those source lines), the graph with links
that lead to the report, and no load the page's security policy refused (a
copy of the page with an outside image must show one, or the check is
blind). --screenshot also writes a 1280x900 picture of the page (this is how
docs/html-report.png is made).

The functions are also used by tools_test.py for the other pages.
Exit status: 0 if the page passed, 1 if not, 77 if Chromium is not
installed, 2 on a bad command line. Stdlib only.
"""

import argparse
import glob
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Failure(Exception):
    """An expectation did not hold."""


class Skip(Exception):
    """Chromium is not installed."""


def expect(cond, what):
    if not cond:
        raise Failure(what)


# ---- a small DOM ------------------------------------------------------------------------


class Node:
    """An element: tag, attributes, children (Nodes and strings), parent."""

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find_all(self, tag=None, cls=None, **attrs):
        return [n for n in self.walk()
                if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())
                and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def by_id(self, ident):
        return self.find(id=ident)


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root
        self.errors = []

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is None:
            self.errors.append(f"</{tag}> closes nothing")
            return
        if n is not self.cur:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}> too")
        self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(text, strict=False):
    """The DOM of text; strict: every element closed in order (our own markup)."""
    b = _Builder()
    b.feed(text)
    b.close()
    if strict:
        expect(not b.errors, f"the markup is not well nested: {b.errors[:5]}")
        expect(b.cur is b.root, f"<{b.cur.tag}> is never closed")
    return b.root


# ---- checks on the markup ------------------------------------------------------------------


def check_static(text, where="the page"):
    """Nothing in the markup can load from outside: no src, no outside href, no url() or
    @import but to fragments, no http(s) address at all; a CSP that forbids loads."""
    expect(text.startswith("<!DOCTYPE html>"), f"{where} does not start with <!DOCTYPE html>")
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    expect(m and "default-src 'none'" in m.group(1),
           f"{where} has no Content-Security-Policy with default-src 'none'")
    expect(text.find(m.group(0)) < text.find("<script"), f"{where}: the policy must come first")
    for bad in (r"\ssrc\s*=", r"@import", r"https?://", r"//[a-z0-9.-]+\.[a-z]{2,}/"):
        hit = re.search(bad, text, re.I)
        if hit:
            around = text[max(0, hit.start() - 60):hit.end() + 60]
            raise Failure(f"{where} may load from outside: {around!r}")
    for href in re.findall(r'\shref\s*=\s*"([^"]*)"', text):
        expect(href.startswith("#"), f"{where} links outside itself: href={href!r}")
    for url in re.findall(r"url\(([^)]*)\)", text):
        expect(url.startswith("#"), f"{where} uses url({url})")
    dom = parse(text, strict=True)
    ids = [n.attrs["id"] for n in dom.walk() if "id" in n.attrs]
    dup = {i for i in ids if ids.count(i) > 1}
    expect(not dup, f"{where}: ids used twice: {sorted(dup)[:5]}")
    for a in dom.find_all("a"):
        href = a.attrs.get("href", "")
        expect(href[1:] in ids, f"{where}: the link {href} leads nowhere")
    return dom


# ---- Chromium --------------------------------------------------------------------------------


def find_chromium(given=None):
    path = given or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise Skip("Chromium is not installed (Debian package chromium; scripts/deps.sh --ci "
                   "installs it): the page was not checked in a browser")
    return path


def _chromium(chromium, args, timeout=120):
    """Runs headless Chromium with a profile of its own; returns its stdout."""
    with tempfile.TemporaryDirectory(prefix="lockwatch-chromium-") as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-default-apps", f"--user-data-dir={profile}"] + args
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"Chromium did not end within {timeout} s: {cmd}")
    if p.returncode != 0:
        raise Failure(f"Chromium failed (status {p.returncode}): {cmd}\n{p.stderr[-3000:]}")
    return p.stdout


def dump_dom(chromium, page):
    """The DOM of the page after its scripts ran, parsed."""
    out = _chromium(chromium, ["--dump-dom", "file://" + os.path.abspath(page)])
    expect("<html" in out, f"Chromium printed no DOM for {page}")
    return parse(out)


def screenshot(chromium, page, out, width=1280, height=900):
    """Writes a PNG of the page; checks that it is one, of that size."""
    out = os.path.abspath(out)
    if os.path.exists(out):
        os.unlink(out)
    _chromium(chromium, [f"--screenshot={out}", f"--window-size={width},{height}",
                         "file://" + os.path.abspath(page)])
    with open(out, "rb") as f:
        head = f.read(24)
    expect(head[:8] == b"\x89PNG\r\n\x1a\n", f"{out} is not a PNG")
    w, h = struct.unpack(">II", head[16:24])
    expect((w, h) == (width, height), f"{out} is {w}x{h}, not {width}x{height}")


def check_rendered(dom, where="the page"):
    """What every rendered page shows: its script ran, nothing was refused."""
    body = dom.find("body")
    expect(body is not None and body.attrs.get("data-ready") == "1",
           f"{where}: the page's script did not run to its end")
    blocked = dom.by_id("blocked")
    expect(blocked is not None, f"{where} has no p#blocked")
    expect("hidden" in blocked.attrs and not blocked.text().strip(),
           f"{where} tried to load something: {blocked.text()!r}")


def check_detects_loads(chromium, page, tmp):
    """A copy of the page with an outside image: the markup check and the browser must both
    see it (else the checks above prove nothing)."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    bad = os.path.join(tmp, "outside.html")
    with open(bad, "w", encoding="utf-8") as f:
        f.write(text.replace("</body>", '<img alt="" src="http://127.0.0.1:9/x.png"></body>'))
    try:
        check_static(text.replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>'))
    except Failure:
        pass
    else:
        raise Failure("the markup check accepted an outside image")
    dom = dump_dom(chromium, bad)
    blocked = dom.by_id("blocked")
    expect(blocked is not None and "127.0.0.1:9" in blocked.text(),
           "the browser did not report the outside image the copy loads "
           f"(p#blocked: {blocked.text() if blocked else None!r})")


# ---- the bank page ---------------------------------------------------------------------------


def marker_line(path, marker):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if f"/* {marker} */" in line]
    expect(len(hits) == 1, f"marker /* {marker} */ must occur once in {path}")
    return hits[0], lines[hits[0] - 1]


def frame_lines(ol):
    """The frames of an ol.frames: (location text, marked source line or None) each."""
    out = []
    for li in ol.find_all("li"):
        loc = li.find("span", cls="loc")
        hit = li.find("span", cls="hit")
        src = None
        if hit is not None:
            ln = hit.find("span", cls="ln")
            src = (int(ln.text()), hit.text()[len(ln.text()):].lstrip("\u25b6 ").rstrip())
        out.append((loc.text() if loc else "", src))
    return out


def check_bank_dom(dom, bank_c, threads):
    """The rendered bank page: cycle, scenario, stacks with source lines, graph."""
    first, first_src = marker_line(bank_c, "LW:naive-first")
    second, second_src = marker_line(bank_c, "LW:naive-second")
    check_rendered(dom, "the bank page")
    reports = dom.find_all("details", cls="report")
    expect(len(reports) == 1, f"one report expected, found {len(reports)}")
    r = reports[0]
    expect(r.attrs.get("data-kind") == "lock-order-inversion" and "open" in r.attrs,
           f"the report is an open lock-order-inversion: {r.attrs}")
    head = " ".join(r.find("p", cls="headline").text().split())
    expect(head == "Cycle in lock order graph: M1 (accounts) \u21d2 M2 (accounts+64) \u21d2 M1",
           f"the cycle line: {head!r}")
    # The scenario: T1 takes accounts then waits for accounts+64, T2 the other way round.
    scen = r.find("table", cls="scen")
    expect(scen is not None, "no scenario table")
    heads = [th.text() for th in scen.find("thead").find_all("th")]
    expect(heads == threads, f"scenario columns {heads}, expected {threads}")
    cells = [[" ".join(td.text().split()) for td in tr.find_all("td")]
             for tr in scen.find("tbody").find_all("tr")]
    want = [["lock(accounts)", ""], ["", "lock(accounts+64)"], ["", "lock(accounts) waits"],
            ["lock(accounts+64) waits", ""]]
    expect(cells == want, f"scenario cells {cells}, expected {want}")
    # Both stacks of both edges, innermost frame at the marked lines, with their source.
    stacks = r.find_all("div", cls="stack")
    inv = [s for s in stacks if re.fullmatch(r"r1-e\d", s.attrs.get("id", ""))]
    expect(len(inv) == 2, f"two edges' stacks expected, found {[s.attrs for s in stacks]}")
    for s in inv:
        ols = s.find_all("ol", cls="frames")
        expect(len(ols) == 2, f"{s.attrs['id']}: two stacks expected")
        for ol, line, src in ((ols[0], second, second_src), (ols[1], first, first_src)):
            frames = frame_lines(ol)
            expect(frames and frames[0][0].endswith(f"bank.c:{line}"),
                   f"{s.attrs['id']}: the innermost frame is at bank.c:{line}: {frames[:1]}")
            expect(frames[0][1] == (line, src.strip()),
                   f"{s.attrs['id']}: the marked source line must be bank.c:{line} "
                   f"{src.strip()!r}, got {frames[0][1]!r}")
            pre = ol.find("pre", cls="src")
            nums = [int(x.text()) for x in pre.find_all("span", cls="ln")]
            expect(nums == list(range(line - 3, line + 4)),
                   f"the source shows lines {line - 3}..{line + 3}, got {nums}")
    # The graph: the two locks and the two orders, red, each linking into the report.
    svg = dom.find("svg", cls="graph")
    expect(svg is not None, "no graph")
    nodes = svg.find_all("a", cls="gnode")
    names = sorted(n.attrs.get("data-lock") for n in nodes)
    expect(names == ["accounts", "accounts+64"], f"graph locks {names}")
    edges = svg.find_all("a", cls="order")
    expect(len(edges) == 2, f"two orders in the graph, found {len(edges)}")
    for el in nodes + edges:
        shape = el.find("rect") or el.find("path")
        expect(shape.attrs.get("stroke") == "red", f"{el.attrs}: a cycle is red")
        target = dom.by_id(el.attrs["href"][1:])
        expect(target is not None, f"the graph's link {el.attrs['href']} leads nowhere")
        p = target
        while p is not None and p is not r:
            p = p.parent
        expect(p is r, f"the graph's link {el.attrs['href']} does not lead into the report")
    count = dom.by_id("filter-count")
    expect(count is not None and count.text() == "1 of 1 reports shown",
           f"the filter's count: {count.text() if count else None!r}")


def build_bank_page(args, tmp):
    """Runs the naive bank under the preload, then lockwatch report --html. Returns the page
    and the thread ids of the document's two edges."""
    env = dict(os.environ)
    env.pop("LOCKWATCH_OPTIONS", None)
    first = os.environ.get("LWCHECK_PRELOAD_FIRST")
    env["LD_PRELOAD"] = (first + ":" if first else "") + os.path.abspath(args.preload)
    env["LOCKWATCH_OPTIONS"] = f"json_path={tmp}/bank.%p.json"
    bank = os.path.abspath(args.bank)
    # Run from the build tree as demos/bank, so the page says "demos/bank", not a full path.
    cwd = os.path.dirname(os.path.dirname(bank))
    p = subprocess.run([os.path.join("demos", os.path.basename(bank)), "--variant=naive"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    expect(p.returncode == 66, f"bank --variant=naive under lockwatch: status {p.returncode}, "
           f"expected 66\n{p.stderr[-3000:]}")
    docs = glob.glob(os.path.join(tmp, "bank.*.json"))
    expect(len(docs) == 1, f"one document expected, found {docs}")
    os.rename(docs[0], os.path.join(tmp, "bank.json"))
    env.pop("LD_PRELOAD")
    env.pop("LOCKWATCH_OPTIONS")
    p = subprocess.run([os.path.abspath(args.lockwatch), "report", "--html", "bank.html",
                        "--srcroot", os.path.abspath(args.source_dir), "bank.json"],
                       cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and p.stdout == "" and p.stderr == "",
           f"lockwatch report --html: status {p.returncode}\n{p.stdout}{p.stderr}")
    with open(os.path.join(tmp, "bank.json"), encoding="utf-8") as f:
        doc = json.load(f)
    threads = [e["thread"] for e in doc["reports"][0]["edges"]]
    return os.path.join(tmp, "bank.html"), threads


def case_bank(args):
    tmp = tempfile.mkdtemp(prefix="lockwatch-html-")
    try:
        page, threads = build_bank_page(args, tmp)
        with open(page, encoding="utf-8") as f:
            check_static(f.read(), "the bank page")
        chromium = find_chromium(args.chromium)
        check_bank_dom(dump_dom(chromium, page), os.path.join(args.source_dir, "demos", "bank.c"),
                       threads)
        check_detects_loads(chromium, page, tmp)
        if args.screenshot:
            screenshot(chromium, page, args.screenshot)
    except Failure:
        print(f"(files kept in {tmp})")
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=["bank"])
    ap.add_argument("--lockwatch", required=True)
    ap.add_argument("--preload", required=True)
    ap.add_argument("--bank", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--chromium")
    ap.add_argument("--screenshot", metavar="OUT.png")
    args = ap.parse_args()
    try:
        case_bank(args)
    except Skip as e:
        print(f"SKIP html page: {e}")
        return SKIP
    except Failure as e:
        print(f"FAIL html page: {e}")
        return 1
    print("PASS html page" + (f" (screenshot: {args.screenshot})" if args.screenshot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
