"""Where the seconds of `make test` went, from its JUnit report (``artifacts/junit.xml``).

    .venv/bin/python scripts/test_seconds.py artifacts/junit.xml

Prints the test seconds of the unit tests, the browser tests and each notebook under nbval. Two
workers run side by side, so these add up to about twice the wall time of the run. ``.ci/run``
prints this after its table of stages.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def test_file(case: ET.Element) -> str:
    """The file a JUnit test case came from: a notebook (``chapters/...ipynb``) or a test module."""
    name = case.get("file") or ""
    if name:
        return name
    classname = case.get("classname", "")
    if ".ipynb" in classname:  # nbval: "chapters.mnist.cnn.ipynb"
        stem = classname[: classname.index(".ipynb")]
        return stem.replace(".", "/") + ".ipynb"
    return classname.replace(".", "/") + ".py"


def seconds_by_file(report: Path) -> dict[str, float]:
    if not report.is_file():
        raise FileNotFoundError(f"no JUnit report at {report}: run `make test` first")
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(report).getroot().iter("testcase"):
        totals[test_file(case)] += float(case.get("time") or 0.0)
    return dict(totals)


def main(argv: list[str]) -> int:
    totals = seconds_by_file(Path(argv[0] if argv else "artifacts/junit.xml"))
    notebooks = {f: s for f, s in totals.items() if f.endswith(".ipynb")}
    browser = sum(s for f, s in totals.items() if f.endswith("test_browser.py"))
    unit = sum(totals.values()) - sum(notebooks.values()) - browser
    print(
        "\n===== pass (a), test seconds by kind (two workers; waits for the cores included) ====="
    )
    print(f"{'unit tests and lint':<44} {unit:8.0f}")
    print(f"{'browser tests':<44} {browser:8.0f}")
    print(f"{'notebooks under nbval':<44} {sum(notebooks.values()):8.0f}")
    for name, seconds in sorted(notebooks.items(), key=lambda item: -item[1]):
        print(f"  {name:<42} {seconds:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
