"""A headline result as one record: shown in its notebook, collected by the About page.

A notebook that states a headline number calls :func:`report` with a :class:`Result`. That prints
one line for the reader and stores the record as a glued output (myst-nb's glue format, see
:mod:`book_core.glue`) named ``result_<name>``. The About page (``chapters/about/index.ipynb``)
reads those records from the stored notebooks into its "results at a glance" table and into
``chapters/about/results.json``, so neither is ever typed by hand.

Introduced by the MNIST chapter (``baseline.ipynb``); used by every notebook with a headline number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from book_core.checks import check_int, check_number, check_str
from uncertainty.intervals import Interval, SeedSpread, wilson

RESULT_PREFIX = "result_"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Result:
    """One headline number with its uncertainty.

    Attributes:
        name: a short identifier, lower case with underscores (``cnn_test_accuracy``).
        label: what the number is, in words, for the table.
        value: the estimate (a mean over seeds, or a proportion measured once).
        low, high: the ends of its interval.
        n: how many items or seeds it rests on.
        unit: ``"%"``, ``"s"``, ``"tokens"`` ...
        interval: how ``low``-``high`` was made, e.g. "95% t-interval over 5 seeds".
        test_items: for a result over seeds that were all scored on the same test items, how many
            items that is. A seed interval covers training noise only; with ``test_items`` the
            record also carries the test-set sampling error of one run
            (:meth:`test_half_width`), which is often the larger of the two.
    """

    name: str
    label: str
    value: float
    low: float
    high: float
    n: int
    unit: str
    interval: str
    test_items: int | None = None

    def __post_init__(self) -> None:
        check_str("name", self.name, example="'cnn_test_accuracy'")
        if not _NAME.match(self.name):
            raise ValueError(
                f"result names are lower case letters, digits and underscores, got {self.name!r}."
            )
        for field in ("label", "unit", "interval"):
            check_str(field, getattr(self, field), example="'%'" if field == "unit" else "'...'")
        for field in ("value", "low", "high"):
            value = getattr(self, field)
            check_number(field, value, fix=f"give {self.name}'s {field} as a number such as 97.5")
            if isinstance(value, np.generic):  # np.float32(97.5) -> 97.5, which JSON can store
                object.__setattr__(self, field, value.item())
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"{self.name}: the interval low-high, {self.low}-{self.high}, does not contain "
                f"value {self.value}."
            )
        object.__setattr__(self, "n", check_int("n", self.n))
        if self.test_items is not None:
            object.__setattr__(self, "test_items", check_int("test_items", self.test_items))

    def test_half_width(self, confidence: float = 0.95) -> float | None:
        """Half the width of one run's Wilson interval on the ``test_items`` test items, in the
        units of ``value`` (percentage points for a ``"%"`` share); None when the result is not a
        share in percent over seeds scored on a fixed test set."""
        if self.test_items is None or self.unit != "%":
            return None
        share = wilson(round(self.value / 100 * self.test_items), self.test_items, confidence)
        return 100 * (share.high - share.low) / 2

    @classmethod
    def from_interval(
        cls,
        name: str,
        label: str,
        interval: Interval,
        unit: str = "",
        scale: float = 1.0,
        digits: int = 2,
    ) -> Result:
        """A result measured once on ``interval.n`` items (e.g. a Wilson interval of an accuracy)."""
        r = lambda v: round(scale * v, digits)  # noqa: E731
        how = f"{interval.confidence:.0%} {interval.method}, n = {interval.n:,} items"
        return cls(
            name,
            label,
            r(interval.estimate),
            r(interval.low),
            r(interval.high),
            interval.n,
            unit,
            how,
        )

    @classmethod
    def from_seeds(
        cls,
        name: str,
        label: str,
        spread: SeedSpread,
        unit: str = "",
        scale: float = 1.0,
        digits: int = 2,
        test_items: int | None = None,
    ) -> Result:
        """A training result: the mean over seeds, with the t-interval for the mean.

        ``test_items``: how many test items every seed was scored on (10,000 MNIST digits, 208
        held-out tickets), so that the record also carries one run's test-set interval."""
        r = lambda v: round(scale * v, digits)  # noqa: E731
        iv = spread.interval
        how = (
            f"mean over {spread.n} seeds, sd {r(spread.sd)}; "
            f"{iv.confidence:.0%} t-interval for the mean"
        )
        return cls(
            name, label, r(spread.mean), r(iv.low), r(iv.high), spread.n, unit, how, test_items
        )

    def formatted(self) -> tuple[str, str, str]:
        """Value, low and high as text, all with the same number of decimals (97.50, not 97.5)."""
        numbers = (self.value, self.low, self.high)
        decimals = max(len(repr(float(v)).partition(".")[2].rstrip("0")) for v in numbers)
        return tuple(f"{v:.{decimals}f}" for v in numbers)  # type: ignore[return-value]

    def __str__(self) -> str:
        value, low, high = self.formatted()
        u = self.unit
        text = f"{self.label}: {value}{u} [{low}{u}, {high}{u}] ({self.interval})"
        half = self.test_half_width()
        if half is not None:
            text += f"; one run on {self.test_items:,} test items: ± {half:.2f} points (95% Wilson)"
        return text


def report(result: Result) -> None:
    """Print ``result`` for the reader and store it for the About page's results table.

    Raises:
        TypeError: ``result`` is not a :class:`Result`.
    """
    if not isinstance(result, Result):
        raise TypeError(
            f"result must be a Result, got {type(result).__name__}; make one with "
            "Result.from_seeds(...) or Result.from_interval(...)."
        )
    from IPython.display import display

    print(result)
    record = asdict(result)
    if record["test_items"] is None:  # records made before the field existed compare unchanged
        del record["test_items"]
    # One text field holding JSON: notebook outputs may carry JSON objects only under JSON MIME
    # types, and a glued value's type is prefixed (application/papermill.record/...), so the
    # record travels as text and collect() parses it back.
    bundle = {"text/plain": json.dumps(record, ensure_ascii=False)}
    prefix = "application/papermill.record/"
    metadata = {"scrapbook": {"name": RESULT_PREFIX + result.name, "mime_prefix": prefix}}
    display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def collect(notebook: dict, source: str) -> list[dict]:
    """The result records stored in a notebook's outputs, each with ``source`` added.

    Raises:
        TypeError: ``notebook`` is not a notebook's JSON as a dict (None, a path...).
        ValueError: a record is malformed, or two records share a name.
    """
    if not isinstance(notebook, Mapping):
        raise TypeError(
            f"notebook must be a notebook's JSON as a dict, got {type(notebook).__name__}; "
            "pass json.loads(path.read_text())."
        )
    found: dict[str, dict] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name", "")
            if not name.startswith(RESULT_PREFIX):
                continue
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            try:
                record = json.loads(text if isinstance(text, str) else "".join(text or []))
                result = Result(**record)  # validates
            except (json.JSONDecodeError, TypeError) as err:
                raise ValueError(f"{source}: result {name!r} is not a valid record: {err}") from err
            if result.name in found:
                raise ValueError(f"{source}: two results are named {result.name!r}.")
            found[result.name] = {**asdict(result), "source": source}
    return list(found.values())
