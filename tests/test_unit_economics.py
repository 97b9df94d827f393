"""compute_budget.economics and compute_budget.measured (the roadmap's unit-economics notebook).

Expected values are worked out by hand in the comments; the record is checked against the stored
notebooks it was copied from, and against the About page's results.json, which is made apart.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compute_budget.economics import (
    HOURS_PER_MONTH,
    api_cost,
    break_even,
    error_cost,
    fleet_cost,
    gross_margin,
    labelling_cost,
)
from compute_budget.measured import measured

ROOT = Path(__file__).resolve().parents[1]


def test_api_cost_by_hand() -> None:
    # 1,000 tickets × (680 tokens × $0.15 + 2 tokens × $0.60) per million = 1,000 × 103.2e-6
    assert api_cost(1000, 680, 2, 0.15, 0.60) == pytest.approx(0.1032)
    assert api_cost(0, 680, 2, 0.15, 0.60) == 0


def test_a_fleet_rents_whole_machines_and_at_least_one() -> None:
    month = HOURS_PER_MONTH * 0.10  # one machine at $0.10 an hour: $73.05
    assert month == pytest.approx(73.05)
    assert fleet_cost(0, 100, 0.10) == pytest.approx(month)  # idle, but rented
    capacity = 100 * HOURS_PER_MONTH  # 73,050 tickets a month fill one machine
    assert fleet_cost(capacity, 100, 0.10) == pytest.approx(month)
    assert fleet_cost(capacity + 1, 100, 0.10) == pytest.approx(2 * month)
    assert fleet_cost(10 * capacity, 100, 0.10) == pytest.approx(10 * month)


def test_labelling_errors_and_margin_by_hand() -> None:
    assert labelling_cost(208, 1.0, 20.0) == pytest.approx(208 / 3)  # 208 minutes at $20 an hour
    assert labelling_cost(60, 2.0, 15.0) == pytest.approx(30.0)
    assert error_cost(1000, 0.87, 0.50) == pytest.approx(65.0)  # 130 errors at $0.50
    assert error_cost(1000, 1.0, 0.50) == 0
    assert gross_margin(10.0, 2.5) == pytest.approx(0.75)
    assert gross_margin(10.0, 30.0) == pytest.approx(-2.0)  # serving at a loss


def test_break_even_is_where_a_stays_cheaper() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.full(4, 2.0)
    assert break_even(v, np.array([5.0, 5.0, 1.0, 1.0]), b) == 3.0
    assert break_even(v, np.array([1.0, 1.0, 1.0, 1.0]), b) == 1.0  # never the dearer one
    assert break_even(v, np.array([1.0, 1.0, 1.0, 5.0]), b) is None  # dearer at the largest
    assert break_even(v, np.array([1.0, 5.0, 1.0, 1.0]), b) == 3.0  # from the last crossing


@pytest.mark.parametrize(
    "call,error,words",
    [
        (lambda: error_cost(100, 87, 0.5), ValueError, "0.87"),
        (lambda: api_cost(-1, 680, 2, 0.15, 0.6), ValueError, "tickets"),
        (lambda: api_cost(1, 680, 2, "0.15", 0.6), TypeError, "per million"),
        (lambda: fleet_cost(10, 0, 0.1), ValueError, "tickets_per_hour"),
        (lambda: gross_margin(0, 1), ValueError, "revenue"),
        (lambda: labelling_cost(10, None, 20), TypeError, "minutes_per_label"),
        (lambda: break_even([1, 2], [1, 2, 3], [1, 2]), ValueError, "one length"),
        (lambda: break_even([2, 1], [1, 2], [1, 2]), ValueError, "ascending"),
    ],
)
def test_bad_input_says_what_is_wrong(call, error, words) -> None:
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------------------- the record


def test_the_record_matches_the_stored_notebooks() -> None:
    """Re-executing the ladder with other numbers fails here until the record is made again."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "record_measurements.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_record_agrees_with_the_about_page() -> None:
    """results.json is collected by the About page, apart from the record's script."""
    results = {
        r["name"]: r for r in json.loads((ROOT / "chapters" / "about" / "results.json").read_text())
    }
    for name, key in [
        ("probe_accuracy", "ladder_probe_accuracy"),
        ("finetune_accuracy", "ladder_finetune_accuracy"),
        ("token_ratio_qwen", "token_ratio_qwen"),
    ]:
        m = measured(name)
        assert (m.value, m.low, m.high, m.n) == tuple(
            results[key][k] for k in ("value", "low", "high", "n")
        )


def test_the_record_is_consistent() -> None:
    probe = measured("probe_accuracy")
    assert probe.low < probe.value < probe.high and probe.n == 208 and probe.unit == "%"
    right = round(probe.value / 100 * probe.n)  # an accuracy of n = 208 is a count / 208
    assert math.isclose(100 * right / probe.n, probe.value, abs_tol=0.05)
    curve = [measured(f"curve_{s}").value for s in (4, 8, 16, 32, 50)]
    assert all(0 < c < 1 for c in curve) and curve[0] < curve[-1]
    timing = measured("cpu_seconds_probe")
    assert timing.seed_runs["n"] == 5 and timing.seed_runs["min"] <= timing.seed_runs["max"]
    assert measured("prompt_tokens").value < measured("prompt_tokens_whole").value


def test_an_unknown_measurement_lists_the_recorded_ones() -> None:
    with pytest.raises(KeyError, match="probe_accuracy"):
        measured("probe_acc")
    with pytest.raises(TypeError):
        measured(None)  # type: ignore[arg-type]
