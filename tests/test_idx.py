"""Unit tests for mnist_lib.idx: IDX files made in the test, good and bad."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mnist_lib.idx import IDXFormatError, encode_idx, parse_idx, write_idx


def test_parses_a_hand_written_file() -> None:
    # 2 images of 2x3: header 00 00 08 03, dims 2, 2, 3, then 12 bytes
    data = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 3) + bytes(range(12))
    out = parse_idx(data, ndim=3)
    assert out.dtype == np.uint8
    assert out.shape == (2, 2, 3)
    assert out[1, 1, 2] == 11
    assert out[0, 0, 0] == 0


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)))
def test_roundtrip(array: np.ndarray) -> None:
    np.testing.assert_array_equal(parse_idx(encode_idx(array)), array)


def test_write_idx(tmp_path) -> None:
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = write_idx(tmp_path / "labels", labels)
    assert path.read_bytes()[:8] == bytes([0, 0, 8, 1, 0, 0, 0, 5])
    np.testing.assert_array_equal(parse_idx(path.read_bytes(), ndim=1), labels)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"\x1f\x8b\x08\x03" + bytes(20), "bad magic number 0x1f8b0803"),  # still gzipped
        (bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1) + bytes(4), "element type 0x0d"),  # float32
        (bytes([0, 0, 8, 3]) + struct.pack(">I", 2), "truncated inside its header"),
        (bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(9), "truncated or padded"),
        (bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(11), "truncated or padded"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(IDXFormatError, match=message):
        parse_idx(data, name="x.idx")


def test_wrong_number_of_dimensions() -> None:
    data = encode_idx(np.zeros((4,), np.uint8))
    with pytest.raises(IDXFormatError, match="has 1 dimension"):
        parse_idx(data, ndim=3)


def test_encode_rejects_other_dtypes() -> None:
    with pytest.raises(TypeError, match="uint8"):
        encode_idx(np.zeros(3, np.float32))
