"""Paired comparisons: is A really better than B on the same items?

Two classifiers scored on one test set, or two prompts on one ticket set, are *paired*: each item
is answered by both. A paired test looks only at the items where they differ, which makes it far
more sensitive than comparing two separate intervals.

- :func:`mcnemar`: exact McNemar test (a binomial test on the discordant items), for right/wrong
  outcomes, e.g. the tuned MLP against the CNN on the 10,000 MNIST test images;
- :func:`sign_test`: for paired scores, counting which of the two is higher per item;
- :func:`paired_bootstrap`: an interval for the mean difference, by resampling items.

A p-value above 0.05 means "no measurable difference on this many items", not "equally good".

Introduced by the MNIST chapter (``evaluation.ipynb``) and used by the prompt-engineering chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from book_core.checks import check_int, check_number
from uncertainty._checks import check_confidence, check_paired
from uncertainty.intervals import Interval, bootstrap_interval

P_FLOOR = 1e-4
"""p-values below this are printed as ``p < 0.0001``: their exact size moves with the last few
items a model gets right (another seed, another machine), and any of them means the same."""


def format_p(p: float) -> str:
    """``"p = 0.031"`` (two significant digits), or ``"p < 0.0001"`` below :data:`P_FLOOR`."""
    p = check_number("p", p, minimum=0, maximum=1, example=0.05)
    return "p < 0.0001" if p < P_FLOOR else f"p = {p:.2g}"


@dataclass(frozen=True)
class McNemarResult:
    """Outcome of McNemar's test on two classifiers A and B scored on the same ``n`` items."""

    n: int
    only_a_right: int
    only_b_right: int
    p_value: float
    statistic: float

    @property
    def discordant(self) -> int:
        return self.only_a_right + self.only_b_right

    def format(self, a: str = "A", b: str = "B") -> str:
        items = "item" if self.only_a_right == 1 else "items"
        return (
            f"{a} right and {b} wrong on {self.only_a_right:,} {items}, the reverse on "
            f"{self.only_b_right:,} (of {self.n:,}); exact McNemar {format_p(self.p_value)}"
        )

    def __str__(self) -> str:
        return self.format()


def mcnemar(correct_a, correct_b) -> McNemarResult:
    """Exact McNemar test of "A and B are equally accurate" from per-item right/wrong arrays.

    Under the null hypothesis each discordant item (right for one, wrong for the other) is equally
    likely to favour either, so the count favouring A is Binomial(discordant, 1/2); the p-value is
    the two-sided binomial one. ``statistic`` is the classic chi-square (b - c)^2 / (b + c),
    without continuity correction, reported for comparison with textbooks (0 when b + c = 0).

    Raises:
        TypeError: an array is None or holds strings.
        ValueError: arrays of different lengths, not one-dimensional, or not right/wrong values.
    """
    a, b = check_paired("correct_a", correct_a, "correct_b", correct_b, boolean=True)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    discordant = only_a + only_b
    if discordant == 0:
        return McNemarResult(len(a), 0, 0, 1.0, 0.0)
    p_value = float(stats.binomtest(only_a, discordant, 0.5).pvalue)
    statistic = (only_a - only_b) ** 2 / discordant
    return McNemarResult(len(a), only_a, only_b, p_value, float(statistic))


@dataclass(frozen=True)
class SignTestResult:
    """Sign test on paired scores: how often A scored higher, how often B, and the p-value."""

    n: int
    a_higher: int
    b_higher: int
    ties: int
    p_value: float

    def format(self, a: str = "A", b: str = "B") -> str:
        return (
            f"{a} higher on {self.a_higher}, {b} higher on {self.b_higher}, ties {self.ties} "
            f"(of {self.n}); two-sided sign test {format_p(self.p_value)}"
        )

    def __str__(self) -> str:
        return self.format()


def sign_test(scores_a, scores_b) -> SignTestResult:
    """Two-sided sign test of "neither A nor B tends to score higher", ties dropped.

    Raises:
        TypeError: an array is None or holds strings.
        ValueError: arrays of different lengths, empty, or with non-finite values.
    """
    a, b = check_paired("scores_a", scores_a, "scores_b", scores_b, boolean=False)
    a_higher, b_higher = int((a > b).sum()), int((a < b).sum())
    ties = len(a) - a_higher - b_higher
    untied = a_higher + b_higher
    p_value = 1.0 if untied == 0 else float(stats.binomtest(a_higher, untied, 0.5).pvalue)
    return SignTestResult(len(a), a_higher, b_higher, ties, p_value)


@dataclass(frozen=True)
class PairedDifference:
    """Mean of A - B over the same items, with a bootstrap interval."""

    interval: Interval

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies entirely on one side of 0: a measurable difference."""
        return self.interval.low > 0 or self.interval.high < 0

    def format(self, scale: float = 1.0, digits: int = 3, unit: str = "") -> str:
        return "difference A - B: " + self.interval.format(scale, digits, unit)

    def __str__(self) -> str:
        return self.format()


def paired_bootstrap(
    scores_a, scores_b, confidence: float = 0.95, n_resamples: int = 9_999, seed: int = 0
) -> PairedDifference:
    """Bootstrap interval for the mean of A - B, resampling items (so pairs stay together).

    With right/wrong scores (1/0) this is the interval for the difference in accuracy.

    Raises:
        TypeError: scores that are None or not numbers, or ``n_resamples`` or ``seed`` not an
            integer.
        ValueError: arrays of different lengths, fewer than 2 items, or non-finite values.
    """
    a, b = check_paired("scores_a", scores_a, "scores_b", scores_b, boolean=False)
    confidence = check_confidence(confidence)
    check_int("n_resamples", n_resamples, fix="pass an int such as 9999")
    check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    diff = a - b
    if np.all(diff == diff[0]):  # no variation: every resample gives the same mean
        value = float(diff[0])
        return PairedDifference(
            Interval(value, value, value, len(diff), confidence, "bootstrap interval")
        )
    return PairedDifference(bootstrap_interval(diff, np.mean, confidence, n_resamples, seed))
