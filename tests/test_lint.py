"""Lint: the library, tests, scripts and every notebook pass ruff (lint rules and formatting).

Ruff reads notebooks natively, so unused imports or unformatted code in a chapter fail here.
Settings are in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbtools import book_packages

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [
    p
    for p in (
        *book_packages(),  # every package pyproject.toml installs
        "tests",
        "scripts",
        "benchmarks",
        "chapters",
        "conftest.py",
    )
    if (ROOT / p).exists()
]


def ruff() -> list[str]:
    exe = Path(sys.executable).parent / "ruff"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: run `make setup`")
    return [found]


def test_ruff_lint() -> None:
    result = subprocess.run([*ruff(), "check", *TARGETS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"ruff check found problems (fix with `ruff check --fix`):\n{result.stdout}"
    )


def test_ruff_format() -> None:
    result = subprocess.run(
        [*ruff(), "format", "--check", *TARGETS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"not formatted (run `ruff format`):\n{result.stdout}"
