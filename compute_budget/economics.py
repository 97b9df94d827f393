"""Unit economics of a model in production: what serving, labelling and errors cost per month.

Used by the startup-roadmap chapter's unit-economics notebook
(``chapters/roadmap/unit_economics.ipynb``), which prices the book's running product, routing
support tickets, three ways: a hosted API paid per token, an open model on rented GPUs, and the
prompting ladder's trained rung on rented CPUs. The notebook shows these functions in its own cells,
where a reader can change them; ``tests/test_page_library_agree.py`` checks that the two copies are
the same code.

Three kinds of cost, each per month:

- *variable*: paid per ticket, like an API's price per token;
- *capacity*: machines rented by the hour, whole machines only and at least one, so a small volume
  pays for a machine that is mostly idle;
- *one-off*: labelling the training tickets, spread over the months the labels serve.

An error has a cost too: a misrouted ticket costs an agent's time to route it again, or a customer.
With a price on it, the cheapest option is the one whose serving cost plus error cost is lowest.
"""

from __future__ import annotations

import math

import numpy as np

from book_core.checks import check_not_none, check_number

#: Hours in an average month (365.25 days × 24 hours / 12).
HOURS_PER_MONTH = 730.5


def api_cost(
    tickets: float, tokens_in: float, tokens_out: float, price_in: float, price_out: float
) -> float:
    """US dollars for ``tickets`` answered by a hosted API priced per million tokens read and written."""
    for name, value in [("tickets", tickets), ("tokens_in", tokens_in), ("tokens_out", tokens_out)]:
        check_number(name, value, minimum=0)
    for name, value in [("price_in", price_in), ("price_out", price_out)]:
        check_number(name, value, minimum=0, fix="give US dollars per million tokens, e.g. 0.15")
    return tickets * (tokens_in * price_in + tokens_out * price_out) / 1e6


def fleet_cost(tickets: float, tickets_per_hour: float, price_per_hour: float) -> float:
    """US dollars a month for enough rented machines, at least one, to serve ``tickets`` a month."""
    check_number("tickets", tickets, minimum=0)
    check_number("tickets_per_hour", tickets_per_hour, above=0)
    check_number("price_per_hour", price_per_hour, minimum=0)
    machines = max(1, math.ceil(tickets / (tickets_per_hour * HOURS_PER_MONTH)))
    return machines * HOURS_PER_MONTH * price_per_hour


def labelling_cost(labels: float, minutes_per_label: float, wage_per_hour: float) -> float:
    """US dollars to label ``labels`` tickets by hand: tickets × minutes × wage."""
    check_number("labels", labels, minimum=0)
    check_number("minutes_per_label", minutes_per_label, minimum=0)
    check_number("wage_per_hour", wage_per_hour, minimum=0)
    return labels * minutes_per_label / 60 * wage_per_hour


def error_cost(tickets: float, accuracy: float, cost_per_error: float) -> float:
    """US dollars that the wrong answers among ``tickets`` cost, at ``cost_per_error`` each."""
    check_number("tickets", tickets, minimum=0)
    check_number("accuracy", accuracy, minimum=0, maximum=1, fix="write 87% as 0.87")
    check_number("cost_per_error", cost_per_error, minimum=0)
    return tickets * (1 - accuracy) * cost_per_error


def gross_margin(revenue: float, cost: float) -> float:
    """Share of revenue left after the cost of serving it: ``(revenue - cost) / revenue``."""
    check_number("revenue", revenue, above=0)
    check_number("cost", cost, minimum=0)
    return (revenue - cost) / revenue


def break_even(volumes: np.ndarray, cost_a: np.ndarray, cost_b: np.ndarray) -> float | None:
    """The smallest of the ascending ``volumes`` from which on option a never costs more than b.

    ``cost_a`` and ``cost_b`` are the two options' costs at each volume. None when a costs more
    than b at the largest volume; ``volumes[0]`` when a is never the dearer one.
    """
    for name, x in (("volumes", volumes), ("cost_a", cost_a), ("cost_b", cost_b)):
        check_not_none(name, x, "a 1-D array with one value per volume")
    v, a, b = (np.asarray(x, dtype=float) for x in (volumes, cost_a, cost_b))
    if v.ndim != 1 or a.shape != v.shape or b.shape != v.shape:
        raise ValueError(
            f"volumes, cost_a and cost_b must be 1-D and of one length, got shapes {v.shape}, "
            f"{a.shape} and {b.shape}; compute each cost at every volume."
        )
    if v.size == 0 or np.any(np.diff(v) <= 0):
        raise ValueError("volumes must be non-empty and strictly ascending, e.g. np.logspace(3, 9)")
    dearer = np.flatnonzero(a > b)
    if dearer.size == 0:
        return float(v[0])
    return float(v[dearer[-1] + 1]) if dearer[-1] + 1 < v.size else None
