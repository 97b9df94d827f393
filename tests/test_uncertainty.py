"""The statistics helpers against values published in textbooks and papers, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from uncertainty import (
    Result,
    bootstrap_interval,
    compare_seeds,
    mcnemar,
    paired_bootstrap,
    report,
    seed_spread,
    sign_test,
    wilson,
)
from uncertainty.results import collect


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [  # Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (score, no correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(successes, n, low, high):
    interval = wilson(successes, n)
    assert interval.estimate == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)
    assert interval.n == n


def test_wilson_is_not_the_wald_interval():
    # Wald would give 1 +- 0 for 29/29; Wilson's upper end is 1 and its lower end well below.
    interval = wilson(29, 29)
    assert interval.high == pytest.approx(1.0)
    assert interval.low == pytest.approx(0.8830, abs=5e-4)


@pytest.mark.parametrize(
    ("successes", "n", "error", "message"),
    [
        (11, 10, ValueError, "cannot exceed"),
        (-1, 10, ValueError, "successes"),
        (1, 0, ValueError, "n must"),
        (1.5, 10, TypeError, "successes"),  # a wrong type, not a wrong value (book_core.checks)
    ],
)
def test_wilson_rejects_bad_counts(successes, n, error, message):
    with pytest.raises(error, match=message):
        wilson(successes, n)


def test_seed_spread_matches_students_sleep_data():
    # Student (1908) / Cushny-Peebles: the paired differences of the "sleep" data; R's
    # t.test(extra ~ group, data = sleep, paired = TRUE) gives mean 1.58, CI 0.7001142-2.4598858.
    diffs = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    spread = seed_spread(dict(enumerate(diffs)))
    assert spread.mean == pytest.approx(1.58)
    assert spread.sd == pytest.approx(1.2299955, rel=1e-6)  # the sample sd (ddof=1)
    assert spread.interval.low == pytest.approx(0.7001142, abs=1e-6)
    assert spread.interval.high == pytest.approx(2.4598858, abs=1e-6)
    assert spread.n == 10


def test_seed_spread_needs_two_seeds_and_a_mapping():
    with pytest.raises(ValueError, match="at least 2"):
        seed_spread({42: 0.99})
    with pytest.raises(TypeError, match="seed: value"):
        seed_spread([0.99, 0.98])


def _pairs(both_right: int, only_a: int, only_b: int, both_wrong: int):
    a = [1] * both_right + [1] * only_a + [0] * only_b + [0] * both_wrong
    b = [1] * both_right + [0] * only_a + [1] * only_b + [0] * both_wrong
    return a, b


def test_mcnemar_matches_agresti():
    # Agresti, An Introduction to Categorical Data Analysis (2007), Table 8.1: approval of the
    # president's performance in two surveys, 794 / 150 / 86 / 570; McNemar z^2 = 17.36.
    result = mcnemar(*_pairs(794, 150, 86, 570))
    assert (result.only_a_right, result.only_b_right, result.n) == (150, 86, 1600)
    assert result.statistic == pytest.approx(17.36, abs=0.005)
    assert result.p_value < 1e-4


def test_mcnemar_exact_p_by_hand():
    # 1 against 7 discordant items: P = 2 * (C(8,0) + C(8,1)) / 2^8 = 18/256.
    result = mcnemar(*_pairs(50, 1, 7, 3))
    assert result.p_value == pytest.approx(18 / 256)
    # Concordant items do not matter: only the discordant ones carry information.
    assert mcnemar(*_pairs(5000, 1, 7, 900)).p_value == pytest.approx(18 / 256)


def test_mcnemar_without_disagreement_is_no_evidence():
    result = mcnemar(*_pairs(10, 0, 0, 2))
    assert result.p_value == 1.0 and result.discordant == 0


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [([1, 0, 1], [1, 0], "same items"), ([1, 2, 0], [1, 0, 0], "right"), ([[1]], [[1]], "one-dim")],
)
def test_mcnemar_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        mcnemar(a, b)


def test_sign_test_by_hand():
    # 8 against 2, two ties: P = 2 * (1 + 10 + 45) / 2^10 = 0.109375.
    a = [2] * 8 + [0] * 2 + [1, 1]
    b = [1] * 8 + [1] * 2 + [1, 1]
    result = sign_test(a, b)
    assert (result.a_higher, result.b_higher, result.ties) == (8, 2, 2)
    assert result.p_value == pytest.approx(112 / 1024)


def test_paired_bootstrap_sees_a_difference_that_unpaired_intervals_miss():
    # Two classifiers that share almost all their answers: their separate intervals overlap,
    # but A is right on 12 items where B is wrong and never the reverse.
    rng = np.random.default_rng(0)
    b = rng.random(400) < 0.7
    a = b.copy()
    a[np.flatnonzero(~b)[:12]] = True
    diff = paired_bootstrap(a.astype(float), b.astype(float))
    assert diff.excludes_zero and diff.interval.low > 0
    assert diff.interval.estimate == pytest.approx(12 / 400)
    wa, wb = wilson(int(a.sum()), 400), wilson(int(b.sum()), 400)
    assert wa.low < wb.high  # the unpaired intervals overlap
    assert mcnemar(a, b).p_value < 0.001


def test_paired_bootstrap_of_identical_scores_is_zero():
    diff = paired_bootstrap([1, 0, 1, 1], [1, 0, 1, 1])
    assert (diff.interval.low, diff.interval.high) == (0.0, 0.0) and not diff.excludes_zero


def test_bootstrap_interval_agrees_with_t_for_a_normal_sample():
    x = np.random.default_rng(1).normal(10.0, 2.0, size=400)
    boot = bootstrap_interval(x)
    t = seed_spread(dict(enumerate(x))).interval
    assert boot.low == pytest.approx(t.low, abs=0.05)
    assert boot.high == pytest.approx(t.high, abs=0.05)
    assert bootstrap_interval(x).low == boot.low  # seeded: the same every run


def test_bootstrap_interval_is_bca_not_percentile_on_a_skewed_sample():
    """The documented BCa interval, which a percentile interval misses on skewed data."""
    from scipy import stats

    x = np.random.default_rng(1).exponential(1.0, size=40)

    def scipy_interval(method: str) -> np.ndarray:
        rng = np.random.default_rng(5)  # the generator bootstrap_interval(seed=5) makes
        ci = stats.bootstrap((x,), np.mean, n_resamples=2_000, method=method, rng=rng)
        return np.array([ci.confidence_interval.low, ci.confidence_interval.high])

    bca, percentile = scipy_interval("BCa"), scipy_interval("percentile")
    assert np.all(np.abs(bca - percentile) > 0.05)  # the sample tells the two methods apart
    ours = bootstrap_interval(x, n_resamples=2_000, seed=5)
    np.testing.assert_allclose([ours.low, ours.high], bca, rtol=1e-9)
    assert ours.estimate == pytest.approx(x.mean())


def test_bootstrap_interval_rejects_bad_samples():
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_interval([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_interval([1.0])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval([1.0, 2.0, 3.0], confidence=95)


def test_result_records_validate():
    ok = dict(
        name="cnn_acc", label="CNN", value=99.2, low=99.1, high=99.3, n=5, unit="%", interval="t"
    )
    Result(**ok)
    for change, message in [
        ({"name": "CNN accuracy"}, "lower case"),
        ({"low": 99.25}, "does not contain"),
        ({"n": 0}, "positive integer"),
        ({"high": float("inf")}, "finite"),
    ]:
        with pytest.raises(ValueError, match=message):
            Result(**{**ok, **change})


def test_result_from_seeds_and_from_interval():
    spread = seed_spread({42: 0.991, 43: 0.992, 44: 0.993})
    r = Result.from_seeds("cnn_acc", "CNN", spread, unit="%", scale=100)
    assert (r.value, r.n) == (99.2, 3)
    assert r.low < 99.2 < r.high and "3 seeds" in r.interval
    w = Result.from_interval("base", "baseline", wilson(9760, 10_000), unit="%", scale=100)
    # by hand: centre 0.975817, half-width 0.0030047 -> 97.28 to 97.88
    assert (w.value, w.low, w.high, w.n) == (97.6, 97.28, 97.88, 10_000)
    # printed with one number of decimals for all three: 97.60, not 97.6
    assert w.formatted() == ("97.60", "97.28", "97.88") and "97.60% [97.28%, 97.88%]" in str(w)


def test_a_seed_result_carries_one_runs_test_set_interval():
    spread = seed_spread({42: 0.49, 43: 0.50, 44: 0.51})
    r = Result.from_seeds("acc", "A model", spread, unit="%", scale=100, test_items=100)
    # by hand, Wilson for 50 of 100 at 95%: half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2))
    # = 1.959964 / 1.038415 * sqrt(0.0025 + 0.000096) = 0.096169 -> 9.62 points
    assert r.test_items == 100 and r.test_half_width() == pytest.approx(9.6169, abs=1e-3)
    assert "one run on 100 test items: ± 9.62 points (95% Wilson)" in str(r)
    # without the number of test items, or for a number that is not a share, there is none
    assert (
        Result.from_seeds("acc", "A model", spread, unit="%", scale=100).test_half_width() is None
    )
    loss = Result.from_seeds("ppl", "Perplexity", spread, scale=100, test_items=100)
    assert loss.test_half_width() is None and "test items" not in str(loss)
    with pytest.raises(ValueError, match="positive integer"):
        Result.from_seeds("acc", "A model", spread, unit="%", scale=100, test_items=0)


def test_report_stores_a_record_that_collect_reads_back(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr(
        "IPython.display.display", lambda data, raw, metadata: shown.append((data, metadata))
    )
    result = Result("cnn_acc", "CNN", 99.2, 99.1, 99.3, 5, "%", "t-interval over 5 seeds")
    report(result)
    assert "CNN: 99.2%" in capsys.readouterr().out
    ((data, metadata),) = shown
    output = {"output_type": "display_data", "data": data, "metadata": metadata}
    notebook = {"cells": [{"cell_type": "code", "outputs": [output]}]}
    records = collect(notebook, "chapters/mnist/cnn.ipynb")
    stored = json.loads(data["application/papermill.record/text/plain"])
    assert "test_items" not in stored  # left out when unset, so older records compare unchanged
    assert records == [{**stored, "test_items": None, "source": "chapters/mnist/cnn.ipynb"}]
    with pytest.raises(ValueError, match="two results"):
        collect({"cells": [{"outputs": [output, output]}]}, "x.ipynb")
    broken = {**output, "data": {"application/papermill.record/text/plain": '{"name": "x"}'}}
    with pytest.raises(ValueError, match="not a valid record"):
        collect({"cells": [{"outputs": [broken]}]}, "x.ipynb")


def test_compare_seeds_matches_welchs_formula_by_hand():
    a = seed_spread({1: 97.5, 2: 97.7, 3: 97.6, 4: 97.8, 5: 97.4})
    b = seed_spread({1: 98.2, 2: 98.4, 3: 98.3, 4: 98.1, 5: 98.6, 6: 98.3})
    va, vb = a.sd**2 / 5, b.sd**2 / 6
    t = (a.mean - b.mean) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 5)  # Welch-Satterthwaite
    result = compare_seeds(a, b)
    assert result.t == pytest.approx(t)
    assert result.df == pytest.approx(df)
    assert result.difference == pytest.approx(a.mean - b.mean)
    assert result.p_value < 0.001
    same = compare_seeds(a, a)
    assert same.p_value == pytest.approx(1.0) and same.difference == 0


def test_p_values_below_the_floor_print_as_a_bound() -> None:
    from uncertainty.paired import format_p

    # 40 items only A gets right, 2 only B: p = 2 * (1 + 42 + 861) / 2**42 = 4.1e-10
    strong = mcnemar([True] * 40 + [False] * 2, [False] * 40 + [True] * 2)
    assert strong.p_value == pytest.approx(2 * (1 + 42 + 861) / 2**42)
    assert strong.format("A", "B").endswith("exact McNemar p < 0.0001")
    # 3 against 0: p = 2 / 2**3 = 0.25
    weak = mcnemar([True] * 3, [False] * 3)
    assert weak.format("A", "B").endswith("exact McNemar p = 0.25")
    assert format_p(0.0001) == "p = 0.0001" and format_p(0.0000999) == "p < 0.0001"
