"""Input checks shared by the book's packages: one set of rules, the same errors in every chapter.

The rules, the same in every package:

- **integers** (:func:`check_int`, :func:`check_ints`) are Python ints or NumPy integers; bools,
  floats (even ``2.0``) and strings are refused;
- **numbers** (:func:`check_number`) are ints, floats or NumPy numbers; bools and strings are
  refused, and so are NaN and infinities;
- **label sets** (:func:`check_labels`), such as the queues of the prompt-engineering chapter or any
  ``labels=`` argument, are sequences of strings (a list, a tuple, a 1-D array), never a bare
  string, which would otherwise be read as its letters;
- **None** where a value is required is refused (:func:`check_not_none`, :func:`check_str`);
- a value of the **wrong type** (None, a bool, a string for a number, a float for an integer, a bare
  string for a label set) raises :class:`TypeError`; a value of the right type that **breaks a
  rule** (0 epochs, a negative rate, ``k`` larger than the pool) raises :class:`ValueError`.

Every message names the argument, the rule, the value received and how to fix it, e.g. ``epochs must
be a positive integer, got 2.5 (a float); pass an int such as 3.``

Used at the public entry points of every package: :mod:`mnist_lib` (the MNIST project, the
backpropagation chapter and the FAQ chapter's data-quality checks), :mod:`prompt_lab` (the
prompt-engineering chapter and the roadmap's cultural-advantage notebook), :mod:`tiny_gpt` (the
tiny GPT part), :mod:`uncertainty` (every notebook with a headline number), :mod:`compute_budget`
(the roadmap chapter's compute budget) and :mod:`book_core` itself. They live in the core because
all of them use them. Importing this module imports no NumPy (the setup cell checks its seed before
the numerical settings are pinned, see :mod:`book_core.runtime`); the checks of arrays import it
when they run.

:func:`check_class_labels` validates label vectors for the NumPy network (the backpropagation
chapter), the Keras training helper and the evaluation metrics (the MNIST chapter), and the
data-quality checks (the FAQ chapter); :func:`check_probabilities` validates predicted class
probabilities for the evaluation metrics and the data-quality checks.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")


def _got(value: Any) -> str:
    """The value received, as messages show it: ``None``, or its repr and its type."""
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    kind = type(value).__name__
    return f"{text} ({'an' if kind[0] in 'aeiou' else 'a'} {kind})"


def _is_int(value: Any) -> bool:
    # NumPy integers are numbers.Integral; bool is too, and is refused (np.bool_ is not).
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_not_none(name: str, value: T | None, expected: str) -> T:
    """Return ``value`` unless it is None, which raises a TypeError naming ``name``.

    ``expected`` says what to pass instead, e.g. ``"a 2-D array of inputs"``. Used for required
    arguments that no more specific check below covers (arrays, models, records) in every package.

    Raises:
        TypeError: ``value`` is None.
    """
    if value is None:
        raise TypeError(f"{name} is required, got None; pass {expected}.")
    return value


def check_str(name: str, value: Any, *, example: str = "'billing'") -> str:
    """Return ``value`` if it is a string (empty allowed; callers decide), else a TypeError.

    For text arguments that must not be None: a model's answer to parse (the prompt-engineering
    chapter), a glue name, a notebook name (:mod:`book_core.seed_results`).

    Raises:
        TypeError: ``value`` is not a ``str`` (None, a number, bytes...).
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string, got {_got(value)}; pass a str such as {example}."
        )
    return value


