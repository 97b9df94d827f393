"""Colab readiness, tested without Colab.

1. The setup cell's Colab branch really installs the project: it runs in a Jupyter kernel of a fresh
   virtual environment where a stand-in ``google.colab`` module is importable, with pip pointed at
   this checkout instead of GitHub (``BOOK_PIP_SOURCE``). The packages Colab preinstalls
   (TensorFlow, Keras, NumPy, torch, ...) are made visible to that environment from ``.venv``, as on
   Colab they are already there. Then every import statement of every notebook must succeed, and
   ``mnist_lib`` must come from the fresh install, not from this checkout.
2. What the Colab cell installs (pyproject.toml's dependencies) must not pin anything that conflicts
   with the versions a current Colab image preinstalls (``tests/colab_preinstalled.txt``).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import tomllib
from nbtools import ROOT, notebooks, setup_cell_source
from packaging.requirements import Requirement
from packaging.version import Version

COLAB_VERSIONS = ROOT / "tests" / "colab_preinstalled.txt"


def colab_versions() -> dict[str, Version]:
    versions = {}
    for line in COLAB_VERSIONS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            versions[name.strip().lower()] = Version(version.strip())
    return versions


def project_requirements() -> list[Requirement]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in meta["dependencies"]]
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


@pytest.mark.parametrize("req", project_requirements(), ids=str)
def test_requirement_admits_colabs_preinstalled_version(req: Requirement) -> None:
    versions = colab_versions()
    name = req.name.lower()
    if name not in versions:
        pytest.skip(f"{name} is not preinstalled on Colab")
    assert req.specifier.contains(versions[name], prereleases=True), (
        f"pyproject.toml asks for {req}, but Colab has {name}=={versions[name]}: widen the range"
    )


def test_setup_cell_has_a_colab_branch_that_installs_from_the_repository() -> None:
    source = setup_cell_source()
    assert 'if "google.colab" in sys.modules:' in source
    assert "BOOK_PIP_SOURCE" in source and '"pip", "install"' in source


def notebook_imports() -> list[str]:
    """Every import statement (top-level or nested) in every notebook's code cells."""
    lines: set[str] = set()
    for path in notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or cell.source == setup_cell_source():
                continue
            code = "\n".join(
                "" if line.lstrip().startswith(("!", "%")) else line
                for line in cell.source.splitlines()
            )
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(node, ast.ImportFrom) and node.level
                ):
                    lines.add(ast.unparse(node))
    return sorted(lines)


@pytest.fixture(scope="module")
def colab_like_env(tmp_path_factory) -> Path:
    """A fresh venv that sees .venv's packages as 'preinstalled' and a stand-in google.colab."""
    base = tmp_path_factory.mktemp("colab")
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    stub = base / "stub"
    (stub / "google" / "colab").mkdir(parents=True)
    (stub / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab in tests."""\n')
    # Stand-in first, then the packages Colab would have preinstalled (this checkout excluded: the
    # editable install's own .pth hook is not processed from a path added this way).
    preinstalled = sysconfig.get_paths()["purelib"]
    (Path(site) / "colab_like.pth").write_text(f"{stub}\n{preinstalled}\n")
    return python


def test_setup_cell_installs_the_project_and_every_notebook_import_works(
    colab_like_env, tmp_path, monkeypatch
) -> None:
    from nbclient import NotebookClient

    imports = notebook_imports()
    assert any("mnist_lib" in line for line in imports)
    # A kernel spec for the Colab-like environment, found through JUPYTER_PATH.
    spec = tmp_path / "jupyter" / "kernels" / "colab-like"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(colab_like_env),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Colab-like",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("BOOK_PIP_SOURCE", str(ROOT))  # instead of git+https://github.com/...
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PYTHONNOUSERSITE", "1")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        # On Colab, google.colab is already imported when the kernel starts.
        nbformat.v4.new_code_cell("import google.colab  # noqa: F401"),
        nbformat.v4.new_code_cell(setup_cell_source()),
        nbformat.v4.new_code_cell("import mnist_lib\nprint(mnist_lib.__file__)"),
        nbformat.v4.new_code_cell("\n".join(imports) + "\nprint('ALL_IMPORTS_OK')"),
    ]
    NotebookClient(
        nb, timeout=900, kernel_name="colab-like", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    origin = nb.cells[2].outputs[0]["text"].strip()
    assert origin.startswith(str(colab_like_env.parent.parent)), (
        f"mnist_lib was not installed by the cell: {origin}"
    )
    assert "ALL_IMPORTS_OK" in nb.cells[3].outputs[-1]["text"]
