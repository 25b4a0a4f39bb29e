#!/usr/bin/env python3
"""tools_test.py - end-to-end tests of the lockwatch command and its install.

Usage:
  tools_test.py --lockwatch CMD --preload LIB [paths...] CASE

Runs one CASE (see CASES at the bottom) in a private temporary directory.
Exit status: 0 if the case passed; 1 (after saying what was expected and
what was found) if not; 77 if it cannot run here (a missing program such as
Graphviz's dot or dpkg-deb); 2 on a bad command line.

The demo `bank --variant=naive` has a lock-order inversion, `--variant=ordered`
is clean, and `--deadlock` really deadlocks (run only under lockwatch, which
ends it with a deadlock report). Stdlib only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import html_check as hc  # noqa: E402  (beside this file)

SKIP = 77
INV = "lock-order-inversion"
TEXT_BLOCK_RE = re.compile(r"^==================\n.*?^==================\n", re.M | re.S)
SUMMARY_LINE_RE = re.compile(
    r"^lockwatch: (?P<reports>\d+) reports?, (?P<suppressed>\d+) suppressed, from "
    r"(?P<procs>\d+) process(?:es)?; exit status (?P<status>\d+)", re.M)


class Failure(Exception):
    """An expectation did not hold."""


class Skip(Exception):
    """The case cannot run here."""


# ---- helpers ----------------------------------------------------------------------


class Ctx:
    """Paths given on the command line, and the case's temporary directory."""

    def __init__(self, args, tmp):
        self.lw = args.lockwatch
        self.preload = args.preload
        self.bank = args.bank
        self.misuse = args.misuse
        self.api = args.api
        self.noop = args.noop
        self.classprog = args.classprog
        self.profile_prog = args.profile_prog
        self.daemon = args.daemon
        self.src = args.source_dir
        self.build = args.build_dir
        self.cmake = args.cmake
        self.ctest = args.ctest
        self.cpack = args.cpack
        self.version = args.version
        self.tmp = tmp

    def path(self, name):
        return os.path.join(self.tmp, name)


def clean_env(env=None, lockwatch_run=False):
    """The environment for a command: ours without any lockwatch set-up, plus env."""
    full_env = dict(os.environ)
    for k in ("LD_PRELOAD", "LOCKWATCH_OPTIONS", "LOCKWATCH_PRELOAD"):
        full_env.pop(k, None)
    # make check-asan: a sanitized preload needs the sanitizer runtime loaded
    # first; lockwatch run keeps an LD_PRELOAD it finds and appends itself
    if lockwatch_run and os.environ.get("LWCHECK_PRELOAD_FIRST"):
        full_env["LD_PRELOAD"] = os.environ["LWCHECK_PRELOAD_FIRST"]
    full_env.update(env or {})
    return full_env


def run(cmd, env=None, timeout=60, cwd=None):
    """Runs cmd; returns the CompletedProcess (text output captured)."""
    full_env = clean_env(env, lockwatch_run="run" in cmd[1:2])
    try:
        return subprocess.run(cmd, env=full_env, cwd=cwd, timeout=timeout, text=True,
                              errors="replace", stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"{cmd} did not end within {timeout} s; stderr so far:\n{e.stderr}")


def show(p):
    return (f"command: {p.args}\nexit status: {p.returncode}\n--- stdout ---\n{p.stdout}"
            f"--- stderr ---\n{p.stderr}")


def expect(cond, what, p=None):
    if not cond:
        raise Failure(what + ("\n" + show(p) if p is not None else ""))


def expect_status(p, status):
    expect(p.returncode == status, f"expected exit status {status}, got {p.returncode}", p)


def expect_one_error_line(p, *needles, status=None):
    """stderr is exactly one line, starting 'lockwatch: ', containing every needle."""
    if status is not None:
        expect_status(p, status)
    lines = p.stderr.splitlines()
    expect(len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}", p)
    expect(lines[0].startswith("lockwatch: "), "the error line must start with 'lockwatch: '", p)
    for n in needles:
        expect(n in lines[0], f"the error line must contain {n!r}", p)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Failure(f"cannot load {path}: {e}")


def summary_line(p):
    """The counts line of lockwatch run, as a dict of ints."""
    m = list(SUMMARY_LINE_RE.finditer(p.stderr))
    expect(len(m) == 1, "expected one counts line 'lockwatch: N reports, M suppressed, from K "
           "processes; exit status S' on stderr", p)
    return {k: int(v) for k, v in m[0].groupdict().items()}


def need_bank(ctx):
    if not ctx.bank:
        raise Skip("the demos were not built")


def lw_run(ctx, *args, env=None, timeout=60):
    return run([ctx.lw, "run"] + list(args), env=env, timeout=timeout)


def naive_doc(ctx, name="naive.json"):
    """Runs the naive bank under lockwatch run --json; returns the document's path."""
    out = ctx.path(name)
    p = lw_run(ctx, "--json", out, "--", ctx.bank, "--variant=naive")
    expect_status(p, 66)
    return out


def marker_line(path, marker):
    """Line number of the one /* MARKER */ comment in path."""
    with open(path, encoding="utf-8") as f:
        hits = [i + 1 for i, line in enumerate(f) if f"/* {marker} */" in line]
    if len(hits) != 1:
        raise Failure(f"marker /* {marker} */ must occur once in {path}, found {len(hits)}")
    return hits[0]


def check_merged(doc, nprocs_min=1):
    """The merged document of lockwatch run: the runtime's schema plus processes and pids."""
    expect(doc.get("tool") == "lockwatch", f"tool is {doc.get('tool')!r}")
    for key in ("version", "pid", "program", "argv", "processes", "reports", "suppressed", "stats"):
        expect(key in doc, f"the merged document has no {key!r}")
    procs = doc["processes"]
    expect(isinstance(procs, list) and len(procs) >= nprocs_min,
           f"expected at least {nprocs_min} processes, got {procs!r}")
    pids = set()
    for pr in procs:
        expect(set(pr) >= {"pid", "program", "argv"}, f"process entry {pr!r} lacks a field")
        expect(isinstance(pr["pid"], int) and isinstance(pr["argv"], list), f"bad process {pr!r}")
        pids.add(pr["pid"])
    expect(doc["pid"] == procs[0]["pid"], "the top-level pid must be the first process's")
    for r in doc["reports"] + doc["suppressed"]:
        expect(isinstance(r.get("pid"), int) and r["pid"] in pids,
               f"report {r.get('id')} has pid {r.get('pid')!r}, not one of the processes {pids}")
    return pids


# ---- SARIF 2.1.0: the parts of the schema lockwatch uses, checked by structure --------------

# Properties the SARIF 2.1.0 schema allows on each object lockwatch writes
# (the schema sets additionalProperties: false on them).
SARIF_KEYS = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "invocations", "conversion", "language", "versionControlProvenance",
            "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
            "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
            "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
            "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses",
            "translations", "policies", "webRequests", "webResponses", "specialLocations",
            "properties"},
    "tool": {"driver", "extensions", "properties"},
    "driver": {"guid", "name", "organization", "product", "productSuite", "shortDescription",
               "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion",
               "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings",
               "notifications", "rules", "taxa", "locations", "language", "contents",
               "isComprehensive", "localizedDataSemanticVersion",
               "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent",
               "translationMetadata", "supportedTaxonomies", "properties"},
    "rule": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
             "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration",
             "helpUri", "help", "relationships", "properties"},
    "config": {"enabled", "level", "rank", "parameters", "properties"},
    "mfmessage": {"text", "markdown", "properties"},
    "message": {"text", "markdown", "id", "arguments", "properties"},
    "result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget",
               "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints",
               "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals",
               "relatedLocations", "suppressions", "baselineState", "rank", "attachments",
               "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa",
               "webRequest", "webResponse", "properties"},
    "location": {"id", "physicalLocation", "logicalLocations", "message", "annotations",
                 "relationships", "properties"},
    "physical": {"address", "artifactLocation", "region", "contextRegion", "properties"},
    "artifact": {"uri", "uriBaseId", "index", "description", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
               "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
    "logical": {"name", "index", "fullyQualifiedName", "decoratedName", "parentIndex", "kind",
                "properties"},
}
URI_REF_RE = re.compile(r"^[A-Za-z0-9\-._~/%:@!$&'()*+,;=?#]+$")
ABS_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def sarif_obj(o, kind, where):
    if not isinstance(o, dict):
        raise Failure(f"SARIF: {where} must be an object, is {type(o).__name__}")
    extra = set(o) - SARIF_KEYS[kind]
    if extra:
        raise Failure(f"SARIF: {where} has properties the 2.1.0 schema does not allow: {extra}")
    return o


def sarif_text(o, where, kind="mfmessage"):
    sarif_obj(o, kind, where)
    if not isinstance(o.get("text"), str) or not o["text"]:
        raise Failure(f"SARIF: {where}.text must be a non-empty string")


def sarif_props(o, where):
    props = o.get("properties")
    if props is None:
        return
    if not isinstance(props, dict):
        raise Failure(f"SARIF: {where}.properties must be an object")
    tags = props.get("tags")
    if tags is not None and (not isinstance(tags, list) or len(set(tags)) != len(tags)
                             or not all(isinstance(t, str) for t in tags)):
        raise Failure(f"SARIF: {where}.properties.tags must be unique strings")


def sarif_location(loc, where, base_ids, need_region=True):
    sarif_obj(loc, "location", where)
    phys = sarif_obj(loc.get("physicalLocation"), "physical", where + ".physicalLocation")
    art = sarif_obj(phys.get("artifactLocation"), "artifact",
                    where + ".physicalLocation.artifactLocation")
    uri = art.get("uri")
    if not isinstance(uri, str) or not URI_REF_RE.match(uri):
        raise Failure(f"SARIF: {where}: artifactLocation.uri {uri!r} is not a URI reference")
    if "uriBaseId" in art:
        if art["uriBaseId"] not in base_ids:
            raise Failure(f"SARIF: {where}: uriBaseId {art['uriBaseId']!r} is not defined in "
                          f"run.originalUriBaseIds {sorted(base_ids)}")
        if ABS_URI_RE.match(uri) or uri.startswith("/"):
            raise Failure(f"SARIF: {where}: a uri with a uriBaseId must be relative: {uri!r}")
    if need_region or "region" in phys:
        region = sarif_obj(phys.get("region"), "region", where + ".physicalLocation.region")
        line = region.get("startLine")
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            raise Failure(f"SARIF: {where}: region.startLine must be an integer >= 1, "
                          f"is {line!r}")
        col = region.get("startColumn", 1)
        if not isinstance(col, int) or col < 1:
            raise Failure(f"SARIF: {where}: region.startColumn must be an integer >= 1")
    for i, ll in enumerate(loc.get("logicalLocations", [])):
        sarif_obj(ll, "logical", f"{where}.logicalLocations[{i}]")
    if "message" in loc:
        sarif_text(loc["message"], where + ".message", "message")
    if "id" in loc and (not isinstance(loc["id"], int) or loc["id"] < 0):
        raise Failure(f"SARIF: {where}.id must be an integer >= 0")


