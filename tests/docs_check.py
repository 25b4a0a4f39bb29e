#!/usr/bin/env python3
"""Checks that the documentation names every option and every report kind.

Options come from lib/options.inc, the one place they are declared; report
kinds from lib/report.c. Fails (exit 1) listing what a document misses.
"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1])
inc = (root / "lib/options.inc").read_text()
options = re.findall(r"^LW_OPT_(?:STR|INT|BOOL|ENUM)\((\w+),", inc, re.M)
kinds = re.findall(r'\[LW_REPORT_\w+\] = \{"([a-z-]+)"', (root / "lib/report.c").read_text())
if len(options) < 10 or len(kinds) < 8:
    sys.exit(f"docs_check: could not read the options ({len(options)}) or kinds ({len(kinds)})")

failed = False
wanted = {
    "docs/options.md": [f"`{o}`" for o in options] + [f"`{k}`" for k in kinds],
    "docs/lockwatch.1": options,
    "docs/report-format.md": [f"`{k}`" for k in kinds],
    "docs/rules.md": [f"`{k}`" for k in kinds if k not in ("lock-order-inversion", "stall")],
}
failed = False
# docs/api.md shows the examples the tests build, word for word.
api = (root / "docs/api.md").read_text()
for example in ("docs/examples/api_example.c", "docs/examples/api_example.cpp",
                "docs/examples/spinlock.c"):
    if (root / example).read_text() not in api:
        failed = True
        print(f"docs/api.md does not show {example} as it is")
for doc, words in wanted.items():
    text = (root / doc).read_text()
    missing = [w for w in words if w not in text]
    if missing:
        failed = True
        print(f"{doc} does not mention: {', '.join(missing)}")
sys.exit(1 if failed else 0)
