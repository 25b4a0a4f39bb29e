#!/usr/bin/env python3
"""test_lwcheck.py - self-tests of lwcheck.py: it must fail, clearly, when it should.

Usage: test_lwcheck.py LOCKWATCH_SO HARMLESS_SO SCN_ABBA
  LOCKWATCH_SO  liblockwatch.so
  HARMLESS_SO   a shared library that writes no JSON (preloaded in its place)
  SCN_ABBA      the scn_abba scenario program
"""

import contextlib
import io
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


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    LOCKWATCH, HARMLESS, ABBA = sys.argv[1:4]
    unittest.main(argv=sys.argv[:1], verbosity=2)
