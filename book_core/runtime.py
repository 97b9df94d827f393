"""The second half of the setup cell that opens every notebook of the book, and TensorFlow's set-up.

The cell itself (kept identical in every notebook by ``tests/test_notebook_hygiene.py``) installs the
project on Colab, then calls :func:`setup`, which pins the numerical configuration and returns the
notebook's seed; it imports nothing heavy and seeds nothing::

    from book_core.runtime import setup
    SEED = setup()

A notebook that uses TensorFlow asks for it, in its next cell, before importing Keras::

    from book_core.runtime import use_tensorflow
    use_tensorflow(SEED)  # quiet logs, seeds, deterministic ops; a note if there is no GPU

Every effect here is process-wide, and each function says which ones it has.

Reproducible across machines, not only on one: :func:`pin_numerics` gives every run one numerical
configuration (thread counts, and an instruction-set cap for oneDNN, OpenBLAS, MKL, NumPy and
torch), so that the stored outputs come out bit for bit the same on one kind of CPU with any number
of cores. Not on every x86-64 CPU with AVX2: training on an AMD EPYC moves a few test predictions
against the machine that stored the MNIST outputs. What differs elsewhere (another CPU, a GPU, an
Arm Mac) is compared within measured tolerances (``scripts/nbcompare.py``). This module imports
nothing heavy at the top, because those settings only take effect if they are made before NumPy,
TensorFlow or torch load.

Introduced with the MNIST project's opening chapter; used by all chapters.
"""

from __future__ import annotations

import os
import platform
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
    """Silence TensorFlow's C++ logging and pick the Keras backend. Must run before TF is imported.

    Process-wide: sets ``TF_CPP_MIN_LOG_LEVEL=3`` and ``KERAS_BACKEND=tensorflow`` in the
    environment (values already there are kept). The one place the book sets them.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


#: Lines TensorFlow's C++ code writes to stderr while it loads, before its logging settings apply
#: (so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them). Only these are dropped; anything else is shown.
TF_IMPORT_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on.",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "Could not find cuda drivers on your machine",
    "TF-TRT Warning: Could not find TensorRT",
)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the known start-up lines above removed from stderr.

    Those lines are written by C++ straight to file descriptor 2, not through Python, so they are
    caught there: stderr goes to a temporary file during the import, and every line that is not
    known noise is written back afterwards. Errors still raise as usual.
    """
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().decode(errors="replace").splitlines()
                if line.strip() and not any(noise in line for noise in TF_IMPORT_NOISE)
            ]
    if kept:
        print("\n".join(kept), file=sys.stderr)


def _check_seed(seed: int) -> int:
    """The seed rules: an integer from 0 to 2**32 - 1 (what NumPy and Keras accept). Imported
    here, not at the top, so that importing this module imports no NumPy (the checks use it)."""
    from book_core.checks import check_int

    return check_int("seed", seed, minimum=0, maximum=2**32 - 1, fix="pass an int such as 42")


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Keras' random state (Python's ``random``, NumPy's global state, TensorFlow) and make
    TensorFlow's ops deterministic. Needs TensorFlow; :func:`use_tensorflow` calls it.

    Call it again before building each model when a notebook trains several, so that each result
    does not depend on what ran before it. Process-wide: it seeds global generators (that is what
    ``keras.utils.set_random_seed`` does) and op determinism applies to every later op.
    """
    _check_seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def has_gpu() -> bool:
    """True when TensorFlow sees a GPU (imports TensorFlow)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def use_tensorflow(seed: int = DEFAULT_SEED) -> None:
    """Set TensorFlow up for a notebook that trains with it: the call such a notebook makes first.

    Quiet logging (:func:`quiet_tensorflow`), TensorFlow and Keras imported without their start-up
    noise on stderr, seeded and deterministic (:func:`seed_everything`), and a note when there is
    no GPU. Call it after :func:`setup` and before importing Keras.
    """
    _check_seed(seed)
    quiet_tensorflow()
    if "tensorflow" not in sys.modules:
        _import_tensorflow_quietly()
    seed_everything(seed)
    if not has_gpu():
        print(NO_GPU_NOTE)


def setup(seed: int = DEFAULT_SEED) -> int:
    """The setup cell's call: the book's numerical configuration (:func:`pin_numerics`), nothing else.

    Imports no heavy library and seeds nothing: notebooks seed what they use (``use_tensorflow``
    for TensorFlow, an explicit ``seed=`` or ``np.random.default_rng(SEED)`` elsewhere). Returns
    the seed, so notebooks can write ``SEED = setup()``.
    """
    _check_seed(seed)
    pin_numerics()
    return seed
