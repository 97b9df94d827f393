"""The release a Colab reader installs is the one that made the stored outputs.

The setup cell of every notebook installs ``git+<repository>@v<version>`` on Colab, with the version
of ``pyproject.toml`` (``tests/test_notebook_hygiene.py`` keeps every setup cell identical to
``nbtools.setup_cell_source()``, which writes that version in). Here: the version is recorded in
CHANGELOG.md and CITATION.cff, and where the tag of that version exists in this clone, the code
it would install is the code in the working tree.
"""

from __future__ import annotations

import ast
import re
import subprocess

import pytest
import yaml
from nbtools import ROOT, book_packages, project_version, setup_cell_source


def test_the_setup_cell_installs_the_tag_of_pyproject_version() -> None:
    tree = ast.parse(setup_cell_source())
    assigned = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    }
    assert assigned["VERSION"] == project_version()
    assert '@v{VERSION}"' in setup_cell_source()
    assert re.fullmatch(r"\d+\.\d+\.\d+", project_version()), "versions are MAJOR.MINOR.PATCH"


def test_changelog_and_citation_record_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## (\d+\.\d+\.\d+) - \d{4}-\d{2}-\d{2}$", changelog, re.MULTILINE)
    assert releases and releases[0] == project_version(), (
        f"CHANGELOG.md's newest entry is {releases[:1]}, pyproject.toml says {project_version()}: "
        "add an entry for the new version"
    )
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(citation["version"]) == project_version()


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_an_existing_tag_of_this_version_holds_this_code() -> None:
    tag = f"v{project_version()}"
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git clone")
    if _git("rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode != 0:
        pytest.skip(f"{tag} is not tagged yet: the publishing workflow tags it on main")
    paths = [*book_packages(), "pyproject.toml"]
    changed = _git("diff", "--stat", tag, "--", *paths).stdout.strip()
    assert not changed, (
        f"the code differs from the release {tag}, which Colab readers install:\n{changed}\n"
        "Raise the version in pyproject.toml and add a CHANGELOG.md entry."
    )
