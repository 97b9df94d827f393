"""Re-measure the speed-up claimed in ``chapters/mnist/fast_mlp.ipynb``.

Trains, in one run on one machine, the source article's baseline MLP (batch 32, 5 epochs) and the
chapter's tuned MLP (batch 1024, ``steps_per_execution``, dropout, cosine schedule, early
stopping), then prints the median seconds per epoch of each (first epoch left
out: it also compiles), their ratio and both test accuracies::

    .venv/bin/python benchmarks/mlp_speed.py            # the full comparison (about a minute idle)
    .venv/bin/python benchmarks/mlp_speed.py --repeats 3  # median over 3 runs of each model

Run it on an otherwise idle machine: timings of jobs that share CPU cores mean little. The script
reports, it does not assert; the notebooks assert the accuracy goals.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

from book_core.runtime import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow is imported

from book_core.runtime import setup  # noqa: E402
from mnist_lib import load_mnist, models  # noqa: E402
from mnist_lib.recipes import TUNED_MLP  # noqa: E402
from mnist_lib.training import TrainConfig, scale_images, train  # noqa: E402

BASELINE = TrainConfig()  # the source's settings: Adam, batch 32, 5 epochs, NumPy arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each model (default 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    setup()
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_test01 = scale_images(x_test)
    print(
        f"TensorFlow {tf.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    results = {}
    for name, build, config in (
        ("baseline", models.baseline_mlp, BASELINE),
        ("tuned", TUNED_MLP.build, TUNED_MLP.config),
    ):
        epoch_times, accuracies = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run = train(build, x_train, y_train, config)
            wall = time.perf_counter() - start
            acc = float(run.model.evaluate(x_test01, y_test, batch_size=2048, verbose=0)[1])
            epoch_times.append(run.seconds_per_epoch)
            accuracies.append(acc)
            print(
                f"{name:8s} {run.seconds_per_epoch:6.2f} s/epoch  {run.epochs_run:2d} epochs  "
                f"{wall:6.1f} s total  test accuracy {acc:.4f}",
                flush=True,
            )
        results[name] = (statistics.median(epoch_times), statistics.median(accuracies))

    (base_s, base_acc), (tuned_s, tuned_acc) = results["baseline"], results["tuned"]
    print()
    print(f"baseline: {base_s:.2f} s per epoch, test accuracy {base_acc:.4f}")
    print(f"tuned:    {tuned_s:.2f} s per epoch, test accuracy {tuned_acc:.4f}")
    print(f"epoch-time ratio baseline / tuned: {base_s / tuned_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
