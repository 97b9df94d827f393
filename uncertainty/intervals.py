"""Intervals: how far a measured number could be from the true one.

- :func:`wilson`: a proportion measured on a fixed set of items, e.g. test accuracy on the 10,000
  MNIST test images, or the share of tickets a prompt gets right. The Wilson score interval
  (Wilson 1927) stays inside [0, 1] and keeps close to its nominal coverage for small n and for
  proportions near 0 or 1, where the textbook "p ± 1.96·√(p(1-p)/n)" does not (Brown, Cai and
  DasGupta 2001).
- :func:`bootstrap_interval`: any statistic of a sample, by resampling it (``scipy.stats.bootstrap``).
- :func:`seed_spread`: a result of training, measured once per random seed; its mean, its standard
  deviation and a Student-t interval for the mean.

Introduced by the MNIST chapter (``baseline.ipynb``) and used wherever the book reports a headline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from book_core.checks import check_int
from uncertainty._checks import check_confidence, check_sample


@dataclass(frozen=True)
class Interval:
    """An estimate with a confidence interval, the number of items behind it, and how it was made."""

    estimate: float
    low: float
    high: float
    n: int
    confidence: float
    method: str

    def __str__(self) -> str:
        return self.format()

    def format(self, scale: float = 1.0, digits: int = 3, unit: str = "") -> str:
        """E.g. ``0.976 (95% Wilson interval 0.973 to 0.979, n = 10,000)``; ``scale=100`` for percent."""
        e, lo, hi = (f"{scale * v:.{digits}f}{unit}" for v in (self.estimate, self.low, self.high))
        return f"{e} ({self.confidence:.0%} {self.method} {lo} to {hi}, n = {self.n:,})"


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion ``successes / n`` (no continuity correction).

    Example: 9,760 right out of 10,000 test images gives 0.976 with the 95% interval 0.973 to 0.979.

    Raises:
        TypeError: counts that are not integers (a float, a bool, None...).
        ValueError: ``n < 1``, ``successes < 0`` or ``successes > n``, or a bad confidence level.
    """
    successes = check_int("successes", successes, minimum=0)
    n = check_int("n", n)
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n}).")
    confidence = check_confidence(confidence)
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(successes / n, float(ci.low), float(ci.high), n, confidence, "Wilson interval")


def bootstrap_interval(
    values,
    statistic: Callable[[np.ndarray], float] = np.mean,
    confidence: float = 0.95,
    n_resamples: int = 9_999,
    seed: int = 0,
) -> Interval:
    """Bootstrap (BCa) interval for ``statistic`` of a sample, by ``scipy.stats.bootstrap``.

    The resampling is seeded, so the interval is the same on every run.

    Raises:
        TypeError: ``values`` is None or not numbers, ``statistic`` is not callable, or
            ``n_resamples`` or ``seed`` is not an integer.
        ValueError: fewer than 2 values, non-finite values, or a bad confidence level.
    """
    sample = check_sample("values", values, minimum=2)
    confidence = check_confidence(confidence)
    if not callable(statistic):
        raise TypeError(
            f"statistic must be a function of a sample, got {statistic!r}; pass e.g. np.median."
        )
    n_resamples = check_int("n_resamples", n_resamples, fix="pass an int such as 9999")
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    result = stats.bootstrap(
        (sample,),
        lambda x, axis: np.apply_along_axis(statistic, axis, x),
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return Interval(
        float(statistic(sample)),
        float(ci.low),
        float(ci.high),
        len(sample),
        confidence,
        "bootstrap interval",
    )


@dataclass(frozen=True)
class SeedSpread:
    """A training result measured under several seeds: mean, sample sd, min, max, t-interval."""

    values: dict[int, float]
    mean: float
    sd: float
    interval: Interval

    @property
    def n(self) -> int:
        return len(self.values)

    def format(self, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
        """E.g. ``97.55% ± 0.18 (sd over 5 seeds; 95% t-interval for the mean 97.33 to 97.77%)``."""
        f = lambda v: f"{scale * v:.{digits}f}"  # noqa: E731
        return (
            f"{f(self.mean)}{unit} ± {f(self.sd)} (sd over {self.n} seeds; "
            f"{self.interval.confidence:.0%} t-interval for the mean "
            f"{f(self.interval.low)} to {f(self.interval.high)}{unit})"
        )

    def __str__(self) -> str:
        return self.format()


def seed_spread(values_by_seed: Mapping[int, float], confidence: float = 0.95) -> SeedSpread:
    """Summarise one result over training seeds: ``{seed: value}`` -> mean, sd and t-interval.

    The standard deviation is the sample one (``ddof=1``); the interval is Student's t interval
    for the mean, which treats the seeds as a random sample of possible training runs.

    Raises:
        TypeError: ``values_by_seed`` is not a mapping ``{seed: value}`` (a list, None...).
        ValueError: fewer than 2 seeds, or non-finite values.
    """
    if not isinstance(values_by_seed, Mapping):
        raise TypeError(
            f"values_by_seed must be a mapping {{seed: value}}, got "
            f"{type(values_by_seed).__name__}; give the results as e.g. {{42: 0.97, 43: 0.98}}."
        )
    confidence = check_confidence(confidence)
    seeds = sorted(values_by_seed)
    sample = check_sample("values_by_seed", [values_by_seed[s] for s in seeds], minimum=2)
    mean, sd, n = float(sample.mean()), float(sample.std(ddof=1)), len(sample)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sd / np.sqrt(n)
    interval = Interval(mean, mean - half, mean + half, n, confidence, "t-interval")
    return SeedSpread({s: float(values_by_seed[s]) for s in seeds}, mean, sd, interval)


@dataclass(frozen=True)
class SeedComparison:
    """Difference of the means of two training results over seeds, with Welch's t-test."""

    difference: float
    t: float
    df: float
    p_value: float

    def format(self, a: str = "A", b: str = "B", digits: int = 2, unit: str = "") -> str:
        return (
            f"{a} - {b}: {self.difference:+.{digits}f}{unit} on average over seeds; "
            f"Welch's t = {self.t:.1f}, df = {self.df:.1f}, p = {self.p_value:.2g}"
        )

    def __str__(self) -> str:
        return self.format()


def compare_seeds(a: SeedSpread, b: SeedSpread) -> SeedComparison:
    """Welch's two-sample t-test of "A and B train to the same mean result".

    For two recipes each trained under several seeds, when their runs are not paired item by item
    (for one test set and one run each, use :func:`uncertainty.paired.mcnemar` instead). Welch's
    version does not assume the two spreads are equal.

    Raises:
        TypeError: ``a`` or ``b`` is not a :class:`SeedSpread` (make them with :func:`seed_spread`).
    """
    for name, spread in (("a", a), ("b", b)):
        if not isinstance(spread, SeedSpread):
            raise TypeError(
                f"{name} must be a SeedSpread, got {type(spread).__name__}; make it with "
                "seed_spread({seed: value})."
            )
    result = stats.ttest_ind(list(a.values.values()), list(b.values.values()), equal_var=False)
    return SeedComparison(
        a.mean - b.mean, float(result.statistic), float(result.df), float(result.pvalue)
    )