def check_sarif(log, want_results=None):
    """Checks log against the SARIF 2.1.0 rules lockwatch's output must follow."""
    sarif_obj(log, "log", "the log")
    if log.get("version") != "2.1.0":
        raise Failure(f"SARIF: version must be '2.1.0', is {log.get('version')!r}")
    if not isinstance(log.get("$schema"), str) or not log["$schema"].startswith("https://"):
        raise Failure("SARIF: $schema must be the https URI of the 2.1.0 schema")
    runs = log.get("runs")
    if not isinstance(runs, list) or len(runs) != 1:
        raise Failure("SARIF: runs must be an array of one run")
    run_ = sarif_obj(runs[0], "run", "runs[0]")
    tool = sarif_obj(run_.get("tool"), "tool", "runs[0].tool")
    driver = sarif_obj(tool.get("driver"), "driver", "runs[0].tool.driver")
    if driver.get("name") != "lockwatch":
        raise Failure(f"SARIF: tool.driver.name must be 'lockwatch', is {driver.get('name')!r}")
    if not isinstance(driver.get("version"), str) or not driver["version"]:
        raise Failure("SARIF: tool.driver.version must be a non-empty string")
    # informationUri only when the build names one (LOCKWATCH_HOMEPAGE_URL): no placeholder
    if "informationUri" in driver and (not isinstance(driver["informationUri"], str) or
                                       not ABS_URI_RE.match(driver["informationUri"])):
        raise Failure("SARIF: tool.driver.informationUri must be an absolute URI")
    if "lockwatch/lockwatch" in json.dumps(driver):
        raise Failure("SARIF: a placeholder address is left in the driver")
    rules = driver.get("rules")
    if not isinstance(rules, list) or not rules:
        raise Failure("SARIF: tool.driver.rules must be a non-empty array")
    ids = []
    for i, rule in enumerate(rules):
        sarif_obj(rule, "rule", f"rules[{i}]")
        if not isinstance(rule.get("id"), str) or not rule["id"]:
            raise Failure(f"SARIF: rules[{i}].id must be a non-empty string")
        ids.append(rule["id"])
        sarif_text(rule.get("shortDescription"), f"rules[{i}].shortDescription")
        for key in ("fullDescription", "help"):
            if key in rule:
                sarif_text(rule[key], f"rules[{i}].{key}")
        if "defaultConfiguration" in rule:
            conf = sarif_obj(rule["defaultConfiguration"], "config",
                             f"rules[{i}].defaultConfiguration")
            if conf.get("level", "warning") not in ("none", "note", "warning", "error"):
                raise Failure(f"SARIF: rules[{i}].defaultConfiguration.level is invalid")
        sarif_props(rule, f"rules[{i}]")
    if len(set(ids)) != len(ids):
        raise Failure(f"SARIF: rule ids must be unique: {ids}")
    base_ids = set()
    if "originalUriBaseIds" in run_:
        for name, base in run_["originalUriBaseIds"].items():
            sarif_obj(base, "artifact", f"originalUriBaseIds.{name}")
            uri = base.get("uri", "")
            if not ABS_URI_RE.match(uri) or not uri.endswith("/"):
                raise Failure(f"SARIF: originalUriBaseIds.{name}.uri must be an absolute URI "
                              f"ending in '/', is {uri!r}")
            base_ids.add(name)
    results = run_.get("results")
    if not isinstance(results, list):
        raise Failure("SARIF: runs[0].results must be an array")
    for i, res in enumerate(results):
        where = f"results[{i}]"
        sarif_obj(res, "result", where)
        if res.get("ruleId") not in ids:
            raise Failure(f"SARIF: {where}.ruleId {res.get('ruleId')!r} is not among the rules")
        if "ruleIndex" in res and (not isinstance(res["ruleIndex"], int) or
                                   not 0 <= res["ruleIndex"] < len(rules) or
                                   rules[res["ruleIndex"]]["id"] != res["ruleId"]):
            raise Failure(f"SARIF: {where}.ruleIndex does not point at rule {res['ruleId']!r}")
        if res.get("level", "warning") not in ("none", "note", "warning", "error"):
            raise Failure(f"SARIF: {where}.level is invalid")
        sarif_text(res.get("message"), where + ".message", "message")
        locs = res.get("locations")
        if not isinstance(locs, list) or not locs:
            raise Failure(f"SARIF: {where}.locations must be a non-empty array")
        for k, loc in enumerate(locs):
            sarif_location(loc, f"{where}.locations[{k}]", base_ids)
        rel_ids = set()
        for k, loc in enumerate(res.get("relatedLocations", [])):
            sarif_location(loc, f"{where}.relatedLocations[{k}]", base_ids)
            if loc.get("id") in rel_ids:
                raise Failure(f"SARIF: {where}.relatedLocations ids must be unique")
            rel_ids.add(loc.get("id"))
        for key in ("fingerprints", "partialFingerprints"):
            if key in res and not all(isinstance(v, str) for v in res[key].values()):
                raise Failure(f"SARIF: {where}.{key} values must be strings")
        sarif_props(res, where)
    if want_results is not None and len(results) != want_results:
        raise Failure(f"SARIF: expected {want_results} results, got {len(results)}")
    return run_


# ---- the cases --------------------------------------------------------------------------------


def case_cli(ctx):
    p = run([ctx.lw, "--version"])
    expect_status(p, 0)
    expect(p.stdout.startswith(f"lockwatch {ctx.version}\n"),
           f"--version must print 'lockwatch {ctx.version}' first", p)
    want = os.path.realpath(ctx.preload)
    expect(f"preload: {want}\n" in p.stdout, f"--version must name the preload {want}", p)
    for cmd in ("run", "report", "graph", "sarif"):
        p = run([ctx.lw, cmd, "--help"])
        expect_status(p, 0)
        expect(p.stdout.startswith(f"usage: lockwatch {cmd}"), f"{cmd} --help: no usage", p)
        expect(p.stderr == "", f"{cmd} --help must print nothing on stderr", p)
        p2 = run([ctx.lw, "help", cmd])
        expect(p2.returncode == 0 and p2.stdout == p.stdout, f"'help {cmd}' != '{cmd} --help'", p2)
    p = run([ctx.lw, "run", "--help"])
    for key in option_keys(ctx):
        expect(re.search(rf"^  {key} ", p.stdout, re.M), f"run --help must list option {key}", p)
    p = run([ctx.lw, "--help"])
    expect_status(p, 0)
    for cmd in ("run", "report", "graph", "sarif"):
        expect(f"  {cmd} " in p.stdout, f"--help must list {cmd}", p)
    bad = [
        ([], "no command"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["--version", "x"], "--version"),
        (["help", "nope"], "unknown command 'nope'"),
        (["run"], "no program"),
        (["run", "--bogus", "--", "true"], "unknown option '--bogus'"),
        (["run", "-x", "true"], "unknown option '-x'"),
        (["run", "--json"], "'--json' needs a value"),
        (["run", "--exitcode", "abc", "--", "true"], "--exitcode abc"),
        (["run", "--exitcode", "256", "--", "true"], "--exitcode 256"),
        (["run", "--exitcode", "-1", "--", "true"], "--exitcode -1"),
        (["run", "--srcroot", "/x", "--", "true"], "--srcroot needs --sarif"),
        (["run", "--json", "/nonexistent/dir/x.json", "--", "true"], "/nonexistent/dir"),
        (["report"], "no JSON file"),
        (["report", "--bogus", "x.json"], "unknown option '--bogus'"),
        (["graph", "--format", "png", "x.json"], "unknown format 'png'"),
        (["graph", "--format"], "'--format' needs a value"),
        (["graph", "-o"], "'-o' needs a value"),
        (["graph"], "no JSON file"),
        (["sarif", "--srcroot"], "'--srcroot' needs a value"),
        (["sarif", "--srcroot", "", "x.json"], "--srcroot is empty"),
        (["sarif"], "no JSON file"),
    ]
    for args, needle in bad:
        p = run([ctx.lw] + args)
        expect_one_error_line(p, needle, status=2)
        expect(p.stdout == "", f"{args}: nothing on stdout", p)


def option_keys(ctx):
    """Every key of lib/options.inc."""
    with open(os.path.join(ctx.src, "lib", "options.inc"), encoding="utf-8") as f:
        keys = re.findall(r"^LW_OPT_[A-Z]+\((\w+),", f.read(), re.M)
    if len(keys) < 5:
        raise Failure(f"found only {keys} in lib/options.inc")
    return keys


def case_manpage(ctx):
    man = os.path.join(ctx.src, "docs", "lockwatch.1")
    with open(man, encoding="utf-8") as f:
        text = f.read()
    expect(text.startswith(".\\\"") or text.startswith(".TH"), "docs/lockwatch.1 is not roff")
    expect(re.search(r"^\.TH LOCKWATCH 1 ", text, re.M), "no .TH LOCKWATCH 1 line")
    for key in option_keys(ctx):
        expect(re.search(rf"^\.B {key}$|^\.BR? {key}\b|\\fB{key}\\fR", text, re.M),
               f"the man page does not document LOCKWATCH_OPTIONS key {key}")
    for cmd in ("run", "report", "graph", "sarif"):
        expect(re.search(rf"^\.SS .*\b{cmd}\b", text, re.M), f"no .SS section for {cmd}")
        p = run([ctx.lw, cmd, "--help"])
        for opt in set(re.findall(r"(--[a-z][a-z-]+)", p.stdout)) - {"--help"}:
            roff = opt.replace("-", "\\-")
            expect(roff in text, f"the man page does not document {cmd} {opt}")
    for word in ("LOCKWATCH_PRELOAD", "EXIT STATUS", "SARIF", "\\-\\-version",
                 "lockwatch_add_test", "lockwatch::preload"):
        expect(word in text, f"the man page does not mention {word}")
    expect(f'"lockwatch {ctx.version}"' in text, f"the man page must say version {ctx.version}")
    groff = shutil.which("groff")
    if not groff:
        raise Skip("groff is not installed: the man page was not formatted")
    p = run([groff, "-man", "-ww", "-z", "-Tutf8", man])
    expect(p.returncode == 0 and p.stderr == "", "groff warns about the man page", p)


def write(ctx, name, data, mode="w"):
    path = ctx.path(name)
    with open(path, mode) as f:
        f.write(data)
    return path


