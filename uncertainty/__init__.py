"""How sure is a number? Intervals, paired tests and seed spreads for the book's headline results.

The book tells founders to measure rather than guess, so its own results carry their uncertainty
(the honest-numbers rule of the developers' guide). These helpers are small wrappers around
``scipy.stats`` that return plain, printable results:

- :mod:`uncertainty.intervals`: a proportion's Wilson interval, a bootstrap interval, the spread of a
  result over training seeds (mean, standard deviation, t-interval) and Welch's test between two
  such spreads;
- :mod:`uncertainty.paired`: McNemar's test for two classifiers on one test set, the sign test and
  the paired bootstrap for two prompts on one ticket set;
- :mod:`uncertainty.results`: a headline result as one record, shown in its notebook and
  collected into the About page's "results at a glance" and ``chapters/about/results.json``.

Introduced by the MNIST chapter (``baseline.ipynb``, ``cnn.ipynb``) and used by every notebook that
reports a headline number.
"""

from uncertainty.intervals import (
    Interval,
    SeedComparison,
    SeedSpread,
    bootstrap_interval,
    compare_seeds,
    seed_spread,
    wilson,
)
from uncertainty.paired import (
    McNemarResult,
    PairedDifference,
    SignTestResult,
    mcnemar,
    paired_bootstrap,
    sign_test,
)
from uncertainty.results import Result, report

__all__ = [
    "Interval",
    "McNemarResult",
    "PairedDifference",
    "Result",
    "SeedComparison",
    "SeedSpread",
    "SignTestResult",
    "bootstrap_interval",
    "compare_seeds",
    "mcnemar",
    "paired_bootstrap",
    "report",
    "seed_spread",
    "sign_test",
    "wilson",
]
