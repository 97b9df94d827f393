"""Read and write IDX files, the binary format MNIST is distributed in.

Introduced in the MNIST project's opening chapter (``chapters/mnist/mnist_data.ipynb``), which
loads the data through :func:`mnist_lib.data.load_mnist`; that function calls :func:`parse_idx`.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (``TT`` the element type, ``NN`` the number of
dimensions), then ``NN`` big-endian 32-bit sizes, then the elements in C order. MNIST uses only the
unsigned-byte type (``TT = 0x08``): images are ``idx3`` (count, rows, cols), labels ``idx1`` (count).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from book_core.checks import check_int, check_not_none

UBYTE = 0x08
_HEADER = struct.Struct(">BBBB")


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file of the expected kind."""


def parse_idx(data: bytes, *, ndim: int | None = None, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an unsigned-byte IDX file into a ``uint8`` array.

    Args:
        data: the whole file, already decompressed.
        ndim: the number of dimensions the caller expects (3 for images, 1 for labels), or None.
        name: how to name the file in error messages.

    Raises:
        TypeError: ``data`` is not bytes, or ``ndim`` is not an integer (or None).
        IDXFormatError: wrong magic number, unexpected number of dimensions, or a size that does not
            match the header (a truncated or padded file). The message says which.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"data must be the bytes of an IDX file, got {type(data).__name__}; pass "
            "path.read_bytes() (decompressed)."
        )
    if ndim is not None:
        check_int("ndim", ndim, minimum=1, maximum=255, fix="pass 3 for images, 1 for labels")
    if len(data) < 4:
        raise IDXFormatError(
            f"{name}: {len(data)} bytes is too short to be an IDX file (needs a 4-byte header)."
        )
    zero0, zero1, dtype, dims = _HEADER.unpack_from(data, 0)
    if zero0 != 0 or zero1 != 0:
        raise IDXFormatError(
            f"{name}: bad magic number 0x{data[:4].hex()}: an IDX file starts with two zero bytes. "
            "Is it still gzip-compressed, or not an IDX file at all?"
        )
    if dtype != UBYTE:
        raise IDXFormatError(
            f"{name}: element type 0x{dtype:02x} is not unsigned byte (0x08), which MNIST uses."
        )
    if ndim is not None and dims != ndim:
        raise IDXFormatError(f"{name}: has {dims} dimension(s), expected {ndim}.")
    header_len = 4 + 4 * dims
    if len(data) < header_len:
        raise IDXFormatError(
            f"{name}: truncated inside its header ({len(data)} of {header_len} bytes)."
        )
    shape = struct.unpack_from(f">{dims}I", data, 4)
    expected = header_len + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise IDXFormatError(
            f"{name}: header says shape {shape} ({expected} bytes in all) but the file has {len(data)} bytes "
            "(truncated or padded)."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def encode_idx(array: np.ndarray) -> bytes:
    """Return the IDX bytes of a ``uint8`` array (the inverse of :func:`parse_idx`)."""
    array = np.asarray(check_not_none("array", array, "a uint8 array"))
    if array.dtype != np.uint8:
        raise TypeError(f"IDX encoding here supports uint8 only, got {array.dtype}.")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"an IDX array needs 1 to 255 dimensions, got {array.ndim}.")
    header = _HEADER.pack(0, 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` to ``path`` as an uncompressed IDX file and return the path."""
    path = Path(path)
    path.write_bytes(encode_idx(array))
    return path