def case_malformed(ctx):
    good = {"tool": "lockwatch", "version": "0.1.0", "pid": 1, "program": "/bin/x", "argv": [],
            "reports": [], "suppressed": [], "stats": {}}
    text = json.dumps(good, indent=2)
    cases = [
        ("truncated.json", text[:len(text) // 2], ["truncated.json", "truncated", "byte offset"]),
        ("garbage.json", '{"tool": "lockwatch", "reports": [1,}',
         ["garbage.json", "invalid JSON at byte offset 36 (line 1, column 37)"]),
        ("lines.json", '{\n  "tool": "lockwatch",\n  "reports": tru\n}',
         ["lines.json", "byte offset 41 (line 3, column 17)", "boolean expected"]),
        ("trailing.json", text + "\n{}", ["trailing.json", "more data after the document"]),
        ("nul.json", text[:10] + "\0" + text[10:], ["nul.json", "NUL", "byte offset 10"]),
        ("empty.json", "", ["empty.json", "empty file"]),
        ("blank.json", "  \n\n", ["blank.json", "white space"]),
        ("other.json", json.dumps({"tool": "other", "reports": []}),
         ["other.json", "not a lockwatch report document", '"tool": "lockwatch"']),
        ("array.json", "[1, 2]", ["array.json", "not a lockwatch report document"]),
        ("noreports.json", json.dumps({"tool": "lockwatch"}), ["noreports.json", '"reports"']),
        ("badreports.json", json.dumps(dict(good, reports={"a": 1})),
         ["badreports.json", '"reports" is not an array']),
        ("badreport.json", json.dumps(dict(good, reports=[{"id": 1}])),
         ["badreport.json", '"kind"']),
        ("badedges.json", json.dumps(dict(good, reports=[{"kind": INV, "edges": 3}])),
         ["badedges.json", "reports[0].edges is not an array"]),
        ("badreportobj.json", json.dumps(dict(good, suppressed=[3])),
         ["badreportobj.json", "suppressed[0] is not an object"]),
    ]
    cases.append(("utf8.json", '{"tool": "lockwatch", "reports": [], "x": "\udcff"}',
                  ["utf8.json", "byte offset 43", "utf-8"]))
    for name, data, needles in cases:
        path = ctx.path(name)
        with open(path, "wb") as f:
            f.write(data.encode("utf-8", "surrogateescape"))
        for cmd in (["report"], ["graph"], ["graph", "--format", "svg"], ["sarif"]):
            p = run([ctx.lw] + cmd + [path])
            expect_one_error_line(p, *needles, status=1)
            expect(p.stdout == "", f"{cmd} {name}: nothing on stdout", p)
    p = run([ctx.lw, "report", ctx.path("missing.json")])
    expect_one_error_line(p, "missing.json", "No such file", status=1)
    p = run([ctx.lw, "sarif", ctx.tmp])
    expect_one_error_line(p, "directory", status=1)
    # A valid document after a bad one still fails the command (no partial output).
    ok = write(ctx, "ok.json", text)
    p = run([ctx.lw, "report", ok, ctx.path("truncated.json")])
    expect_one_error_line(p, "truncated.json", status=1)
    # Hand-written documents with odd but valid content must not crash anything.
    odd = dict(good, reports=[
        {"kind": INV, "edges": [{"from": "M1"}, {}], "locks": [{"id": 3}], "threads": [{}]},
        {"kind": "deadlock", "events": [{"what": "wait"}, {"what": "held", "lock": "M9"}]},
        {"kind": "future-kind", "summary": "future-kind x.c:1",
         "events": [{"what": "lock", "lock": "M1", "thread": "T1",
                     "stack": [{"file": "/src/x.c", "line": 1}, 7, None]}]},
        {"kind": "double-lock", "events": [{"what": "lock", "lock": None}]}])
    path = write(ctx, "odd.json", json.dumps(odd))
    for cmd in (["report"], ["graph"], ["sarif"]):
        p = run([ctx.lw] + cmd + [path])
        expect_status(p, 0)
    p = run([ctx.lw, "sarif", path])
    log = json.loads(p.stdout)
    rule_ids = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    expect("future-kind" in rule_ids, "a kind lockwatch does not know must get a rule too", p)


def case_run_naive(ctx):
    need_bank(ctx)
    out = ctx.path("naive.json")
    p = lw_run(ctx, "--json", out, "--", ctx.bank, "--variant=naive")
    expect_status(p, 66)
    expect("total: 40000 (expected 40000)" in p.stdout, "the program's output must pass through", p)
    s = summary_line(p)
    expect(s == {"reports": 1, "suppressed": 0, "procs": 1, "status": 66}, f"counts {s}", p)
    expect(re.search(r"^lockwatch: lock-order-inversion bank\.c:\d+ in transfer_naive "
                     r"\(pid \d+, bank\)$", p.stderr, re.M),
           "expected one line per report: kind, location, pid, program", p)
    doc = load_json(out)
    pids = check_merged(doc)
    expect(len(pids) == 1, "one process", p)
    expect([r["kind"] for r in doc["reports"]] == [INV], f"reports {doc['reports']!r}")
    expect(os.path.basename(doc["program"]) == "bank", f"program {doc['program']!r}")
    expect(doc["argv"][1:] == ["--variant=naive"], f"argv {doc['argv']!r}")
    expect(doc["stats"].get("threads", 0) >= 3, f"stats {doc['stats']!r}")
    # The private directory was removed.
    left = [d for d in os.listdir(ctx.tmp) if d.startswith("lockwatch.")]
    expect(not left, f"temporary directories left behind: {left}")


def preload_list(ctx):
    """LD_PRELOAD for a program run under the preload directly (the sanitizer runtime first
    in make check-asan)."""
    first = os.environ.get("LWCHECK_PRELOAD_FIRST")
    return f"{first}:{ctx.preload}" if first else ctx.preload


def class_doc(ctx, mode, name):
    """Runs the lock-class scenario in mode under the preload; returns its document's path."""
    out = ctx.path(name)
    env = {"LD_PRELOAD": preload_list(ctx), "LOCKWATCH_OPTIONS": f"json_path={out}"}
    p = run([ctx.classprog, mode], env=env)
    return p, out


def case_merge_cross_run(ctx):
    # Two runs, one order each: each is silent alone, the merge reports the inversion.
    p1, ab = class_doc(ctx, "alpha-beta", "ab.json")
    p2, ba = class_doc(ctx, "beta-alpha", "ba.json")
    expect_status(p1, 0)
    expect_status(p2, 0)
    for path in (ab, ba):
        doc = load_json(path)
        expect(doc["reports"] == [], f"{path}: no report alone")
        expect(doc["schema"] == 3 and len(doc["class_units"]) == 1,
               f"{path}: schema 3, one class unit: {doc.get('class_units')}")
        unit = doc["class_units"][0]
        expect(len(unit["edges"]) == 1 and len(unit["edges"][0]) == 6,
               f"{path}: one class edge, found {unit['edges']}")
        names = [unit["classes"][k][3] for k in unit["edges"][0][:2]]
        expect(sorted(names) == ["alpha", "beta"], f"{path}: the edge indexes its classes: {names}")
    alone = ctx.path("alone.json")
    p = run([ctx.lw, "merge", "-o", alone, ab, ab])
    expect_status(p, 0)
    out = ctx.path("merged.json")
    p = run([ctx.lw, "merge", "-o", out, ab, ba])
    expect_status(p, 66)
    expect("1 found only across documents" in p.stderr, "the merge says what it found", p)
    doc = load_json(out)
    expect(len(doc["reports"]) == 1, f"one report, found {len(doc['reports'])}")
    r = doc["reports"][0]
    expect(r["kind"] == INV and r["class_level"] and r["across_documents"], f"report {r!r}")
    names = sorted(l.get("class_name") for l in r["locks"])
    expect(names == ["alpha", "beta"], f"classes named alpha and beta, found {names}")
    pids = {e["pid"] for e in r["edges"]}
    docs = {os.path.basename(e["document"]) for e in r["edges"]}
    expect(len(pids) == 2 and docs == {"ab.json", "ba.json"},
           f"each edge names its document and pid: {pids} {docs}")
    expect(all(e["acquired"] and e["held"] for e in r["edges"]), "both stacks of each edge")
    # report, graph and sarif read the merged document
    p = run([ctx.lw, "report", out])
    expect("class-level: instances never taken in both orders" in p.stdout, "report text", p)
    expect(re.search(r"in process \d+ \(scn_class\), from .*ba\.json", p.stdout),
           "the text names each edge's process and document", p)
    p = run([ctx.lw, "sarif", out])
    expect_status(p, 0)
    expect(json.loads(p.stdout)["runs"][0]["results"], "a SARIF result", p)
    p = run([ctx.lw, "graph", "--format", "dot", out])
    expect_status(p, 0)
    expect("alpha" in p.stdout and "beta" in p.stdout, "the graph names the classes", p)


def schema2(doc):
    """The document as lockwatch wrote it before schema 3: classes, class edges and stacks as
    objects with string keys."""
    unit = doc.pop("class_units")[0]
    doc["schema"] = 2
    modes = ("write", "read")
    doc["classes"] = [{"id": c[0], "how": c[1], "type": c[2], "name": c[3], "module": c[4],
                       "offset": c[5], "instances": c[6],
                       "created": unit["stacks"][c[7]]["frames"] if c[7] >= 0 else []}
                      for c in unit["classes"]]
    doc["class_graph"] = [{"from": unit["classes"][e[0]][0], "to": unit["classes"][e[1]][0],
                           "from_mode": modes[e[2] >> 1], "to_mode": modes[e[2] & 1],
                           "thread": f"T{e[3]}", "acquired": unit["stacks"][e[4]]["id"],
                           "held": unit["stacks"][e[5]]["id"]} for e in unit["edges"]]
    doc["stacks"] = unit["stacks"]
    return doc


def case_merge_schema2(ctx):
    # Documents of the previous schema still merge, alone and with schema-3 ones, to the same
    # report; and the merged document (schema 3) reads back.
    _, ab = class_doc(ctx, "alpha-beta", "ab.json")
    _, ba = class_doc(ctx, "beta-alpha", "ba.json")
    old = {}
    for path in (ab, ba):
        old[path] = ctx.path("v2-" + os.path.basename(path))
        with open(old[path], "w", encoding="utf-8") as f:
            json.dump(schema2(load_json(path)), f)
    reports = {}
    for name, pair in (("new", [ab, ba]), ("old", [old[ab], old[ba]]), ("mixed", [old[ab], ba])):
        out = ctx.path(f"merged-{name}.json")
        p = run([ctx.lw, "merge", "-o", out] + pair)
        expect_status(p, 66)
        doc = load_json(out)
        expect(doc["schema"] == 3 and len(doc["class_units"]) == 1, f"{name}: one merged unit")
        unit = doc["class_units"][0]
        expect(len(unit["edges"]) == 2 and all(len(e) == 7 for e in unit["edges"]),
               f"{name}: two edges, each with its origin: {unit['edges']}")
        expect(sorted(o[0] for o in unit["origins"]) == sorted({e["pid"] for e in
                                                                 doc["reports"][0]["edges"]}),
               f"{name}: the origins are the two processes: {unit['origins']}")
        r = doc["reports"][0]
        for e in r["edges"]:
            e["document"] = os.path.basename(e["document"]).replace("v2-", "")
        reports[name] = r
        again = ctx.path(f"again-{name}.json")
        p = run([ctx.lw, "merge", "-o", again, out])
        expect_status(p, 66)
        expect(load_json(again)["class_units"][0]["edges"] == unit["edges"],
               f"{name}: a merged document merges to itself")
    expect(reports["old"] == reports["new"] == reports["mixed"],
           f"the same report from either schema: {reports!r}")
    # a malformed unit is named with its row
    bad = load_json(ab)
    bad["class_units"][0]["edges"][0][1] = 7
    badp = ctx.path("bad-unit.json")
    with open(badp, "w", encoding="utf-8") as f:
        json.dump(bad, f)
    p = run([ctx.lw, "merge", "-o", ctx.path("m.json"), badp, ba])
    expect_status(p, 1)
    expect(re.search(r"bad-unit\.json: class_units\[0\]\.edges\[0\]: expected \[from, to", p.stderr),
           "the bad row is named", p)


def case_merge_bad_input(ctx):
    _, ab = class_doc(ctx, "alpha-beta", "ab.json")
    _, ba = class_doc(ctx, "beta-alpha", "ba.json")
    trunc = ctx.path("truncated.json")
    with open(ab, encoding="utf-8") as f, open(trunc, "w", encoding="utf-8") as g:
        g.write(f.read()[:200])
    foreign = ctx.path("foreign.json")
    with open(foreign, "w", encoding="utf-8") as g:
        g.write('{"hello": "world"}\n')
    out = ctx.path("merged.json")
    p = run([ctx.lw, "merge", "-o", out, ctx.path("missing.json"), trunc, foreign, ab, ba])
    expect_status(p, 66)
    for name in ("missing.json", "truncated.json", "foreign.json"):
        expect(re.search(r"^lockwatch: .*" + re.escape(name), p.stderr, re.M),
               f"an error line names {name}", p)
    expect("3 of 5 documents could not be read" in p.stderr, "the count of unreadable inputs", p)
    expect(len(load_json(out)["reports"]) == 1, "the readable documents were merged")
    p = run([ctx.lw, "merge", "-o", ctx.path("none.json"), foreign])
    expect_status(p, 1)
    p = run([ctx.lw, "merge", ab])
    expect_status(p, 2)
    expect("missing -o" in p.stderr, "a usage error names what is missing", p)


def case_merge_dedup(ctx):
    # The same bug in three runs is one report, counted, naming the other pids.
    paths = []
    for i in range(3):
        p, path = class_doc(ctx, "wrapped", f"w{i}.json")
        expect_status(p, 66)
        paths.append(path)
    out = ctx.path("merged.json")
    p = run([ctx.lw, "merge", "-o", out] + paths)
    expect_status(p, 66)
    doc = load_json(out)
    expect(len(doc["reports"]) == 1, f"one report, found {len(doc['reports'])}")
    r = doc["reports"][0]
    expect(r["instances"] == 12, f"4 instance cycles in each of 3 runs, found {r['instances']}")
    expect(len(r.get("also_in", [])) == 2, f"the two other pids, found {r.get('also_in')}")


def case_run_cross_process(ctx):
    # lockwatch run merges the documents of its processes, class graphs included.
    out = ctx.path("run.json")
    script = f"{ctx.classprog} alpha-beta && {ctx.classprog} beta-alpha"
    p = lw_run(ctx, "--json", out, "--", "/bin/sh", "-c", script)
    expect_status(p, 66)
    doc = load_json(out)
    expect(len(doc["reports"]) == 1 and doc["reports"][0]["across_documents"],
           f"one inversion across processes: {doc['reports']!r}")


def preload_env(ctx, opts):
    return {"LD_PRELOAD": preload_list(ctx), "LOCKWATCH_OPTIONS": opts}


def case_json_path_shared(ctx):
    need_bank(ctx)
    # A fixed json_path and a program that runs others: the file ends holding the bank's report.
    out = ctx.path("fixed.json")
    p = run(["sh", "-c", f"'{ctx.bank}' --variant=naive; true"], env=preload_env(ctx, f"json_path={out}"))
    expect_status(p, 0)
    doc = load_json(out)
    banks = [r for r in doc["reports"] if r["kind"] == INV]
    expect(len(banks) == 1, f"the bank's report is kept: {doc['reports']!r}")
    progs = sorted(os.path.basename(x["program"]) for x in doc["processes"])
    expect(progs == ["bank", "dash"] or progs == ["bank", "sh"] or progs == ["bank", "bash"],
           f"both processes: {progs}")
    p = run([ctx.lw, "report", out])
    expect("(potential deadlock)" in p.stdout, "lockwatch report reads the file", p)
    # Eight processes writing the same path at once: eight reports.
    out8 = ctx.path("eight.json")
    script = f"for i in 1 2 3 4 5 6 7 8; do '{ctx.bank}' --variant=naive >/dev/null 2>&1 & done; wait"
    p = run(["sh", "-c", script], env=preload_env(ctx, f"json_path={out8}"))
    doc = load_json(out8)
    pids = {r["pid"] for r in doc["reports"]}
    expect(len(doc["reports"]) == 8 and len(pids) == 8, f"8 reports of 8 pids: {sorted(pids)}")
    # The next run replaces the file (a document of an earlier run is not merged).
    p = run([ctx.bank, "--variant=ordered"], env=preload_env(ctx, f"json_path={out8}"))
    expect_status(p, 0)
    doc = load_json(out8)
    expect(doc["reports"] == [] and "processes" not in doc, "a new run starts a new document")
    # run_id set by the user joins separate commands.
    outj = ctx.path("joined.json")
    for variant in ("naive", "ordered", "naive"):
        run([ctx.bank, f"--variant={variant}"], env=preload_env(ctx, f"json_path={outj}:run_id=suite"))
    doc = load_json(outj)
    expect(len(doc["processes"]) == 3 and len(doc["reports"]) == 2,
           f"three processes, two reports: {len(doc['processes'])} {len(doc['reports'])}")


def case_json_path_fifo(ctx):
    # A json_path that is not a regular file (a FIFO here, /dev/null for a user) is written
    # into, never replaced by a renamed file.
    need_bank(ctx)
    import stat
    import threading
    fifo = ctx.path("doc.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    p = run([ctx.bank, "--variant=naive"], env=preload_env(ctx, f"json_path={fifo}"))
    reader.join(30)
    expect_status(p, 66)
    expect(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still a FIFO", p)
    expect(got and json.loads(got[0])["reports"], f"the document went through the FIFO: {got!r}")


def case_json_path_corrupt(ctx):
    need_bank(ctx)
    for name, content in (("truncated.json", '{"tool": "lockwatch", "reports": [{"id'),
                          ("foreign.json", '{"hello": "world"}\n')):
        out = ctx.path(name)
        with open(out, "w", encoding="utf-8") as f:
            f.write(content)
        p = run([ctx.bank, "--variant=naive"], env=preload_env(ctx, f"json_path={out}"))
        expect_status(p, 66)
        aside = [x for x in os.listdir(ctx.tmp) if x.startswith(name + ".corrupt.")]
        expect(len(aside) == 1, f"{name} kept aside: {os.listdir(ctx.tmp)}", p)
        with open(ctx.path(aside[0]), encoding="utf-8") as f:
            expect(f.read() == content, "kept unchanged")
        expect(re.search(r"^lockwatch: .*" + re.escape(name) + r" held .*kept as", p.stderr, re.M),
               "one line says what was kept aside and why", p)
        expect(len(load_json(out)["reports"]) == 1, "the new document is written")


def case_run_ordered(ctx):
    need_bank(ctx)
    out = ctx.path("ordered.json")
    p = lw_run(ctx, "--json", out, "--", ctx.bank, "--variant=ordered")
    expect_status(p, 0)
    s = summary_line(p)
    expect(s == {"reports": 0, "suppressed": 0, "procs": 1, "status": 0}, f"counts {s}", p)
    expect("(potential deadlock)" not in p.stderr, "a clean run prints no report", p)
    doc = load_json(out)
    check_merged(doc)
    expect(doc["reports"] == [] and doc["suppressed"] == [], "no reports expected")


def case_run_exitcode(ctx):
    need_bank(ctx)
    p = lw_run(ctx, "--exitcode", "42", "--", ctx.bank, "--variant=naive")
    expect_status(p, 42)
    p = lw_run(ctx, "--exitcode", "0", "--", ctx.bank, "--variant=naive")
    expect_status(p, 0)
    expect(summary_line(p)["reports"] == 1, "the report is still counted", p)
    p = lw_run(ctx, "--exitcode", "42", "--", ctx.bank, "--variant=ordered")
    expect_status(p, 0)
    # An exit code from the environment's LOCKWATCH_OPTIONS is kept, --exitcode wins over it.
    p = lw_run(ctx, "--", ctx.bank, "--variant=naive", env={"LOCKWATCH_OPTIONS": "exitcode=43"})
    expect_status(p, 43)
    p = lw_run(ctx, "--exitcode", "44", "--", ctx.bank, "--variant=naive",
               env={"LOCKWATCH_OPTIONS": "exitcode=43"})
    expect_status(p, 44)
    # --options reach the runtime: halt_on_error ends the program at the first report.
    p = lw_run(ctx, "--options", "halt_on_error=1:verbosity=0", "--", ctx.bank, "--variant=naive")
    expect_status(p, 66)
    expect("total:" not in p.stdout, "halt_on_error=1 must stop the bank early", p)


def case_run_status(ctx):
    need_bank(ctx)
    # A failing program keeps its status, reports or not.
    p = lw_run(ctx, "--", "sh", "-c", f"'{ctx.bank}' --variant=naive; exit 3")
    expect_status(p, 3)
    expect(summary_line(p)["reports"] == 1, "the report of the child is counted", p)
    p = lw_run(ctx, "--", ctx.bank, "--variant=bogus")
    expect(p.returncode not in (0, 66), "bank --variant=bogus fails with its own status", p)
    # Reports in a child of a program that exits 0 still fail the run.
    p = lw_run(ctx, "--", "sh", "-c", f"'{ctx.bank}' --variant=naive; exit 0")
    expect_status(p, 66)


def case_run_signal(ctx):
    need_bank(ctx)
    p = lw_run(ctx, "--", "sh", "-c", "kill -TERM $$")
    expect_status(p, 128 + 15)
    expect("killed by signal 15" in p.stderr, "the signal must be named", p)
    p = lw_run(ctx, "--", "sh", "-c", "kill -KILL $$")
    expect_status(p, 128 + 9)
    # SIGTERM sent to lockwatch goes to the program, and lockwatch still reports.
    # (Short sleeps: a long one would keep our pipes open after the shell ends.)
    script = ("trap 'exit 7' TERM; echo ready; i=0; "
              "while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done")
    proc = subprocess.Popen([ctx.lw, "run", "--", "sh", "-c", script], env=clean_env(lockwatch_run=True),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready = proc.stdout.readline()
    expect(ready == "ready\n", f"the shell did not start: {ready!r}")
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("lockwatch run did not end after SIGTERM")
    expect(proc.returncode == 7, f"SIGTERM must reach the program (exit 7), got "
           f"{proc.returncode}; stderr:\n{err}")
    expect(re.search(r"^lockwatch: 0 reports, 0 suppressed, from \d+ process(es)?; exit status 7",
                     err, re.M), f"lockwatch must still print its counts; stderr:\n{err}")


def case_run_exec_child(ctx):
    need_bank(ctx)
    out = ctx.path("exec.json")
    p = lw_run(ctx, "--json", out, "--", "sh", "-c", f"exec '{ctx.bank}' --variant=naive")
    expect_status(p, 66)
    doc = load_json(out)
    check_merged(doc)
    expect([r["kind"] for r in doc["reports"]] == [INV], "the exec'd bank's report", p)
    expect(os.path.basename(doc["processes"][0]["program"]) == "bank",
           f"the exec'd program is bank: {doc['processes']!r}")


def case_run_two_processes(ctx):
    need_bank(ctx)
    out = ctx.path("two.json")
    script = f"'{ctx.bank}' --variant=naive; '{ctx.bank}' --variant=naive; exit 0"
    p = lw_run(ctx, "--json", out, "--", "sh", "-c", script)
    expect_status(p, 66)
    s = summary_line(p)
    # The same bug in two processes is one report, counted, naming both pids.
    expect(s["reports"] == 1 and s["procs"] >= 2, f"counts {s}", p)
    doc = load_json(out)
    pids = check_merged(doc, nprocs_min=2)
    rpids = [r["pid"] for r in doc["reports"]] + doc["reports"][0].get("also_in", [])
    expect(len(rpids) == 2 and len(set(rpids)) == 2, f"one report from two pids: {rpids}")
    expect(doc["reports"][0]["instances"] == 2, f"two instances: {doc['reports'][0]!r}")
    banks = [pr for pr in doc["processes"] if os.path.basename(pr["program"] or "") == "bank"]
    expect(len(banks) == 2, f"two bank processes: {doc['processes']!r}")
    expect(set(rpids) <= pids, "report pids are processes")
    # The merged document reads back like any other.
    p = run([ctx.lw, "report", out])
    expect_status(p, 0)
    expect(p.stdout.count("(potential deadlock)") == 1, "one report in the text", p)
    expect(f"(pid {rpids[0]})" in p.stdout, f"the text names pid {rpids[0]}", p)


def case_run_daemon(ctx):
    # The daemon's AB/BA comes after its parent (the program) has exited: run waits for it.
    out = ctx.path("daemon.json")
    start = time.monotonic()
    p = lw_run(ctx, "--json", out, "--", ctx.daemon, "abba")
    expect_status(p, 66)
    s = summary_line(p)
    expect(s["reports"] == 1 and s["procs"] == 2, f"counts {s}", p)
    expect("wrote no document" not in p.stderr, "every process wrote its document", p)
    expect(time.monotonic() - start < 8, "run ends when the daemon does", p)
    doc = load_json(out)
    expect([r["kind"] for r in doc["reports"]] == ["lock-order-inversion"], f"{doc['reports']!r}")


def case_run_daemon_ordered(ctx):
    p = lw_run(ctx, "--", ctx.daemon, "ordered")
    expect_status(p, 0)
    s = summary_line(p)
    expect(s["reports"] == 0 and s["procs"] == 2, f"counts {s}", p)
    expect("wrote no document" not in p.stderr, "every process wrote its document", p)


def case_run_daemon_killed(ctx):
    # A daemon killed by SIGKILL writes nothing: named in one line, and run does not wait the bound.
    start = time.monotonic()
    p = lw_run(ctx, "--wait-daemons", "20", "--", ctx.daemon, "killed")
    took = time.monotonic() - start
    expect_status(p, 0)
    lines = [l for l in p.stderr.splitlines() if "wrote no document" in l]
    expect(len(lines) == 1 and lines[0].startswith("lockwatch: run: 1 process wrote no document: "
                                                   "pid ") and "(tools_daemon)" in lines[0],
           "one line names the killed daemon, pid and program", p)
    expect(took < 10, f"run ends when the daemon dies ({took:.1f} s), not after the bound", p)


def case_run_daemon_linger(ctx):
    # A daemon that outlives the bound: run ends after it, naming the daemon as still running.
    # (its output goes to files: the daemon keeps a copy of lockwatch's stderr open)
    start = time.monotonic()
    cmd = [ctx.lw, "run", "--wait-daemons", "1", "--", ctx.daemon, "linger"]
    with open(ctx.path("out"), "w+") as out, open(ctx.path("err"), "w+") as err:
        rc = subprocess.run(cmd, env=clean_env(lockwatch_run=True), stdin=subprocess.DEVNULL,
                            stdout=out, stderr=err, timeout=30).returncode
        out.seek(0)
        err.seek(0)
        p = subprocess.CompletedProcess(cmd, rc, out.read(), err.read())
    took = time.monotonic() - start
    expect_status(p, 0)
    expect(took < 5, f"run ends within the bound ({took:.1f} s)", p)
    m = re.search(r"1 process wrote no document: pid (\d+) \(tools_daemon, still running\)",
                  p.stderr)
    expect(m is not None, "the lingering daemon is named as still running", p)
    os.kill(int(m.group(1)), signal.SIGKILL)
    p = run([ctx.lw, "run", "--wait-daemons", "x", "--", "true"])
    expect_one_error_line(p, "--wait-daemons x", "0 to 3600", status=2)


def case_run_deadlock(ctx):
    need_bank(ctx)
    out = ctx.path("deadlock.json")
    p = lw_run(ctx, "--json", out, "--", ctx.bank, "--deadlock", timeout=80)
    expect_status(p, 66)
    doc = load_json(out)
    kinds = [r["kind"] for r in doc["reports"]]
    expect("deadlock" in kinds, f"a deadlock report expected, got {kinds}", p)
    expect(re.search(r"^lockwatch: deadlock bank\.c:\d+ in transfer_naive", p.stderr, re.M),
           "the summary names the deadlock", p)
    g = run([ctx.lw, "graph", out])
    expect_status(g, 0)
    expect(re.search(r"-> n\d+ \[label=\"T\d+ waits\\n.*style=dashed", g.stdout),
           "the deadlock's waits are dashed edges", g)


def case_run_suppressions(ctx):
    need_bank(ctx)
    supp = write(ctx, "known.supp",
                 "# the naive bank is known\n\nlock-order-inversion:transfer_naive\n")
    out = ctx.path("supp.json")
    p = lw_run(ctx, "--suppressions", supp, "--json", out, "--", ctx.bank, "--variant=naive")
    expect_status(p, 0)
    s = summary_line(p)
    expect(s == {"reports": 0, "suppressed": 1, "procs": 1, "status": 0}, f"counts {s}", p)
    expect("lockwatch: suppressed: lock-order-inversion" in p.stderr, "the suppressed line", p)
    expect("by lock-order-inversion:transfer_naive" in p.stderr, "the rule is named", p)
    doc = load_json(out)
    expect(doc["reports"] == [] and len(doc["suppressed"]) == 1, "one suppressed report")
    expect(doc["suppressed"][0]["suppressed_by"] == "lock-order-inversion:transfer_naive",
           "suppressed_by")
    # A rule for another kind suppresses nothing.
    other = write(ctx, "other.supp", "double-lock:transfer_naive\n")
    p = lw_run(ctx, "--suppressions", other, "--", ctx.bank, "--variant=naive")
    expect_status(p, 66)
    # Works from another directory, through a relative path, for an exec'd program.
    sub = ctx.path("sub")
    os.mkdir(sub)
    p = run([ctx.lw, "run", "--suppressions", "../known.supp", "--", "sh", "-c",
             f"cd / && exec '{ctx.bank}' --variant=naive"], cwd=sub)
    expect_status(p, 0)
    expect(summary_line(p)["suppressed"] == 1, "suppressed in the exec'd program", p)
    # report --suppressed shows it.
    p = run([ctx.lw, "report", "--suppressed", out])
    expect("Suppressed by the rule lock-order-inversion:transfer_naive." in p.stdout,
           "report --suppressed", p)
    p = run([ctx.lw, "report", out])
    expect("(potential deadlock)" not in p.stdout, "report without --suppressed hides it", p)
    expect("lockwatch: 0 reports, 1 suppressed, from 1 process" in p.stdout, "counts", p)


def case_run_bad_suppressions(ctx):
    need_bank(ctx)
    bad = write(ctx, "bad.supp", "# fine\nlock-order-inversion:ok\nbogus-kind:transfer_naive\n")
    p = lw_run(ctx, "--suppressions", bad, "--", ctx.bank, "--variant=naive")
    expect_one_error_line(p, f"{bad}:3:", "bogus-kind", status=2)
    expect(p.stdout == "", "the program must not run", p)
    nocolon = write(ctx, "nocolon.supp", "\n\njust-a-word\n")
    p = lw_run(ctx, "--suppressions", nocolon, "--", ctx.bank)
    expect_one_error_line(p, "nocolon.supp:3:", status=2)
    empty_pat = write(ctx, "empty.supp", "deadlock:\n")
    p = lw_run(ctx, "--suppressions", empty_pat, "--", ctx.bank)
    expect_one_error_line(p, "empty.supp:1:", status=2)
    p = lw_run(ctx, "--suppressions", ctx.path("missing.supp"), "--", ctx.bank)
    expect_one_error_line(p, "missing.supp", "No such file", status=2)
    # Through --options too (the runtime's own key).
    p = lw_run(ctx, "--options", f"suppressions={bad}", "--", ctx.bank)
    expect_one_error_line(p, f"{bad}:3:", status=2)
    expect(p.stdout == "", "the program must not run", p)


def case_run_bad_options(ctx):
    need_bank(ctx)
    for opts, needle in (("bogus=1", "unknown option 'bogus'"), ("exitcode=300", "exitcode=300"),
                         ("verbosity", "'verbosity' has no value"),
                         ("log_path='x", "no closing"),
                         ("json_path=/tmp/x.json", "may not set json_path")):
        p = lw_run(ctx, "--options", opts, "--", ctx.bank, "--variant=naive")
        expect_one_error_line(p, needle, status=2)
        expect(p.stdout == "", "the program must not run", p)
    p = lw_run(ctx, "--", ctx.bank, env={"LOCKWATCH_OPTIONS": "bogus=2"})
    expect_one_error_line(p, "LOCKWATCH_OPTIONS in the environment", "bogus", status=2)


def case_run_preload(ctx):
    need_bank(ctx)
    lib = os.path.realpath(ctx.preload)
    show_env = ["sh", "-c", 'printf "%s\\n" "$LD_PRELOAD"']
    p = lw_run(ctx, "--", *show_env)
    expect_status(p, 0)
    expect(p.stdout == lib + "\n", f"LD_PRELOAD must be {lib}", p)
    # A user's LD_PRELOAD is kept, ours appended.
    noop = os.path.realpath(ctx.noop)
    p = lw_run(ctx, "--", *show_env, env={"LD_PRELOAD": noop})
    expect(p.stdout == f"{noop}:{lib}\n", "the user's LD_PRELOAD must come first, kept", p)
    p = lw_run(ctx, "--", *show_env, env={"LD_PRELOAD": f"{noop} {lib}"})
    expect(p.stdout == f"{noop} {lib}\n", "the preload is not added twice", p)
    # LOCKWATCH_PRELOAD picks the library.
    copy = ctx.path("copy-of-liblockwatch.so")
    shutil.copy(ctx.preload, copy)
    p = lw_run(ctx, "--", *show_env, env={"LOCKWATCH_PRELOAD": copy})
    expect(p.stdout == os.path.realpath(copy) + "\n", "LOCKWATCH_PRELOAD must be used", p)
    p = lw_run(ctx, "--", ctx.bank, "--variant=naive", env={"LOCKWATCH_PRELOAD": copy})
    expect_status(p, 66)
    p = lw_run(ctx, "--", ctx.bank, env={"LOCKWATCH_PRELOAD": ctx.path("nope.so")})
    expect_one_error_line(p, "LOCKWATCH_PRELOAD", "nope.so", status=1)
    expect(p.stdout == "", "the program must not run", p)
    # The command copied elsewhere (not installed, not in the build tree) cannot guess.
    lone = ctx.path("lockwatch")
    shutil.copy(ctx.lw, lone)
    p = run([lone, "run", "--", "true"])
    expect_one_error_line(p, "cannot find liblockwatch.so", "LOCKWATCH_PRELOAD", status=1)
    p = run([lone, "--version"])
    expect("preload: not found" in p.stdout, "--version says the preload is not found", p)


def case_run_missing_program(ctx):
    need_bank(ctx)
    p = lw_run(ctx, "--", ctx.path("no-such-program"))
    expect_one_error_line(p, "cannot run", "no-such-program", "No such file", status=127)
    p = lw_run(ctx, "--", "no-such-program-in-path")
    expect_one_error_line(p, "no-such-program-in-path", status=127)
    notexec = write(ctx, "notexec.sh", "echo hi\n")
    p = lw_run(ctx, "--", notexec)
    expect_one_error_line(p, "Permission denied", status=126)
    left = [d for d in os.listdir(ctx.tmp) if d.startswith("lockwatch.")]
    expect(not left, f"temporary directories left behind: {left}")


def case_run_outputs(ctx):
    need_bank(ctx)
    # Nothing written: a program that never loads the preload (no document at all).
    p = lw_run(ctx, "--", "true", env={"LOCKWATCH_PRELOAD": ctx.noop})
    expect_status(p, 1)
    expect("no process wrote a report document" in p.stderr, "must say nothing was checked", p)
    # --json and --sarif written even when clean; an existing file is replaced.
    out, sarif = ctx.path("o.json"), ctx.path("o.sarif")
    write(ctx, "o.json", "old")
    p = lw_run(ctx, "--json", out, "--sarif", sarif, "--", ctx.bank, "--variant=ordered")
    expect_status(p, 0)
    check_merged(load_json(out))
    check_sarif(load_json(sarif), want_results=0)
    leftovers = [f for f in os.listdir(ctx.tmp) if ".tmp." in f]
    expect(not leftovers, f"temporary output files left: {leftovers}")


def case_report_text(ctx):
    """lockwatch report prints exactly the blocks the runtime printed."""
    need_bank(ctx)
    runs = [("naive", [ctx.bank, "--variant=naive"], [], 1),
            ("deadlock", [ctx.bank, "--deadlock"], [], 2),
            ("misuse", [ctx.misuse, "--stall"], ["--options", "stall_ms=100"], 8)]
    for name, prog, extra, nblocks in runs:
        out = ctx.path(name + ".json")
        p = lw_run(ctx, "--json", out, *extra, "--", *prog, timeout=80)
        expect_status(p, 66)
        runtime = TEXT_BLOCK_RE.findall(p.stderr)
        expect(len(runtime) >= nblocks, f"{name}: expected {nblocks}+ reports on stderr", p)
        r = run([ctx.lw, "report", out])
        expect_status(r, 0)
        ours = TEXT_BLOCK_RE.findall(r.stdout)
        if ours != runtime:
            import difflib
            diff = "".join(difflib.unified_diff("".join(runtime).splitlines(True),
                                                "".join(ours).splitlines(True),
                                                "runtime stderr", "lockwatch report"))
            raise Failure(f"{name}: lockwatch report differs from the runtime's text:\n{diff}")
        expect(re.search(rf"^lockwatch: {len(ours)} reports?, 0 suppressed, from 1 process$",
                         r.stdout, re.M), "the counts line", r)
        if name == "misuse":
            kinds = {r["kind"] for r in load_json(out)["reports"]}
            want = {"double-lock", "unlock-not-owner", "cond-wait-unheld", INV,
                    "thread-exit-holding-lock", "destroy-locked", "stall"}
            expect(kinds == want, f"misuse: kinds {sorted(kinds)}, expected {sorted(want)}")
    r = run([ctx.lw, "report", ctx.path("naive.json")])
    expect(re.search(r"Cycle in lock order graph: M1 \(accounts, 0x[0-9a-f]+\) => "
                     r"M2 \(accounts\+64, 0x[0-9a-f]+\) => M1", r.stdout), "the cycle", r)


def case_report_multi(ctx):
    need_bank(ctx)
    a = naive_doc(ctx, "a.json")
    b = naive_doc(ctx, "b.json")
    clean = ctx.path("clean.json")
    expect_status(lw_run(ctx, "--json", clean, "--", ctx.bank, "--variant=ordered"), 0)
    p = run([ctx.lw, "report", a, b, clean])
    expect_status(p, 0)
    expect(p.stdout.count("SUMMARY: lockwatch: lock-order-inversion") == 2, "two reports", p)
    expect("lockwatch: 2 reports, 0 suppressed, from 3 processes\n" in p.stdout, "counts", p)
    p = run([ctx.lw, "report", clean])
    expect(p.stdout == "lockwatch: 0 reports, 0 suppressed, from 1 process\n", "clean", p)


def need_profile_prog(ctx):
    if not ctx.profile_prog:
        raise Skip("the profile scenario program was not built")


def profiled_doc(ctx, name="prof.json", options="profile=1", rounds=8):
    """Runs the profile scenario under the preload; returns (document path, its stderr)."""
    doc = ctx.path(name)
    env = clean_env()
    env["LD_PRELOAD"] = preload_list(ctx)
    env["LOCKWATCH_OPTIONS"] = f"{options}:json_path={doc}"
    p = run([ctx.profile_prog, "--rounds", str(rounds)], env=env)
    expect_status(p, 0)
    return doc, p.stderr


def case_profile_report(ctx):
    """lockwatch report --profile prints exactly the table the runtime printed."""
    need_profile_prog(ctx)
    doc, stderr = profiled_doc(ctx)
    expect(stderr.startswith("lockwatch: profile of pid "), "the runtime's table on stderr")
    p = run([ctx.lw, "report", "--profile", doc])
    expect_status(p, 0)
    if p.stdout != stderr:
        import difflib
        diff = "".join(difflib.unified_diff(stderr.splitlines(True), p.stdout.splitlines(True),
                                            "runtime stderr", "lockwatch report --profile"))
        raise Failure(f"lockwatch report --profile differs from the runtime's table:\n{diff}")
    expect(re.search(r"^ +1 +33 +\d+ .* M\d+ hot_lock \(mutex\)$", p.stdout, re.M),
           "hot_lock first, acquired 33 times (4 threads, 8 rounds, and main)", p)
    p = run([ctx.lw, "report", "--profile", "--top", "1", doc])
    expect_status(p, 0)
    expect("the 1 lock that made threads wait longest" in p.stdout and
           p.stdout.count(" M") == 1, "--top 1 shows one lock", p)
    # the same table with a narrower top from the runtime itself
    doc2, stderr2 = profiled_doc(ctx, "prof2.json", "profile=1:profile_top=3")
    p = run([ctx.lw, "report", "--profile", "--top", "3", doc2])
    expect(p.stdout == stderr2, "profile_top=3 and --top 3 give the same table", p)
    # bad input: a document without a profile, a bad --top
    plain, _ = profiled_doc(ctx, "plain.json", "profile=0")
    p = run([ctx.lw, "report", "--profile", doc, plain])
    expect_one_error_line(p, plain, "no profile", "profile=1", status=1)
    p = run([ctx.lw, "report", "--profile", "--top", "0", doc])
    expect_one_error_line(p, "--top", status=2)


def case_profile_graph(ctx):
    """lockwatch graph --weight wait shades the locks waited for, most waited darkest."""
    need_profile_prog(ctx)
    doc, _ = profiled_doc(ctx)
    p = run([ctx.lw, "graph", "--weight", "wait", doc])
    expect_status(p, 0)
    nodes = re.findall(r'^\s*n\d+ \[label="([^"]*)"(.*)\];$', p.stdout, re.M)
    expect(len(nodes) == 2, f"two locks made threads wait: {nodes}", p)
    hot = [n for n in nodes if "\\nhot_lock\\n" in n[0]]
    expect(len(hot) == 1 and 'fillcolor="/oranges9/9"' in hot[0][1] and
           re.search(r"waited \d+\.\d{3} ms, \d+ contended", hot[0][0]),
           "hot_lock is the darkest, with its wait", p)
    other = [n for n in nodes if n is not hot[0]][0]
    expect("created at scn_profile.c:" in other[0] and "/oranges9/9" not in other[1],
           "the pool lock, lighter", p)
    p = run([ctx.lw, "graph", doc])
    expect_status(p, 0)
    expect("oranges9" not in p.stdout and "waited" not in p.stdout, "no weight by default", p)
    plain, _ = profiled_doc(ctx, "plain.json", "profile=0")
    p = run([ctx.lw, "graph", "--weight", "wait", plain])
    expect_one_error_line(p, plain, "no profile", status=1)
    p = run([ctx.lw, "graph", "--weight", "heat", doc])
    expect_one_error_line(p, "unknown weight 'heat'", status=2)


def case_profile_merge(ctx):
    """lockwatch run merges the profiles of its processes: the same lock adds up."""
    need_profile_prog(ctx)
    out = ctx.path("merged.json")
    prog = ctx.profile_prog
    p = lw_run(ctx, "--json", out, "--options", "profile=1", "--", "/bin/sh", "-c",
               f"'{prog}' --rounds 5 && '{prog}' --rounds 4")
    expect_status(p, 0)
    doc = load_json(out)
    prof = doc.get("profile")
    expect(isinstance(prof, dict), "a merged profile")
    hot = [l for l in prof["locks"] if l.get("name") == "hot_lock"]
    expect(len(hot) == 1, f"one hot_lock entry: {hot}")
    hot = hot[0]
    expect(hot["acquisitions"] == (4 * 5 + 1) + (4 * 4 + 1) and hot["locks"] == 2 and len(hot["pids"]) == 2,
           f"hot_lock of both processes added up: {hot['acquisitions']}, {hot['locks']}, "
           f"{hot['pids']}")
    tables = re.findall(r"^ +\d+ +\d+ +(\d+) +(\d+)\.(\d{3}) .* hot_lock \(mutex\)$", p.stderr,
                        re.M)
    expect(len(tables) == 2, f"two runtime tables on stderr: {tables}", p)
    expect(hot["contended"] == sum(int(t[0]) for t in tables), "contended adds up", p)
    want_us = sum(int(t[1]) * 1000 + int(t[2]) for t in tables)  # each table truncates to 1 us
    expect(0 <= hot["wait_ns"] // 1000 - want_us <= 2, f"wait adds up: {hot['wait_ns']} ns, "
           f"the tables {want_us} us", p)
    expect(len(hot["wait_sites"]) == 1, f"one wait site, merged: {hot['wait_sites']}")
    r = run([ctx.lw, "report", "--profile", out])
    expect_status(r, 0)
    expect(re.search(r"^lockwatch: profile of \d+ processes: ", r.stdout, re.M) and
           re.search(r"M\d+ hot_lock \(mutex, 2 locks, 2 processes\)$", r.stdout, re.M),
           "the merged table", r)


def case_graph_dot(ctx):
    need_bank(ctx)
    doc = naive_doc(ctx)
    p = run([ctx.lw, "graph", doc])
    expect_status(p, 0)
    dot = p.stdout
    expect(dot.startswith("digraph lockwatch {") and dot.rstrip().endswith("}"), "a digraph", p)
    nodes = dict(re.findall(r'^\s*(n\d+) \[label="(M\d+\\n[^"]*)"', dot, re.M))
    expect(len(nodes) == 2, f"two lock nodes expected: {nodes}", p)
    by_name = {v.split("\\n")[1]: k for k, v in nodes.items()}
    expect(set(by_name) == {"accounts", "accounts+64"}, f"node names {by_name}", p)
    for k, v in nodes.items():
        expect(re.search(r"\\n0x[0-9a-f]+\\nmutex$", v), f"node {k} label {v!r}: address, type")
    a, b = by_name["accounts"], by_name["accounts+64"]
    line = marker_line(os.path.join(ctx.src, "demos", "bank.c"), "LW:naive-second")
    for x, y in ((a, b), (b, a)):
        m = re.search(rf'^\s*{x} -> {y} \[label="(T\d+)\\nbank\.c:{line}", color=red', dot, re.M)
        expect(m, f"edge {x} -> {y} (red, thread, bank.c:{line}) expected", p)
    expect("style=dashed" not in dot, "no dashed edge without a deadlock", p)
    expect(dot.count(", color=red") == 4, "2 red nodes and 2 red edges", p)
    # -o writes the same graph to a file.
    out = ctx.path("g.dot")
    p2 = run([ctx.lw, "graph", "--format", "dot", "-o", out, doc])
    expect(p2.returncode == 0 and p2.stdout == "", "-o: nothing on stdout", p2)
    with open(out) as f:
        expect(f.read() == dot, "-o FILE holds the same graph")
    # Two processes: one cluster each.
    doc2 = naive_doc(ctx, "naive2.json")
    p = run([ctx.lw, "graph", doc, doc2])
    expect(p.stdout.count("subgraph cluster_") == 2, "one cluster per process", p)
    expect(len(re.findall(r"^\s*n\d+ -> n\d+", p.stdout, re.M)) == 4, "four edges", p)
    if shutil.which("dot"):
        c = subprocess.run(["dot", "-Tcanon"], input=p.stdout, text=True, capture_output=True)
        expect(c.returncode == 0, f"dot rejects the graph: {c.stderr}")


def case_graph_svg(ctx):
    need_bank(ctx)
    if not shutil.which("dot"):
        raise Skip("Graphviz's dot is not installed")
    doc = naive_doc(ctx)
    p = run([ctx.lw, "graph", "--format", "svg", doc])
    expect_status(p, 0)
    expect("<svg" in p.stdout and "</svg>" in p.stdout, "an SVG document on stdout", p)
    expect("accounts+64" in p.stdout, "the SVG shows the lock names", p)
    out = ctx.path("g.svg")
    p = run([ctx.lw, "graph", "--format=svg", "--output", out, doc])
    expect(p.returncode == 0 and p.stdout == "", "svg -o", p)
    with open(out) as f:
        expect("</svg>" in f.read(), "the SVG file is complete")
    p = run([ctx.lw, "graph", "--format", "svg", "-o", ctx.path("nodir/g.svg"), doc])
    expect_one_error_line(p, "nodir/g.svg", status=1)


def case_graph_no_dot(ctx):
    need_bank(ctx)
    doc = naive_doc(ctx)
    p = run([ctx.lw, "graph", "--format", "svg", "-o", ctx.path("g.svg"), doc],
            env={"PATH": ctx.path("empty-path")})
    expect_one_error_line(p, "dot", "graphviz", "--format dot", status=1)
    expect(not os.path.exists(ctx.path("g.svg")), "no SVG file when dot is missing")
    leftovers = [f for f in os.listdir(ctx.tmp) if ".tmp." in f]
    expect(not leftovers, f"temporary files left: {leftovers}")


def check_bank_result(res, base, line_second, line_first):
    loc = res["locations"][0]["physicalLocation"]
    expect(loc["artifactLocation"]["uri"] == base["uri"], f"uri {loc['artifactLocation']!r}")
    expect(loc["artifactLocation"].get("uriBaseId") == base.get("uriBaseId"),
           f"uriBaseId {loc['artifactLocation']!r}")
    expect(loc["region"]["startLine"] == line_second,
           f"the location is bank.c:{line_second} (naive-second), got {loc['region']}")
    rel = res.get("relatedLocations", [])
    lines = sorted(r["physicalLocation"]["region"]["startLine"] for r in rel)
    expect(lines == sorted([line_first, line_second, line_first]),
           f"related locations at the other acquisitions, got lines {lines}")
    expect(res["ruleId"] == INV and res["level"] == "error", f"result {res!r}")
    expect(res["message"]["text"].startswith("lock-order-inversion bank.c:"), "summary message")


def case_sarif(ctx):
    need_bank(ctx)
    doc = naive_doc(ctx)
    bank_c = os.path.join(ctx.src, "demos", "bank.c")
    second = marker_line(bank_c, "LW:naive-second")
    first = marker_line(bank_c, "LW:naive-first")
    p = run([ctx.lw, "sarif", doc])
    expect_status(p, 0)
    log = json.loads(p.stdout)
    run_ = check_sarif(log, want_results=1)
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    for kind in (INV, "double-lock", "unlock-not-owner", "destroy-locked",
                 "thread-exit-holding-lock", "cond-wait-unheld", "deadlock", "stall"):
        expect(kind in rule_ids, f"no rule for {kind}")
    expect(run_["tool"]["driver"]["version"] == ctx.version, "driver version")
    # Without --srcroot, an absolute source path is a file: URI.
    abs_uri = "file://" + os.path.realpath(bank_c)
    check_bank_result(run_["results"][0], {"uri": abs_uri}, second, first)
    # With --srcroot, relative to SRCROOT.
    p = run([ctx.lw, "sarif", "--srcroot", ctx.src + "/", "-o", ctx.path("o.sarif"), doc])
    expect(p.returncode == 0 and p.stdout == "", "sarif -o", p)
    run_ = check_sarif(load_json(ctx.path("o.sarif")), want_results=1)
    expect(run_["originalUriBaseIds"]["SRCROOT"]["uri"] == "file://" + ctx.src.rstrip("/") + "/",
           f"SRCROOT {run_.get('originalUriBaseIds')}")
    check_bank_result(run_["results"][0], {"uri": "demos/bank.c", "uriBaseId": "SRCROOT"},
                      second, first)
    # A relative --srcroot is taken from the working directory.
    p = run([ctx.lw, "sarif", "--srcroot", ".", doc], cwd=ctx.src)
    check_bank_result(check_sarif(json.loads(p.stdout))["results"][0],
                      {"uri": "demos/bank.c", "uriBaseId": "SRCROOT"}, second, first)
    # The fingerprint is the same for the same problem in another run.
    doc2 = naive_doc(ctx, "naive2.json")
    p2 = run([ctx.lw, "sarif", doc, doc2])
    res = check_sarif(json.loads(p2.stdout), want_results=2)["results"]
    expect(res[0]["fingerprints"] == res[1]["fingerprints"], "stable fingerprints", p2)
    # The validator itself rejects what it must.
    broken = json.loads(p.stdout)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    try:
        check_sarif(broken)
    except Failure:
        pass
    else:
        raise Failure("the SARIF check accepted startLine 0")
    # Every kind of the misuse program.
    mis = ctx.path("misuse.json")
    expect_status(lw_run(ctx, "--json", mis, "--", ctx.misuse), 66)
    p = run([ctx.lw, "sarif", "--srcroot", ctx.src, mis])
    run_ = check_sarif(json.loads(p.stdout), want_results=7)
    for res in run_["results"]:
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        expect(uri == "tests/tools/misuse.c", f"{res['ruleId']}: located in misuse.c, not {uri}")


def case_sarif_run(ctx):
    need_bank(ctx)
    out = ctx.path("run.sarif")
    p = lw_run(ctx, "--sarif", out, "--srcroot", ctx.src, "--", ctx.bank, "--variant=naive")
    expect_status(p, 66)
    run_ = check_sarif(load_json(out), want_results=1)
    loc = run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    expect(loc == {"uri": "demos/bank.c", "uriBaseId": "SRCROOT"}, f"location {loc}")


def case_install(ctx):
    need_bank(ctx)
    prefix = ctx.path("prefix")
    p = run([ctx.cmake, "--install", ctx.build, "--prefix", prefix], timeout=120)
    expect_status(p, 0)
    lib_dirs = [d for d in ("lib", "lib64") if os.path.isdir(os.path.join(prefix, d))]
    expect(lib_dirs, "no lib directory installed", p)
    libdir = os.path.join(prefix, lib_dirs[0])
    for rel in ("bin/lockwatch", f"{lib_dirs[0]}/liblockwatch.so",
                "include/lockwatch/lockwatch.h", "share/man/man1/lockwatch.1",
                f"{lib_dirs[0]}/pkgconfig/lockwatch.pc",
                f"{lib_dirs[0]}/cmake/lockwatch/lockwatchConfig.cmake",
                f"{lib_dirs[0]}/cmake/lockwatch/lockwatchConfigVersion.cmake"):
        expect(os.path.isfile(os.path.join(prefix, rel)), f"{rel} was not installed", p)
    installed = os.path.join(prefix, "bin", "lockwatch")
    lib = os.path.realpath(os.path.join(libdir, "liblockwatch.so"))
    p = run([installed, "--version"])
    expect(f"preload: {lib}\n" in p.stdout, "the installed command uses the installed library", p)
    p = run([installed, "run", "--", ctx.bank, "--variant=naive"])
    expect_status(p, 66)
    # The Python layer, next to the library: python3 -m lockwatch goes through
    # the installed command, which loads the layer (semaphores=off: only it sees the locks).
    pydir = os.path.join(libdir, "lockwatch", "python")
    for rel in ("sitecustomize.py", "lockwatch/__init__.py", "lockwatch/__main__.py"):
        expect(os.path.isfile(os.path.join(pydir, rel)), f"the Python layer's {rel} was not installed")
    bank_py = os.path.join(ctx.src, "demos", "python", "bank.py")
    p = run([sys.executable, "-m", "lockwatch", bank_py, "--variant=naive"],
            env={"PYTHONPATH": pydir, "LOCKWATCH_OPTIONS": "semaphores=off"}, timeout=120)
    expect_status(p, 66)
    expect(re.search(r"lockwatch: lock-order-inversion bank\.py:\d+ in transfer_naive", p.stderr),
           "python3 -m lockwatch reports the bank's inversion in Python frames", p)
    # Without PYTHONPATH: the lockwatch.pth the install put in python3's site
    # directory for the prefix names the layer (a temporary prefix is no site
    # directory python3 reads by itself: site.addsitedir processes the .pth).
    pths = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files
            if f == "lockwatch.pth"]
    expect(len(pths) == 1, f"one lockwatch.pth installed under the prefix, not {pths}", p)
    with open(pths[0]) as f:
        named = f.read().strip()
    expect(os.path.realpath(named) == os.path.realpath(pydir),
           f"lockwatch.pth names the layer's directory {pydir}, not {named!r}")
    code = ("import runpy, site, sys; site.addsitedir(sys.argv.pop(1)); "
            "runpy.run_module('lockwatch', run_name='__main__', alter_sys=True)")
    p = run([sys.executable, "-c", code, os.path.dirname(pths[0]), bank_py, "--variant=naive"],
            env={"LOCKWATCH_OPTIONS": "semaphores=off", "PYTHONPATH": ""}, timeout=120)
    expect_status(p, 66)
    expect(re.search(r"lockwatch: lock-order-inversion bank\.py:\d+ in transfer_naive", p.stderr),
           "python3 -m lockwatch through lockwatch.pth reports the bank's inversion", p)
    # The installed tree works after a move.
    moved = ctx.path("moved")
    os.rename(prefix, moved)
    p = run([os.path.join(moved, "bin", "lockwatch"), "--version"])
    expect(f"preload: {os.path.realpath(moved)}/" in p.stdout, "relocatable install", p)
    os.rename(moved, prefix)
    # pkg-config.
    pkg = shutil.which("pkg-config") or shutil.which("pkgconf")
    if pkg:
        env = {"PKG_CONFIG_PATH": os.path.join(libdir, "pkgconfig")}
        p = run([pkg, "--variable=preload", "lockwatch"], env=env)
        expect(p.returncode == 0 and os.path.realpath(p.stdout.strip()) == lib,
               f"pkg-config --variable=preload must give {lib}", p)
        p = run([pkg, "--modversion", "lockwatch"], env=env)
        expect(p.stdout.strip() == ctx.version, "pkg-config version", p)
        p = run([pkg, "--libs", "lockwatch"], env=env)
        expect("-llockwatch" in p.stdout, "Libs names the library", p)
    # An outside project uses find_package(lockwatch) and lockwatch_add_test.
    ext_src = os.path.join(ctx.src, "tests", "tools", "external")
    ext = ctx.path("external")
    p = run([ctx.cmake, "-S", ext_src, "-B", ext, f"-DCMAKE_PREFIX_PATH={prefix}"], timeout=120)
    expect_status(p, 0)
    p = run([ctx.cmake, "--build", ext], timeout=120)
    expect_status(p, 0)
    p = run([ctx.ctest, "--test-dir", ext, "--output-on-failure", "-V"], timeout=120)
    expect_status(p, 0)
    for name in ("clean", "inversion", "inversion_suppressed", "only_ab", "only_ba", "suite_merge"):
        expect(re.search(rf"Test +#\d+: {name} \.+ +Passed", p.stdout), f"{name} must pass", p)
    merged = load_json(os.path.join(ext, "lockwatch-docs.merged.json"))
    expect(len(merged["reports"]) == 1 and merged["reports"][0].get("across_documents"),
           f"the suite's merge finds the inversion across its tests: {merged['reports']!r}")
    expect("lockwatch: lock-order-inversion abba.c:" in p.stdout,
           "the inversion test ran under lockwatch", p)
    expect(os.path.join(prefix, "bin", "lockwatch") in p.stdout,
           "the tests run the installed command", p)
    # Without WILL_FAIL, the inversion test fails: lockwatch_add_test really gates.
    p = run([ctx.ctest, "--test-dir", ext, "-R", "^inversion$", "--output-on-failure"],
            timeout=120)
    expect(p.returncode == 0, "ctest with WILL_FAIL passes", p)
    ctest_file = os.path.join(ext, "CTestTestfile.cmake")
    with open(ctest_file) as f:
        text = f.read()
    with open(ctest_file, "w") as f:
        f.write(text.replace("WILL_FAIL", "WILL_FAIL_OFF"))
    p = run([ctx.ctest, "--test-dir", ext, "-R", "^inversion$"], timeout=120)
    expect(p.returncode != 0, "the inversion test must fail without WILL_FAIL", p)


def case_cpack(ctx):
    need_bank(ctx)
    dpkg_deb = shutil.which("dpkg-deb")
    if not dpkg_deb:
        raise Skip("dpkg-deb is not installed")
    out = ctx.path("pkg")
    p = run([ctx.cpack, "-G", "DEB", "--config", os.path.join(ctx.build, "CPackConfig.cmake"),
             "-B", out], timeout=110)
    expect_status(p, 0)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    expect(len(debs) == 1, f"one .deb expected in {out}: {os.listdir(out)}", p)
    deb = os.path.join(out, debs[0])
    p = run([dpkg_deb, "-c", deb])
    expect_status(p, 0)
    files = {line.split()[-1] for line in p.stdout.splitlines() if line.strip()}
    for want in ("./usr/bin/lockwatch", "./usr/include/lockwatch/lockwatch.h",
                 "./usr/share/man/man1/lockwatch.1"):
        expect(want in files, f"{want} is not in the package", p)
    expect(any(re.fullmatch(r"\./usr/lib(64|/[^/]+)?/liblockwatch\.so", f) for f in files),
           "the library is not in the package", p)
    # python3 -m lockwatch without PYTHONPATH: a .pth in a site directory a
    # /usr Python reads (Debian's reads dist-packages, never site-packages)
    pths = [f for f in files if f.endswith("/lockwatch.pth")]
    expect(pths, "no lockwatch.pth in the package", p)
    if os.path.exists("/usr/bin/python3"):
        q = run(["/usr/bin/python3", "-c", "import sys; print('\\n'.join(sys.path))"])
        read = {"." + d for d in q.stdout.split()}
        expect(any(os.path.dirname(f) in read for f in pths),
               f"{pths} in no directory /usr/bin/python3 reads ({sorted(read)})", p)
    for field, want in (("Package", "lockwatch"), ("Version", ctx.version),
                        ("Depends", "libc6, libdw1, libjson-c5"),
                        ("Maintainer", "lockwatch developers")):
        p = run([dpkg_deb, "-f", deb, field])
        expect(p.stdout.strip() == want, f"{field}: expected {want!r}", p)


# ---- HTML pages ------------------------------------------------------------------------------


def words(node):
    """The text of a DOM node with its white space collapsed."""
    return " ".join(node.text().split()) if node is not None else ""


def html_report(ctx, name, *args, cwd=None):
    """lockwatch report --html NAME ARGS...: checks it says nothing; returns the page's path and
    its DOM (its markup checked: well nested, nothing loaded from outside, links that lead)."""
    out = ctx.path(name)
    p = run([ctx.lw, "report", "--html", out] + list(args), cwd=cwd)
    expect(p.returncode == 0 and p.stdout == "" and p.stderr == "", "report --html", p)
    return out, page_dom(out)


def page_dom(path):
    with open(path, encoding="utf-8") as f:
        return hc.check_static(f.read(), os.path.basename(path))


def in_browser(path):
    """The page as Chromium renders it (checked: its script ran, nothing refused), or None if
    Chromium is not installed (the markup was checked all the same)."""
    try:
        chromium = hc.find_chromium()
    except hc.Skip:
        return None
    dom = hc.dump_dom(chromium, path)
    hc.check_rendered(dom, os.path.basename(path))
    return dom


def verdict(dom):
    row = [tr for tr in dom.find("table", cls="facts").find_all("tr") if words(tr.find("th")) ==
           "Verdict"]
    expect(len(row) == 1, "the summary has one Verdict row")
    return words(row[0].find("td"))


def case_html_empty(ctx):
    need_bank(ctx)
    out, page = ctx.path("clean.json"), ctx.path("clean.html")
    p = lw_run(ctx, "--json", out, "--html", page, "--", ctx.bank, "--variant=ordered")
    expect_status(p, 0)
    for path in (page, html_report(ctx, "clean2.html", out)[0]):
        for dom in filter(None, (page_dom(path), in_browser(path))):
            text = words(dom.find("body"))
            expect("No report: lockwatch found nothing wrong in 1 process." in text,
                   f"{path}: the page must say there is no report")
            expect(verdict(dom).startswith("PASS"), f"{path}: verdict {verdict(dom)!r}")
            expect(not dom.find_all("details", cls="report"), f"{path}: no report block")
            expect(dom.find("svg") is None, f"{path}: no graph without a report")
    expect(verdict(page_dom(page)) == "PASS lockwatch run exited with status 0: 0 reports fail "
           "the run.", f"run's verdict: {verdict(page_dom(page))!r}")


def case_html_deadlock(ctx):
    need_bank(ctx)
    out, page = ctx.path("dl.json"), ctx.path("dl.html")
    p = lw_run(ctx, "--json", out, "--html", page, "--", ctx.bank, "--deadlock", timeout=80)
    expect_status(p, 66)
    doc = load_json(out)
    dl = [r for r in doc["reports"] if r["kind"] == "deadlock"]
    expect(len(dl) == 1, f"one deadlock report: {[r['kind'] for r in doc['reports']]}")
    names = {lk["id"]: lk["name"] for lk in dl[0]["locks"]}
    want = []
    for ev in dl[0]["events"]:
        if ev["what"] == "wait":
            held = [names[h["lock"]] for h in dl[0]["events"]
                    if h["what"] == "held" and h["thread"] == ev["thread"]]
            want.append([ev["thread"], ", ".join(f"lock({n})" for n in held),
                         f"lock({names[ev['lock']]})"])
    expect(len(want) == 2, f"two waiting threads in {dl[0]['events']}")
    num = doc["reports"].index(dl[0]) + 1
    for dom in filter(None, (page_dom(page), in_browser(page))):
        expect(verdict(dom).startswith("FAIL lockwatch run exited with status 66"),
               f"verdict {verdict(dom)!r}")
        r = dom.by_id(f"r{num}")
        expect(r is not None and r.attrs.get("data-kind") == "deadlock", "the deadlock report")
        rows = [[words(c) for c in tr.children if isinstance(c, hc.Node)]
                for tr in r.find("table", cls="scen").find("tbody").find_all("tr")]
        expect(rows == want, f"who waits for whom: {rows}, expected {want}")
        waits = dom.find("svg", cls="graph").find_all("a", cls="wait")
        expect(len(waits) == 2, f"two dashed waits in the graph, found {len(waits)}")
        for w in waits:
            expect(w.find("path").attrs.get("stroke-dasharray"), "a wait is dashed")
            expect(w.attrs["href"].startswith(f"#r{num}-v"),
                   f"a wait links to its event: {w.attrs}")


def case_html_merged(ctx):
    need_bank(ctx)
    out = ctx.path("two.json")
    script = f"'{ctx.bank}' --variant=naive; '{ctx.bank}' --variant=naive; exit 0"
    expect_status(lw_run(ctx, "--json", out, "--", "sh", "-c", script), 66)
    doc = load_json(out)
    # The same bug in two processes is one report that names the other pid too.
    rpids = [r["pid"] for r in doc["reports"]]
    expect(len(rpids) == 1 and len(doc["reports"][0].get("also_in", [])) == 1,
           f"one report of two processes: {rpids} {doc['reports'][0].get('also_in')}")
    page, dom = html_report(ctx, "two.html", out)
    progs = words(dom.find("ul", cls="programs"))
    expect(re.search(r"/bank \(2 processes\)", progs), f"the programs: {progs!r}")
    for i, pid in enumerate(rpids):
        r = dom.by_id(f"r{i + 1}")
        expect(f"pid {pid}, bank" == words(r.find("span", cls="origin")),
               f"report {i + 1} names its process {pid}: {words(r.find('summary'))!r}")
        expect(words(r.find("p", cls="from")).startswith(f"Report 1 of process {pid}: "),
               f"report {i + 1}: {words(r.find('p', cls='from'))!r}")
    # One node per lock of the one report.
    nodes = dom.find("svg", cls="graph").find_all("a", cls="gnode")
    subs = sorted((n.attrs["data-lock"], words(n.find("text", cls="nsub"))) for n in nodes)
    expect(subs == [("accounts", f"M1, pid {rpids[0]}"), ("accounts+64", f"M2, pid {rpids[0]}")],
           f"nodes {subs}")
    procs = [words(tr.find("td")) for tr in dom.by_id("processes").find("tbody").find_all("tr")]
    expect(sorted(procs) == sorted(str(p["pid"]) for p in doc["processes"]),
           f"every process listed: {procs}")
    # Two documents: each report says which file it came from.
    a, b = naive_doc(ctx, "a.json"), naive_doc(ctx, "b.json")
    page2, dom2 = html_report(ctx, "ab.html", "a.json", "b.json", cwd=ctx.tmp)
    froms = [words(r.find("p", cls="from")) for r in dom2.find_all("details", cls="report")]
    expect(len(froms) == 2 and froms[0].endswith("(from a.json)") and
           froms[1].endswith("(from b.json)"), f"origins {froms}")
    # The filter, driven in the browser: a pid, then a kind unticked.
    try:
        chromium = hc.find_chromium()
    except hc.Skip:
        return
    with open(page2, encoding="utf-8") as f:
        text = f.read()
    pid_b = load_json(b)["reports"][0]["pid"]
    drive = ("<script>(function(){var q=document.getElementById('filter-text');"
             f"q.value='pid {pid_b}';q.dispatchEvent(new Event('input'));"
             "var n1=document.getElementById('filter-count').textContent;"
             "q.value='';q.dispatchEvent(new Event('input'));"
             "var k=document.querySelector('#filters input.kind');k.checked=false;"
             "k.dispatchEvent(new Event('change'));"
             "document.body.setAttribute('data-filtered',n1+'|'+"
             "document.getElementById('filter-count').textContent);})();</script></body>")
    driven = write(ctx, "driven.html", text.replace("</body>", drive))
    got = hc.dump_dom(chromium, driven).find("body").attrs.get("data-filtered")
    expect(got == "1 of 2 reports shown|0 of 2 reports shown", f"the filter: {got!r}")


def case_html_labelled(ctx):
    need_bank(ctx)
    doc = load_json(naive_doc(ctx))
    lab = json.loads(json.dumps(doc["reports"][0]))
    lab["labels"] = ["single-thread", "needs-3-threads", {"label": "fresh", "reason": "why not"}]
    gua = json.loads(json.dumps(doc["reports"][0]))
    gua["guarded"], gua["guarded_by"] = True, "M7"
    doc["reports"] = [lab, gua]
    path = write(ctx, "labelled.json", json.dumps(doc))
    page, dom = html_report(ctx, "labelled.html", path)
    sec = dom.by_id("labelled")
    expect(sec is not None and words(sec.find("h2")) == "Labelled (do not fail the run)",
           "a Labelled section")
    expect(len(sec.find_all("details", cls="report")) == 2, "both reports are in it")
    expect(not dom.by_id("reports").find_all("details", cls="report"), "none among the others")
    items = [words(li) for li in sec.find_all("li")]
    for want in ("single-thread: one thread made every order of the cycle",
                 "needs-3-threads: a deadlock on this cycle needs 3 threads",
                 "fresh: why not",
                 "guarded: every order of the cycle was taken while the thread held one same "
                 "other lock"):
        expect(any(i.startswith(want) for i in items), f"the label {want!r}: {items}")
    expect(any("the gate lock is M7" in i for i in items), f"guarded_by: {items}")
    expect(verdict(dom).startswith("PASS no report fails a run; 2 labelled reports do not"),
           f"verdict {verdict(dom)!r}")
    in_browser(page)


def case_html_profile(ctx):
    src = os.path.join(ctx.src, "tests", "tools", "profile_doc.json")
    page, dom = html_report(ctx, "profile.html", "--srcroot", ctx.src, src)
    table = dom.by_id("profile").find("table", cls="profile")
    heads = [words(th) for th in table.find("thead").find_all("th")]
    expect(heads == ["id", "name", "acquisitions", "contended", "wait_ns", "hold_ns_max",
                     "created", "note"], f"profile columns {heads}")
    rows = [[words(td) for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    expect(rows[0] == ["M1", "accounts", "2002", "37", "918000", "52000",
                       "bank.c:231 in transfer_naive", ""], f"row 1: {rows[0]}")
    expect(rows[2] == ["M3", "<log & trace>", "12", "", "", "", "", "idle"], f"row 3: {rows[2]}")
    facts = [(words(tr.find("th")), words(tr.find("td")))
             for tr in dom.by_id("profile").find("table", cls="facts").find_all("tr")]
    expect(facts == [("clock", "monotonic"), ("threshold_ns", "1000")], f"profile facts {facts}")
    locks = dom.by_id("r1").find("table", cls="locks")
    heads = [words(th) for th in locks.find("thead").find_all("th")]
    expect(heads == ["lock", "name", "type", "address", "class", "instances", "created at"],
           f"lock columns {heads}")
    # Relative paths are read under --srcroot: the source lines are there.
    hit = dom.by_id("r1-e0").find("span", cls="hit")
    expect(hit is not None and "LW:naive-second" in words(hit), "the source of demos/bank.c:235")
    # Without --srcroot, from the working directory: elsewhere, no source.
    _, dom2 = html_report(ctx, "profile2.html", src, cwd=ctx.tmp)
    expect(dom2.find("pre", cls="src") is None, "no source lines where the file is not")
    in_browser(page)


def case_html_escape(ctx):
    evil = "<script>alert(1)</script>\"' onmouseover=x &amp; \u00e9\u2603"
    src = write(ctx, "evil.c", "int a;\n" * 5 + "lock(&m); /* </pre><b>x</b> & \x01 */\n" +
                "int b;\n" * 5)
    with open(src, "ab") as f:
        f.write(b"bad utf-8: \xff\xfe\n")
    frame = {"function": evil, "file": "evil.c", "line": 6, "module": "/x/" + evil,
             "offset": "0x1"}
    lock = {"id": "M1", "address": "0x1", "type": "mutex", "name": evil, "created": [frame],
            evil: evil}
    rep = {"id": 1, "kind": "double-lock", "summary": evil, "detail": "blocks-forever",
           "locks": [lock], "edges": [],
           "events": [{"what": "lock", "thread": "T0", "lock": "M1", "mode": "write",
                       "stack": [frame]}],
           "threads": [], "labels": [evil], evil: [evil]}
    doc = {"tool": "lockwatch", "version": "0.1.0", "pid": 1, "program": evil, "argv": [evil],
           "reports": [rep], "suppressed": [], "stats": {}}
    path = write(ctx, "evil.json", json.dumps(doc))
    page, dom = html_report(ctx, "evil.html", path, cwd=ctx.tmp)
    expect(len(dom.find_all("script")) == 2, "no script but the page's own two")
    expect(all(not k.startswith("on") for n in dom.walk() for k in n.attrs),
           "no event handler attribute")
    expect(words(dom.by_id("r1").find("code", cls="fn")) == " ".join(evil.split()),
           "the function name shows as text")
    pre = words(dom.find("pre", cls="src"))
    expect("</pre><b>x</b> & \ufffd" in pre, f"the source line shows as text: {pre!r}")
    with open(page, "rb") as f:
        data = f.read()
    data.decode("utf-8")  # raises if the page is not UTF-8
    expect(b"\xff" not in data and b"\x01" not in data, "no invalid byte in the page")
    in_browser(page)


def case_html_bad_input(ctx):
    need_bank(ctx)
    good = naive_doc(ctx)
    with open(good, encoding="utf-8") as f:
        text = f.read()
    trunc = write(ctx, "trunc.json", text[:len(text) // 2])
    foreign = write(ctx, "foreign.json", json.dumps({"version": 2, "runs": []}))
    keep = write(ctx, "keep.html", "old page\n")
    for path, needle in ((trunc, "truncated JSON"), (foreign, "not a lockwatch report document")):
        for out in (ctx.path("new.html"), keep):
            p = run([ctx.lw, "report", "--html", out, path])
            expect_one_error_line(p, os.path.basename(path), needle, status=1)
            expect(p.stdout == "", "nothing on stdout", p)
        expect(not os.path.exists(ctx.path("new.html")), "no page from a bad document")
        with open(keep) as f:
            expect(f.read() == "old page\n", "an existing page is left as it was")
        p = run([ctx.lw, "report", "--html", ctx.path("new.html"), good, path])
        expect_one_error_line(p, os.path.basename(path), status=1)
        expect(not os.path.exists(ctx.path("new.html")), "no page when one document is bad")
    leftovers = [f for f in os.listdir(ctx.tmp) if ".tmp." in f]
    expect(not leftovers, f"temporary files left: {leftovers}")
    p = run([ctx.lw, "report", "--html", ctx.path("nodir/x.html"), good])
    expect_one_error_line(p, "nodir/x.html", status=1)
    for args, needle in ((["--srcroot", ".", good], "--srcroot needs --html"),
                         (["--html", "", good], "--html needs a file name"),
                         (["--html", ctx.path("x.html"), "--srcroot", "", good],
                          "--srcroot is empty"),
                         (["--html"], "'--html' needs a value")):
        p = run([ctx.lw, "report"] + args)
        expect_one_error_line(p, needle, status=2)
    p = lw_run(ctx, "--html", ctx.path("nodir/x.html"), "--", ctx.bank)
    expect_one_error_line(p, "--html", "nodir", status=2)
    # A page to standard output.
    p = run([ctx.lw, "report", "--html", "-", good])
    expect(p.returncode == 0 and p.stdout.startswith("<!DOCTYPE html>"), "--html -", p)
def case_api(ctx):
    """Names, ranks, assertions and gate locks through every subcommand."""
    if not ctx.api:
        raise Skip("the API scenario was not built")
    # Names: the runtime's text, lockwatch report, SARIF and the graph all show them.
    doc, sarif = ctx.path("names.json"), ctx.path("names.sarif")
    p = lw_run(ctx, "--json", doc, "--sarif", sarif, "--", ctx.api, "names")
    expect_status(p, 66)
    for name in ("accounts[0]", "accounts[1]"):
        expect(f"({name}, 0x" in p.stderr, f"runtime text names {name}", p)
    r = run([ctx.lw, "report", doc])
    expect(TEXT_BLOCK_RE.findall(r.stdout) == TEXT_BLOCK_RE.findall(p.stderr),
           "lockwatch report prints the runtime's text", r)
    msg = load_json(sarif)["runs"][0]["results"][0]["message"]["text"]
    expect("M1 (accounts[0]) => M2 (accounts[1]) => M1" in msg, f"SARIF message {msg!r}")
    g = run([ctx.lw, "graph", doc])
    expect_status(g, 0)
    labels = re.findall(r'\[label="(M\d+)\\n([^\\"]*)', g.stdout)
    expect(sorted(n for _, n in labels) == ["accounts[0]", "accounts[1]"], f"DOT labels {labels}", g)
    if shutil.which("dot"):
        svg = ctx.path("names.svg")
        expect_status(run([ctx.lw, "graph", "--format", "svg", "-o", svg, doc]), 0)
        with open(svg) as f:
            text = f.read()
        expect("accounts[0]" in text and "accounts[1]" in text, "the SVG names both locks")
    # A guarded cycle: listed everywhere, failing nothing; a SARIF note.
    doc, sarif = ctx.path("gate.json"), ctx.path("gate.sarif")
    p = lw_run(ctx, "--json", doc, "--sarif", sarif, "--", ctx.api, "gate")
    expect_status(p, 0)
    expect(re.search(r"^lockwatch: 0 reports, 0 suppressed, from 1 process; exit status 0; "
                     r"and 1 listed that change nothing$", p.stderr, re.M), "run's counts", p)
    r = run([ctx.lw, "report", doc])
    expect(TEXT_BLOCK_RE.findall(r.stdout) == TEXT_BLOCK_RE.findall(p.stderr), "report = runtime", r)
    expect("Guarded by M1 (G, 0x" in r.stdout, "the guarded-by line", r)
    res = check_sarif(load_json(sarif), want_results=1)["results"][0]
    expect(res["level"] == "note", f"a guarded cycle is a note, not {res['level']}")
    expect("guarded by M1 (G): cannot deadlock" in res["message"]["text"], res["message"]["text"])
    # The new kinds: rank-violation, not-held; labels.
    for args, status in ((["ranks"], 66), (["assert-rw"], 66), (["three"], 66), (["single"], 66)):
        doc, sarif = ctx.path(args[0] + ".json"), ctx.path(args[0] + ".sarif")
        p = lw_run(ctx, "--json", doc, "--sarif", sarif, "--", ctx.api, *args)
        expect_status(p, status)
        r = run([ctx.lw, "report", doc])
        expect(TEXT_BLOCK_RE.findall(r.stdout) == TEXT_BLOCK_RE.findall(p.stderr),
               f"{args[0]}: report = runtime", r)
        res = check_sarif(load_json(sarif), want_results=1)["results"][0]
        expect(res["level"] == "error", f"{args[0]}: level {res['level']}")
    rules = [r["id"] for r in load_json(sarif)["runs"][0]["tool"]["driver"]["rules"]]
    expect("rank-violation" in rules and "not-held" in rules, f"rules {rules}")


CASES = {
    "api": case_api,
    "cli": case_cli,
    "manpage": case_manpage,
    "malformed": case_malformed,
    "profile.report": case_profile_report,
    "profile.graph": case_profile_graph,
    "profile.merge": case_profile_merge,
    "run.naive": case_run_naive,
    "run.ordered": case_run_ordered,
    "run.exitcode": case_run_exitcode,
    "run.status": case_run_status,
    "run.signal": case_run_signal,
    "run.exec_child": case_run_exec_child,
    "run.two_processes": case_run_two_processes,
    "run.daemon": case_run_daemon,
    "run.daemon_ordered": case_run_daemon_ordered,
    "run.daemon_killed": case_run_daemon_killed,
    "run.daemon_linger": case_run_daemon_linger,
    "run.deadlock": case_run_deadlock,
    "run.suppressions": case_run_suppressions,
    "run.bad_suppressions": case_run_bad_suppressions,
    "run.bad_options": case_run_bad_options,
    "run.preload": case_run_preload,
    "run.missing_program": case_run_missing_program,
    "run.outputs": case_run_outputs,
    "report.text": case_report_text,
    "report.multi": case_report_multi,
    "html.empty": case_html_empty,
    "html.deadlock": case_html_deadlock,
    "html.merged": case_html_merged,
    "html.labelled": case_html_labelled,
    "html.profile": case_html_profile,
    "html.escape": case_html_escape,
    "html.bad_input": case_html_bad_input,
    "graph.dot": case_graph_dot,
    "graph.svg": case_graph_svg,
    "graph.no_dot": case_graph_no_dot,
    "sarif": case_sarif,
    "sarif.run": case_sarif_run,
    "json_path.shared": case_json_path_shared,
    "json_path.corrupt": case_json_path_corrupt,
    "json_path.fifo": case_json_path_fifo,
    "merge.cross_run": case_merge_cross_run,
    "merge.bad_input": case_merge_bad_input,
    "merge.schema2": case_merge_schema2,
    "merge.dedup": case_merge_dedup,
    "run.cross_process": case_run_cross_process,
    "install": case_install,
    "cpack": case_cpack,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lockwatch", required=True)
    ap.add_argument("--preload", required=True)
    ap.add_argument("--bank")
    ap.add_argument("--misuse")
    ap.add_argument("--api")
    ap.add_argument("--noop")
    ap.add_argument("--classprog")
    ap.add_argument("--profile-prog")
    ap.add_argument("--daemon")
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--ctest", default="ctest")
    ap.add_argument("--cpack", default="cpack")
    ap.add_argument("--version", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lockwatch-tools-")
    # lockwatch run makes its private directory under TMPDIR: keep it in ours, to check cleanup.
    os.environ["TMPDIR"] = tmp
    try:
        CASES[args.case](Ctx(args, tmp))
    except Skip as e:
        print(f"SKIP {args.case}: {e}")
        return SKIP
    except (Failure, hc.Failure) as e:
        print(f"FAIL {args.case}: {e}")
        print(f"(files kept in {tmp})")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
