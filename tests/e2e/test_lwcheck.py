#!/usr/bin/env python3
"""test_lwcheck.py - self-tests of lwcheck.py: it must fail, clearly, when it should.

Usage: test_lwcheck.py LOCKWATCH_SO HARMLESS_SO SCN_ABBA
  LOCKWATCH_SO  liblockwatch.so
  HARMLESS_SO   a shared library that writes no JSON (preloaded in its place)
  SCN_ABBA      the scn_abba scenario program
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwcheck  # noqa: E402

LOCKWATCH = HARMLESS = ABBA = None


def run_check(*argv):
    """Runs lwcheck.main(argv); returns (status, printed text)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = lwcheck.main(list(argv))
    return status, out.getvalue()


class Markers(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".c", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_found_once(self):
        path = self.write("a\nlock(); /* LW:x */\nb\n")
        self.assertEqual(lwcheck.marker_line(path, "LW:x"), 2)

    def test_missing_and_repeated_fail(self):
        path = self.write("/* LW:x */\n/* LW:x */\n")
        with self.assertRaises(lwcheck.Failure):
            lwcheck.marker_line(path, "LW:x")
        with self.assertRaises(lwcheck.Failure):
            lwcheck.marker_line(path, "LW:y")

    def test_prefix_is_not_a_match(self):
        path = self.write("/* LW:x-long */\n")
        with self.assertRaises(lwcheck.Failure):
            lwcheck.marker_line(path, "LW:x")


class Contract(unittest.TestCase):
    def frame(self, line=10):
        return {"pc": "0x1", "function": "f", "file": "/a/b.c", "line": line, "column": 1,
                "module": "/m", "offset": "0x1"}

    def good(self):
        edge = lambda a, b: {"from": a, "to": b, "from_mode": "write", "to_mode": "write",
                             "thread": "T1", "held_locks": [a], "acquired": [self.frame(11)],
                             "held": [self.frame(10)], "also_by_thread": None}
        return {
            "tool": "lockwatch", "version": "0.1.0", "pid": 1, "program": "/p", "argv": ["p"],
            "reports": [{
                "id": 1, "kind": "lock-order-inversion", "summary": "lock-order-inversion b.c:11 in f",
                "locks": [{"id": "M1", "address": "0x10", "type": "mutex", "name": None, "created": []},
                          {"id": "M2", "address": "0x20", "type": "mutex", "name": "x", "created": []}],
                "cycle": ["M1", "M2"], "closing_edge": 1,
                "edges": [edge("M1", "M2"), edge("M2", "M1")],
                "threads": [{"id": "T1", "tid": 5, "parent": "T0", "created": []}]}],
            "stats": {k: 0 for k in lwcheck.STATS_KEYS}}

    def test_good_document_passes(self):
        self.assertEqual(lwcheck.check_document(self.good(), "d"), [])

    def test_violations_are_found(self):
        cases = [
            lambda d: d.pop("stats"),
            lambda d: d.update(tool="other"),
            lambda d: d["reports"][0].update(cycle=["M2", "M1"]),
            lambda d: d["reports"][0].update(closing_edge=2),
            lambda d: d["reports"][0].update(summary="lock-order-inversion b.c:12 in f"),
            lambda d: d["reports"][0]["edges"][0].update(to="M1"),
            lambda d: d["reports"][0]["edges"][0].update(held_locks=[]),
            lambda d: d["reports"][0]["edges"][0].update(thread="T9"),
            lambda d: d["reports"][0]["edges"][0]["acquired"][0].update(pc=17),
            lambda d: d["reports"][0]["locks"].pop(),
            lambda d: d["reports"][0].update(id=2),
            lambda d: d["stats"].update(locks=-1),
        ]
        for i, mutate in enumerate(cases):
            d = self.good()
            mutate(d)
            self.assertNotEqual(lwcheck.check_document(d, "d"), [], f"case {i} not caught")

    def test_summary_passes_over_header_frames(self):
        d = self.good()
        header = dict(self.frame(749), file="/usr/include/c++/12/bits/std_mutex.h",
                      function="std::mutex::lock()")
        d["reports"][0]["edges"][0]["acquired"].insert(0, header)
        self.assertEqual(lwcheck.check_document(d, "d"), [])
        d["reports"][0]["summary"] = "lock-order-inversion std_mutex.h:749 in std::mutex::lock()"
        self.assertNotEqual(lwcheck.check_document(d, "d"), [])

    def test_not_an_object(self):
        self.assertNotEqual(lwcheck.check_document([], "d"), [])


class Runs(unittest.TestCase):
    def test_missing_json_fails(self):
        status, out = run_check("--preload", HARMLESS, "--expect-exit", "0", "--", "/bin/true")
        self.assertEqual(status, 1, out)
        self.assertIn("no JSON document", out)

    def test_malformed_json_fails(self):
        script = ('p=${LOCKWATCH_OPTIONS##*json_path=}; p=$(printf %s "$p" | sed "s/%p/$$/"); '
                  'printf "{\\"tool\\": " > "$p"')
        status, out = run_check("--preload", HARMLESS, "--", "/bin/sh", "-c", script)
        self.assertEqual(status, 1, out)
        self.assertIn("malformed", out)

    def test_timeout_fails(self):
        status, out = run_check("--preload", HARMLESS, "--timeout", "0.5", "--no-json",
                                "--", "/bin/sleep", "20")
        self.assertEqual(status, 1, out)
        self.assertIn("TIMEOUT", out)

    def test_wrong_expectations_fail(self):
        for extra in (["--expect-exit", "0"], ["--expect-silent"],
                      ["--expect-report", "lock-order-inversion=2"],
                      ["--expect-lock-names", "mu_a,nope"],
                      ["--expect-cycle-len", "3"],
                      ["--expect-lines", os.path.join(os.path.dirname(ABBA), "..", "..", "..",
                                                      "tests", "e2e", "scn_abba.c") + ":LW:abba-t1-first"],
                      ["--expect-stat", "threads=7"],
                      ["--expect-json", "reports.0.cycle.length=5"]):
            status, out = run_check("--preload", LOCKWATCH, *extra, "--", ABBA)
            self.assertEqual(status, 1, f"{extra} did not fail:\n{out}")

    def test_right_expectations_pass(self):
        status, out = run_check("--preload", LOCKWATCH, "--expect-exit", "66",
                                "--expect-report", "lock-order-inversion=1",
                                "--expect-lock-names", "mu_a,mu_b", "--", ABBA)
        self.assertEqual(status, 0, out)

    def test_native_difference_is_caught(self):
        # A program whose output depends on whether something is preloaded.
        script = 'if [ -n "$LD_PRELOAD" ]; then echo preloaded; else echo native; fi'
        status, out = run_check("--preload", HARMLESS, "--no-json", "--compare-native",
                                "--", "/bin/sh", "-c", script)
        self.assertEqual(status, 1, out)
        self.assertIn("stdout differs", out)


class ReportChecks(unittest.TestCase):
    """The checks of non-inversion reports, on a document a shell script writes."""

    def setUp(self):
        src = tempfile.NamedTemporaryFile("w", suffix=".c", delete=False)
        src.write("a\nlock(); /* LW:relock */\nb\nlock(); /* LW:first */\n")
        src.close()
        self.addCleanup(os.unlink, src.name)
        self.src = src.name

    def frame(self, line, file=None, function="f"):
        return {"pc": "0x1", "function": function, "file": file or self.src, "line": line,
                "column": 1, "module": "/m", "offset": "0x1", "inlined": False}

    def run_doc(self, *extra, stdout="owner_tid=5"):
        header = [self.frame(749, "/usr/include/x/gthr-default.h", "__gthread_mutex_lock")]
        doc = {
            "tool": "lockwatch", "version": "0.1.0", "pid": "PIDX", "program": "/bin/sh",
            "argv": ["sh"], "suppressed": [],
            "reports": [{
                "id": 1, "kind": "double-lock", "summary": "double-lock x.c:2 in f",
                "detail": "fails", "owner_tid": 5, "waited_ms": 3,
                "locks": [{"id": "M1", "address": "0x10", "type": "mutex", "name": "m",
                           "created": []}],
                "edges": [],
                "events": [
                    {"what": "lock", "thread": "T0", "lock": "M1", "mode": "write",
                     "stack": header + [self.frame(2), self.frame(9, function="caller")]},
                    {"what": "held", "thread": "T0", "lock": "M1", "mode": "write",
                     "stack": [self.frame(4, function="helper"), self.frame(2)]}],
                "threads": [{"id": "T0", "tid": 5, "parent": None, "created": []}]}],
            "stats": {k: 0 for k in lwcheck.STATS_KEYS}}
        os.environ["LWTEST_DOC"] = json.dumps(doc).replace('"PIDX"', "PIDX")
        script = ('p=${LOCKWATCH_OPTIONS##*json_path=}; p=$(printf %s "$p" | sed "s/%p/$$/"); '
                  'printf %s "$LWTEST_DOC" | sed "s/PIDX/$$/" > "$p"; '
                  'echo "lockwatch: double-lock (a thread locks a lock it already holds) (pid $$)" >&2; '
                  'echo "$0"')
        return run_check("--preload", HARMLESS, "--no-argv-check", *extra,
                         "--", "/bin/sh", "-c", script, stdout)

    def test_right_expectations_pass(self):
        status, out = self.run_doc(
            "--expect-report", "double-lock=1", "--expect-detail", "double-lock=fails",
            "--expect-events", "double-lock=lock,held",
            "--expect-event-lines", f"double-lock:lock={self.src}:LW:relock",
            "--expect-event-lines", f"double-lock:held={self.src}:LW:first",
            "--expect-kind-lock-names", "double-lock=m",
            "--expect-kind-json", "double-lock:owner_tid={out:owner_tid}",
            "--expect-kind-json", "double-lock:waited_ms>=3",
            "--expect-kind-json", "double-lock:events.length=2",
            "--expect-json", "reports.0.owner_tid={out:owner_tid}",
            "--write-file={tmp}/w=one\\ntwo", "--expect-file-contains={tmp}/w=one\ntwo",
            "--max-seconds", "60")
        self.assertEqual(status, 0, out)

    def test_skip_function_names_the_caller(self):
        status, out = self.run_doc(
            "--skip-function", "helper",
            "--expect-event-lines", f"double-lock:held={self.src}:LW:relock")
        self.assertEqual(status, 0, out)

    def test_wrong_expectations_fail(self):
        for extra in (["--expect-detail", "double-lock=blocks-forever"],
                      ["--expect-detail", "double-lock=null"],
                      ["--expect-detail", "stall=null"],
                      ["--expect-events", "double-lock=lock"],
                      ["--expect-events", "double-lock=held,lock"],
                      ["--expect-event-lines", f"double-lock:lock={self.src}:LW:first"],
                      ["--expect-event-lines", f"double-lock:held={self.src}:LW:first,"
                                               f"{self.src}:LW:relock"],
                      ["--expect-kind-lock-names", "double-lock=n"],
                      ["--expect-kind-json", "double-lock:owner_tid=6"],
                      ["--expect-kind-json", "double-lock:waited_ms>=4"],
                      ["--expect-kind-json", "double-lock:waited_ms<=2"],
                      ["--expect-kind-json", "double-lock:owner_tid={out:missing}"],
                      ["--expect-json", "reports.0.owner_tid={out:nope}"],
                      ["--max-seconds", "0"]):
            status, out = self.run_doc(*extra)
            self.assertEqual(status, 1, f"{extra} did not fail:\n{out}")

    def test_skip_unless_stdout(self):
        status, out = self.run_doc("--skip-unless-stdout", "address reused: yes")
        self.assertEqual(status, lwcheck.SKIPPED, out)
        status, out = self.run_doc("--skip-unless-stdout", "address reused: yes",
                                   stdout="address reused: yes")
        self.assertEqual(status, 0, out)
        # a failed check is a failure, not a skip
        status, out = self.run_doc("--skip-unless-stdout", "address reused: yes",
                                   "--expect-detail", "double-lock=may-block")
        self.assertEqual(status, 1, out)


class ProcessAndFileChecks(unittest.TestCase):
    """Other preloads, per-process documents, output counts, planted files."""

    def test_preload_also_missing_skips(self):
        status, out = run_check("--preload", HARMLESS, "--no-json",
                                "--preload-also", "/nonexistent/libnothing.so", "--", "/bin/true")
        self.assertEqual(status, lwcheck.SKIPPED, out)
        status, out = run_check("--preload", HARMLESS, "--no-json",
                                "--preload-also", "libno-such-library.so.9", "--", "/bin/true")
        self.assertEqual(status, lwcheck.SKIPPED, out)

    def test_preload_also_order(self):
        script = 'echo "LD_PRELOAD=$LD_PRELOAD"'
        first = f"^LD_PRELOAD={os.path.abspath(LOCKWATCH)}:{os.path.abspath(HARMLESS)}$"
        after = f"^LD_PRELOAD={os.path.abspath(HARMLESS)}:{os.path.abspath(LOCKWATCH)}$"
        for flags, want, other in ((["--preload-also-first"], first, after), ([], after, first)):
            args = ["--preload", HARMLESS, "--no-json", "--preload-also", LOCKWATCH, *flags]
            status, out = run_check(*args, "--expect-stdout-regex", want, "--", "/bin/sh", "-c",
                                    script)
            self.assertEqual(status, 0, out)
            status, out = run_check(*args, "--expect-stdout-regex", other, "--", "/bin/sh", "-c",
                                    script)
            self.assertEqual(status, 1, out)

    def test_output_counts(self):
        script = "echo one >&2; echo two >&2; echo one-more >&2"
        base = ["--preload", HARMLESS, "--no-json"]
        status, out = run_check(*base, "--expect-stderr-count", "^one=2",
                                "--expect-stderr-count", "three=0", "--", "/bin/sh", "-c", script)
        self.assertEqual(status, 0, out)
        for bad in ("^one=1", "two=0"):
            status, out = run_check(*base, "--expect-stderr-count", bad, "--", "/bin/sh", "-c",
                                    script)
            self.assertEqual(status, 1, f"{bad} did not fail:\n{out}")

    def test_pid_documents(self):
        status, out = run_check("--preload", LOCKWATCH, "--expect-exit", "66",
                                "--expect-pid-json", "{pid}:reports.length=1",
                                "--expect-pid-json", "{pid}:stats.threads>=3",
                                "--expect-json", "stats.memory_exhausted=false", "--", ABBA)
        self.assertEqual(status, 0, out)
        for extra in (["--expect-pid-json", "{pid}:reports.length=2"],
                      ["--expect-pid-json", "{pid}:stats.threads<=2"],
                      ["--expect-pid-json", "{out:no_such_key}:reports.length=1"],
                      ["--expect-pid-json", "1:reports.length=1"],
                      ["--expect-pid-no-doc", "{pid}"],
                      ["--expect-json", "stats.memory_exhausted=true"]):
            status, out = run_check("--preload", LOCKWATCH, "--expect-exit", "66", *extra,
                                    "--", ABBA)
            self.assertEqual(status, 1, f"{extra} did not fail:\n{out}")

    def test_planted_files(self):
        base = ["--preload", HARMLESS, "--no-json", "--write-file", "{tmp}/v=kept\\n",
                "--make-symlink", "{tmp}/l={tmp}/v", "--make-dir", "{tmp}/d"]
        status, out = run_check(*base, "--expect-file-equals", "{tmp}/v=kept\\n",
                                "--expect-file-regular", "{tmp}/v", "--", "/bin/true")
        self.assertEqual(status, 0, out)
        for extra in (["--expect-file-regular", "{tmp}/l"], ["--expect-file-regular", "{tmp}/d"],
                      ["--expect-file-equals", "{tmp}/v=kept"]):
            status, out = run_check(*base, *extra, "--", "/bin/true")
            self.assertEqual(status, 1, f"{extra} did not fail:\n{out}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    LOCKWATCH, HARMLESS, ABBA = sys.argv[1:4]
    unittest.main(argv=sys.argv[:1], verbosity=2)
