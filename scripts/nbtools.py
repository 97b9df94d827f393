"""Tools for the book's notebooks: the shared setup cell, metadata normalisation, execution.

Used by ``scripts/execute_notebooks.py`` (``make execute``), ``scripts/new_notebook.py`` and the
hygiene tests. Not part of the readers' library.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
TOC = ROOT / "_toc.yml"
RUNTIMES = ROOT / "chapters" / "about" / "runtimes.json"


def repository_url() -> str:
    """The book's GitHub repository, read from its one home: ``repository.url`` in ``_config.yml``."""
    return yaml.safe_load(CONFIG.read_text())["repository"]["url"].rstrip("/")


def colab_url(notebook: str | Path) -> str:
    """The Colab URL that Jupyter Book 1.x puts behind a notebook page's launch button.

    ``notebook``: the notebook's path, absolute or relative to the repository root (``.html`` or
    no suffix is read as ``.ipynb``). Built from ``_config.yml``'s repository and launch settings.
    """
    config = yaml.safe_load(CONFIG.read_text())
    path = Path(notebook)
    rel = (path.relative_to(ROOT) if path.is_absolute() else path).with_suffix(".ipynb").as_posix()
    book = (config["repository"].get("path_to_book") or "").strip("/")
    full = f"{book}/{rel}" if book else rel
    repo = repository_url().removeprefix("https://github.com/")
    base = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{base}/github/{repo}/blob/{config['repository']['branch']}/{full}"


def project_version() -> str:
    """The version of the book's code, from ``pyproject.toml``: the release (git tag ``v<version>``)
    whose code made the stored outputs, which the setup cell installs on Colab."""
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def setup_cell_source(repo: str | None = None) -> str:
    """The exact source of the setup cell that opens every notebook."""
    repo = repository_url() if repo is None else repo
    return f'''# Setup: this same cell opens every notebook of the book.
import os
import sys

REPOSITORY = "{repo}"
VERSION = "{project_version()}"  # the release whose code made this notebook's outputs
# On Colab: install that release ({", ".join(book_packages())}).
if "google.colab" in sys.modules:
    import subprocess

    source = os.environ.get("BOOK_PIP_SOURCE", f"git+{{REPOSITORY}}@v{{VERSION}}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)

from book_core.runtime import setup  # noqa: E402

SEED = setup()  # pinned numerics (threads, instruction set); the seed of this notebook'''


#: The cell a notebook that uses TensorFlow runs right after the setup cell, before importing Keras.
TENSORFLOW_CELL = """from book_core.runtime import use_tensorflow

use_tensorflow(SEED)  # TensorFlow: quiet, seeded, deterministic ops; a note if there is no GPU"""


