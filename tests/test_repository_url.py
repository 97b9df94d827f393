"""The repository URL lives in one place (_config.yml); everything else that names it must agree."""

from __future__ import annotations

import re

import pytest
import tomllib
from nbtools import ROOT, repository_url

URL = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+")


def test_config_names_a_github_repository() -> None:
    assert URL.fullmatch(repository_url()), repository_url()


def test_pyproject_homepage_matches() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["urls"]["Homepage"] == repository_url()


@pytest.mark.parametrize(
    "relative",
    [
        "README.md",
        "intro.md",
        ".github/workflows/book.yml",
        *sorted(
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "chapters").rglob("*")
            if p.suffix in {".md", ".ipynb"}
        ),
    ],
)
def test_no_other_repository_url(relative: str) -> None:
    """Any github.com/<owner>/<repo> link to *this* project must be the configured one."""
    path = ROOT / relative
    if not path.exists():
        pytest.skip(f"{relative} does not exist")
    text = path.read_text()
    name = repository_url().rsplit("/", 1)[1]
    for found in URL.findall(text):
        if found.rstrip(".").endswith("/" + name) or found.rstrip(".").endswith(
            "/" + name + ".git"
        ):
            assert found.rstrip(".").removesuffix(".git") == repository_url(), (
                f"{relative}: {found}"
            )
