"""The second half of the setup cell that opens every notebook of the book.

The cell itself (kept identical in every notebook by ``tests/test_notebook_hygiene.py``) installs the
project on Colab, then calls :func:`setup`, which makes the run quiet, seeded and reproducible::

    from mnist_lib.runtime import setup
    SEED = setup()

Reproducible across machines, not only on one: :func:`pin_numerics` gives every run one numerical
configuration (thread counts, and an instruction-set cap for oneDNN, OpenBLAS, MKL, NumPy and
torch), so that the stored outputs come out bit for bit the same on any x86-64 CPU with AVX2, with
any number of cores. What still differs elsewhere (a GPU, an Arm Mac) is compared within measured
tolerances (``tests/nbval_tolerance.py``). This module imports nothing heavy at the top, because
those settings only take effect if they are made before NumPy, TensorFlow or torch load.

Introduced with the MNIST project's opening chapter; used by all chapters.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import warnings

DEFAULT_SEED = int(os.environ.get("BOOK_SEED", "42"))
"""The seed of every notebook: 42, or ``BOOK_SEED`` when set (``benchmarks/seed_spread.py`` sets it
to re-run the notebooks under other seeds and measure how much their results move)."""

NO_GPU_NOTE = (
    "No GPU found: running on the CPU, which is fine for this notebook "
    "(on Colab: Runtime > Change runtime type > GPU to go faster)."
)

# One numerical configuration for every run of every notebook. Each line is an environment
# variable that the library named in its comment reads when it loads.
THREADS = 2  # Colab's CPU count; fixed, so that results do not depend on the machine's core count
PINNED_THREADS: dict[str, str] = {
    "TF_NUM_INTRAOP_THREADS": str(THREADS),  # TensorFlow: threads inside one op (work partition)
    "TF_NUM_INTEROP_THREADS": str(THREADS),  # TensorFlow: ops run side by side
    "OPENBLAS_NUM_THREADS": "1",  # NumPy's BLAS: one thread, the same sums in the same order
    "MKL_NUM_THREADS": "1",  # MKL (torch's BLAS), likewise
    "OMP_NUM_THREADS": "1",  # OpenMP (torch's own kernels), likewise
}
PINNED_ISA: dict[str, str] = {  # applied only on x86-64 CPUs that have AVX2 and FMA
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (TensorFlow's and torch's CPU kernels)
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS: the AVX2 kernels
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # MKL: no AVX-512 code paths...
    "MKL_CBWR": "AVX2",  # ...and its conditional numerical reproducibility mode
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # NumPy's AVX-512 loops
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's vectorised kernels
}
HEAVY_MODULES = ("numpy", "tensorflow", "torch")


def cpu_has_avx2() -> bool:
    """True on an x86-64 Linux CPU with AVX2 and FMA (where :data:`PINNED_ISA` can apply)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


def pin_numerics() -> dict[str, str]:
    """Set the book's numerical configuration in the environment; return what is now in force.

    Process-wide by design: it must hold for every library the notebook loads afterwards. A value
    the environment already has is kept (a machine may need its own ``OPENBLAS_CORETYPE``, and
    the platform check sets the same values on purpose). Warns, on stderr, if NumPy, TensorFlow
    or torch is already loaded, since they would not see the settings: restart the kernel.
    """
    settings = dict(PINNED_THREADS)
    if cpu_has_avx2():
        settings.update(PINNED_ISA)
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if loaded:
        warnings.warn(
            f"{', '.join(loaded)} already loaded: the book's numerical settings cannot apply to "
            "it, so results may differ slightly from the stored ones. Restart the kernel and run "
            "the setup cell first.",
            RuntimeWarning,
            stacklevel=2,
        )
    for key, value in settings.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in settings}


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logging and pick the Keras backend. Must run before TF is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and (if installed) TensorFlow/Keras, and make TF ops deterministic.

    Call it again before building each model when a notebook trains several, so that each result
    does not depend on what ran before it.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        return seed
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def has_gpu() -> bool:
    """True when TensorFlow (or, without it, torch) sees a GPU."""
    try:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except ImportError:
        pass
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def setup(seed: int = DEFAULT_SEED) -> int:
    """Pinned numerics, quiet and deterministic TensorFlow, seeded everything; a note if no GPU.

    Returns the seed, so notebooks can write ``SEED = setup()``.
    """
    pin_numerics()
    quiet_tensorflow()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    seed_everything(seed)
    if not has_gpu():
        print(NO_GPU_NOTE)
    return seed