def _int_rule(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer from {minimum} to {maximum}"
    if minimum == 1:
        return "a positive integer"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_int(
    name: str,
    value: int,
    minimum: int | None = 1,
    *,
    maximum: int | None = None,
    fix: str | None = None,
) -> int:
    """Return ``value`` as an ``int`` if it is an integer of at least ``minimum`` (and at most
    ``maximum``, when given).

    ``minimum=1`` (the default) asks for a positive integer, ``minimum=0`` for a count or a seed,
    ``minimum=None`` for any integer (an axis). Python ints and NumPy integers are accepted;
    bools, floats (even ``2.0``) and strings are not. ``fix`` replaces the default advice ("pass
    an int such as 3").

    Used for counts and sizes (epochs, batch sizes, layer widths, ``k``, seeds) in every package.

    Raises:
        TypeError: not an integer (None, a bool, a float, a string...).
        ValueError: an integer outside the range.
    """
    rule = _int_rule(minimum, maximum)
    if fix is None:
        low = -math.inf if minimum is None else minimum
        high = math.inf if maximum is None else maximum
        example = 3 if low <= 3 <= high else (minimum if minimum is not None else maximum)
        fix = f"pass an int such as {example}"
    if not _is_int(value):
        raise TypeError(f"{name} must be {rule}, got {_got(value)}; {fix}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {rule}, got {value!r}; {fix}.")
    return int(value)


def _sequence(name: str, values: Any, what: str, example: str) -> list[Any]:
    """``values`` as a list if it is a sequence or a 1-D array, not a string; else TypeError."""
    if isinstance(values, (str, bytes)):
        raise TypeError(
            f"{name} must be {what}, not a bare string: got {values!r}; wrap it in a list, "
            f"[{values!r}], or pass a list such as {example}."
        )
    if isinstance(values, Sequence):
        return list(values)
    if hasattr(values, "__array__"):  # NumPy arrays, pandas
        import numpy as np

        array = np.asarray(values)
        if array.ndim != 1:
            raise ValueError(f"{name} must be {what}, got an array of shape {array.shape}.")
        return array.tolist()
    raise TypeError(f"{name} must be {what}, got {_got(values)}; pass a list such as {example}.")


def check_ints(
    name: str,
    values: Sequence[int],
    *,
    minimum: int | None = 1,
    min_length: int = 1,
    item: str | None = None,
    fix: str | None = None,
) -> tuple[int, ...]:
    """Return ``values`` as a tuple of ints: a sequence (list, tuple, 1-D array) of at least
    ``min_length`` integers, each checked by :func:`check_int` with ``minimum``.

    Layer widths and filter counts (the MNIST chapter's model builders, the backpropagation
    chapter's network, the roadmap's MLP FLOP count). ``item`` names one element in messages
    (default ``"each of <name>"``); ``fix`` is the advice when there are too few.

    Raises:
        TypeError: not a sequence (None, a bare string, a number...), or an element not an integer.
        ValueError: too few elements, or an element out of range.
    """
    items = _sequence(name, values, "a sequence of integers", "[784, 128, 10]")
    item = item or f"each of {name}"
    example = 3 if minimum is None or minimum <= 3 else minimum
    checked = tuple(
        check_int(item, v, minimum, fix=f"fix {name}[{i}]: pass an int such as {example}")
        for i, v in enumerate(items)
    )
    if len(checked) < min_length:
        count = "at least one integer" if min_length == 1 else f"at least {min_length} integers"
        raise ValueError(
            f"{name} must hold {count}, got {values!r}; "
            f"{fix or 'pass a list such as [784, 128, 10]'}."
        )
    return checked


def _bounds(
    minimum: float | None, above: float | None, maximum: float | None, below: float | None
) -> tuple[float | None, str, float | None, str]:
    if minimum is not None and above is not None:
        raise ValueError("give at most one of minimum and above")
    if maximum is not None and below is not None:
        raise ValueError("give at most one of maximum and below")
    low, low_op = (minimum, ">=") if minimum is not None else (above, ">")
    high, high_op = (maximum, "<=") if maximum is not None else (below, "<")
    return low, low_op, high, high_op


def check_number(
    name: str,
    value: float,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    example: float | None = None,
    fix: str | None = None,
) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number within the bounds.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones: a learning
    rate is ``above=0``, a dropout rate ``minimum=0, below=1``, a confidence level ``above=0,
    below=1``. Ints, floats and NumPy numbers are accepted; bools, strings and complex numbers are
    not. ``example`` is a good value for the advice ("pass a number such as 0.5"); ``fix`` replaces
    that advice altogether.

    Used for rates, fractions, temperatures, thresholds and budgets: the MNIST chapter's models
    and training settings, the backpropagation chapter's optimisers and gradient check, the FAQ
    chapter's data-quality thresholds, the tiny GPT's sampling and baselines, the confidence
    levels of :mod:`uncertainty` and every budget of :mod:`compute_budget`.

    Raises:
        TypeError: not a real number (None, a bool, a string...).
        ValueError: NaN, an infinity, or a number outside the bounds.
    """
    low, low_op, high, high_op = _bounds(minimum, above, maximum, below)
    if low is not None and high is not None:
        left, right = ("[" if low_op == ">=" else "("), ("]" if high_op == "<=" else ")")
        rule = f"a finite number in {left}{low:g}, {high:g}{right}"
    elif low is not None:
        rule = f"a finite number {low_op} {low:g}"
    elif high is not None:
        rule = f"a finite number {high_op} {high:g}"
    else:
        rule = "a finite number"
    if fix is None:
        if example is None:
            if low is not None and high is not None:
                example = (low + high) / 2
            elif low is not None:
                example = low + 1
            elif high is not None:
                example = high - 1
            else:
                example = 0.5
        fix = f"pass a number such as {example:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # np.bool_ is not Real
        raise TypeError(f"{name} must be {rule}, got {_got(value)}; {fix}.")
    x = float(value)
    if (
        not math.isfinite(x)
        or (low is not None and (x < low if low_op == ">=" else x <= low))
        or (high is not None and (x > high if high_op == "<=" else x >= high))
    ):
        raise ValueError(f"{name} must be {rule}, got {value!r}; {fix}.")
    return x


def check_labels(
    name: str,
    labels: Sequence[str],
    *,
    allow_empty: bool = False,
    example: str = "['billing', 'shipping']",
) -> tuple[str, ...]:
    """Return ``labels`` as a tuple of ``str``: a sequence of strings (list, tuple, 1-D array),
    never a bare string.

    A bare string is refused because it is also a sequence of strings, its letters:
    ``"billing"`` as a label set would be the labels ``b``, ``i``, ``l``... Used for label sets
    and per-example labels (the prompt-engineering chapter's queues, parsers, probe and
    fine-tuning), and for other lists of names (plot titles and class names, metric names).
    Duplicates are allowed (one label per example repeats them).

    Raises:
        TypeError: not a sequence of strings (None, a bare string, a number, an element that is
            not a string).
        ValueError: empty, unless ``allow_empty``.
    """
    items = _sequence(name, labels, "a list or tuple of strings", example)
    for i, label in enumerate(items):
        if not isinstance(label, str):
            raise TypeError(
                f"{name} must be a list or tuple of strings, but {name}[{i}] is {_got(label)}; "
                f"pass strings such as {example}."
            )
    if not items and not allow_empty:
        raise ValueError(
            f"{name} is empty: it must hold at least one label; pass labels such as {example}."
        )
    return tuple(str(label) for label in items)


def check_class_labels(
    y: np.ndarray,
    n_classes: int,
    *,
    name: str = "labels",
    n: int | None = None,
    what: str = "examples",
) -> np.ndarray:
    """Return ``y`` as an ``int64`` vector of class indices in ``0..n_classes-1``.

    Args:
        y: the labels, one per example.
        n_classes: how many classes there are.
        name: what to call ``y`` in error messages.
        n: if given, the number of labels expected (one per ``what``).
        what: what the labels belong to, for the count-mismatch message ("images", "examples").

    Raises:
        TypeError: ``y`` is None, or ``n_classes`` or ``n`` is not an integer.
        ValueError: not 1-D (one-hot labels or probabilities), a count that does not match ``n``,
            non-integer values, or a class outside the range; the message says which.
    """
    import numpy as np

    check_not_none(name, y, "a 1-D array of class indices, one per example")
    check_int("n_classes", n_classes)
    if n is not None:
        check_int("n", n, minimum=0)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of class indices (one per example), got shape {y.shape}; "
            "one-hot labels or probabilities can be turned back with .argmax(axis=1)."
        )
    if n is not None and len(y) != n:
        raise ValueError(f"got {n} {what} but {len(y)} labels; they must match one to one.")
    if y.size == 0:  # an empty list arrives as float64; callers decide whether empty is allowed
        return y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be integers (class indices), got dtype {y.dtype}.")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}, i.e. [0, {n_classes}), "
            f"got values from {y.min()} to {y.max()}."
        )
    return y.astype(np.int64, copy=False)


def check_probabilities(probabilities: np.ndarray, n: int | None = None) -> np.ndarray:
    """Return ``probabilities`` as an array after checking it holds one probability row per example.

    The rules: shaped ``(n, k)`` with ``k >= 2``; finite numbers; each in [0, 1]; each row summing
    to 1 (within 1e-3, what float32 softmax outputs reach). Floats keep their dtype.

    Raises:
        TypeError: ``probabilities`` is None, or ``n`` is not an integer.
        ValueError: which rule is broken, and the likely cause (logits instead of softmax outputs,
            a diverged training, rows for the wrong number of labels).
    """
    import numpy as np

    check_not_none("probabilities", probabilities, "model.predict(x) for a softmax model")
    if n is not None:
        check_int("n", n, minimum=0)
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"probabilities must be shaped (examples, classes >= 2), got {p.shape}; "
            "pass model.predict(x) for a softmax model."
        )
    if n is not None and p.shape[0] != n:
        raise ValueError(f"got {p.shape[0]} rows of probabilities for {n} labels.")
    if not np.issubdtype(p.dtype, np.number) or np.issubdtype(p.dtype, np.complexfloating):
        raise ValueError(f"probabilities must be real numbers, got dtype {p.dtype}.")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities contain NaN or infinite values; did training diverge?")
    if p.min() < 0 or p.max() > 1 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "probabilities must lie in [0, 1] with rows summing to 1; were logits passed instead "
            "of softmax outputs? Apply softmax first."
        )
    return p
