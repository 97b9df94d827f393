"""Unit tests for mnist_lib.checks: the one label validator every module uses."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lib.checks import class_labels


def test_valid_labels_come_back_as_int64() -> None:
    out = class_labels(np.array([0, 9, 3], np.uint8), 10)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 9, 3])
    assert class_labels([], 10).dtype == np.int64  # empty lists arrive as float64


@pytest.mark.parametrize(
    ("y", "kwargs", "message"),
    [
        (np.eye(3, dtype=int), {}, r"1-D .*argmax"),
        (np.array([0, 1]), {"n": 3, "what": "images"}, "got 3 images but 2 labels"),
        (np.array([0.0, 1.0]), {}, "integers"),
        (np.array([0, 10]), {}, r"0\.\.9, i\.e\. \[0, 10\), got values from 0 to 10"),
        (np.array([-1, 2]), {"name": "y_true"}, r"y_true must lie in 0\.\.9"),
    ],
)
def test_bad_labels_say_what_is_wrong(y, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        class_labels(y, 10, **kwargs)