def book_packages() -> list[str]:
    """The packages the project installs, from ``pyproject.toml`` (``mnist_lib``, ``prompt_lab``, ...)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(name.rstrip("*") for name in include)


KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_METADATA_KEEP = ("tags", "tolerance", "mystnb")  # tolerance: scripts/nbcompare.py
# The setup cell is collapsed on the page (myst-nb's hide-cell tag), behind one line that says
# what it does; in Jupyter and Colab it stays an ordinary cell.
SETUP_CELL_METADATA = {
    "tags": ["hide-cell"],
    "mystnb": {
        "code_prompt_show": "Set-up cell: on Colab it installs the book's code; everywhere it "
        "pins the numerics and the seed (click to show)",
        "code_prompt_hide": "Hide the set-up cell",
    },
}


def normalise(nb: nbformat.NotebookNode, *, gpu: bool | None = None) -> nbformat.NotebookNode:
    """Normalise notebook metadata the way TF docs' nbfmt does: only what readers and Colab need.

    ``gpu``: True adds Colab's GPU accelerator; False removes it; None keeps what is there.
    """
    old = nb.metadata
    had_gpu = old.get("accelerator") == "GPU"
    meta = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "colab": {"provenance": [], "toc_visible": True},
    }
    if gpu or (gpu is None and had_gpu):
        meta["accelerator"] = "GPU"
        meta["colab"]["gpuType"] = "T4"
    nb.metadata = nbformat.from_dict(meta)
    setup = setup_cell_source()
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in CELL_METADATA_KEEP}
        )
        if cell.cell_type == "code" and cell.source == setup:
            cell.metadata = nbformat.from_dict(SETUP_CELL_METADATA)
    return nb


def new_notebook(path: Path, title: str, intro: str, *, gpu: bool = False) -> Path:
    """Create a notebook that opens with a title, an intro paragraph and the setup cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{intro}"),
        nbformat.v4.new_code_cell(setup_cell_source()),
    ]
    normalise(nb, gpu=gpu)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def run_notebook(
    path: Path,
    timeout: int = 3600,
    env: dict[str, str] | None = None,
    allow_errors: bool = False,
) -> tuple[nbformat.NotebookNode, float]:
    """Execute ``path`` top to bottom in a fresh kernel (started in the notebook's folder, with
    ``env`` added to this process's environment); return the executed notebook and its seconds.
    With ``allow_errors``, a failing cell is recorded in its outputs and the run goes on."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, **(env or {})})
    return nb, time.perf_counter() - start


def execute(path: Path, timeout: int = 3600) -> float:
    """Execute ``path`` top to bottom in a fresh kernel, store outputs in place; return seconds."""
    nb, seconds = run_notebook(path, timeout)
    normalise(nb)
    nbformat.write(nb, path)
    record_runtime(path, seconds)
    return seconds


def record_runtime(path: Path, seconds: float) -> None:
    """Keep the last measured run time of each notebook, in book order (the About page's table)."""
    data = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    data[path.resolve().relative_to(ROOT).as_posix()] = round(seconds, 1)
    order = {p.relative_to(ROOT).as_posix(): i for i, p in enumerate(notebooks())}
    ordered = dict(sorted(data.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))
    RUNTIMES.parent.mkdir(parents=True, exist_ok=True)
    RUNTIMES.write_text(json.dumps(ordered, indent=2) + "\n")  # in book order


def toc_files() -> list[str]:
    """Every ``file:`` entry of ``_toc.yml`` (without extension), in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(str(node[key]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(TOC.read_text()))
    return found


def notebook_kind(path: Path) -> str:
    """How a notebook uses the CPU (for :func:`core_share`):

    - ``"tensorflow"``: it trains with TensorFlow (the :data:`TENSORFLOW_CELL`), on two threads
      that split each operation in equal halves. Squeezed onto one core, the half that waits for
      the busy core holds up the other, and the notebook takes two to four times as long.
    - ``"local-model"``: it runs the local language model (torch). On one core of its own, torch
      uses one thread (``prompt_lab.local`` caps the threads at the usable cores) and computes the
      same as with two.
    - ``"numpy"``: anything else (one BLAS thread).
    """
    nb = nbformat.read(path, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    if any(s.strip() == TENSORFLOW_CELL.strip() for s in sources):
        return "tensorflow"
    if any("load_local_model" in s for s in sources):
        return "local-model"
    return "numpy"


#: TensorFlow notebooks that keep both cores busy, and so run alone. Measured on the 2-core CI
#: machine as CPU seconds over wall seconds of the notebook (or of its training) run alone: the
#: CNN's epochs use 1.85 cores. The other TensorFlow notebooks leave much of the second core idle
#: (baseline 1.17, fast_mlp 1.29, evaluation 1.44: small matrices, and Python between the steps),
#: so two of them run side by side: baseline and evaluation took 87 s together against 112 s one
#: after the other, with the same outputs.
RUNS_ALONE = frozenset({"chapters/mnist/cnn.ipynb"})


def core_share(path: Path) -> str:
    """How a file (a notebook or a test module) shares the cores with the file the other worker
    runs (conftest.py for `make test`, scripts/colab_check.py for `make colab`):

    - ``"alone"``: every core, and nothing beside it (:data:`RUNS_ALONE`);
    - ``"all"``: every core, beside another file (the other TensorFlow notebooks, whose two
      threads would crawl on one core);
    - ``"own"``: one core of its own (the language-model and NumPy notebooks, the test modules).

    The outputs do not depend on it: the thread counts that decide the arithmetic are fixed
    (``book_core.runtime``), and only where the threads run changes.
    """
    if path.suffix != ".ipynb":
        return "own"
    if notebook_kind(path) != "tensorflow":
        return "own"
    return "alone" if _relative(path) in RUNS_ALONE else "all"


def _relative(path: Path) -> str:
    """``path`` relative to the repository, as ``runtimes.json`` names it ("" if outside it)."""
    resolved = path.resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else ""


def running_order_key(path: Path, seconds: dict[str, float]) -> tuple[int, float]:
    """Sort key for the order in which two workers take files, a notebook or a test module
    (conftest.py for `make test`, scripts/colab_check.py for `make colab`).

    By :func:`core_share`: the notebooks that run alone first, then the other TensorFlow notebooks,
    then everything else; longest first within each group by ``seconds`` (the last measured run
    times, ``runtimes.json``; a file without one, such as a test module, counts as 0). A file that
    runs alone waits until the other worker's file is done, which would leave a core idle at every
    switch; first of all, nothing runs before it, and the groups after it keep both cores busy to
    the end.
    """
    group = {"alone": 0, "all": 1, "own": 2}[core_share(path)]
    return group, -seconds.get(_relative(path), 0.0)


def notebooks() -> list[Path]:
    """Every notebook of the book, in ``_toc.yml`` order."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]
