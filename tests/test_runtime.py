"""book_core.runtime: one numerical configuration, set before NumPy, TensorFlow or torch load, and
the seed every notebook uses. Each test runs in a fresh interpreter, as a notebook kernel does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from book_core import runtime


def fresh_python(code: str, **env: str) -> dict:
    """Run ``code`` in a new interpreter (no pinned variables inherited); return its JSON output."""
    clean = {k: v for k, v in os.environ.items() if k not in runtime.PINNED_THREADS}
    clean = {k: v for k, v in clean.items() if k not in runtime.PINNED_ISA and k != "BOOK_SEED"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_importing_the_runtime_loads_no_heavy_library() -> None:
    loaded = fresh_python(
        "import json, sys; from book_core.runtime import setup; import mnist_lib;"
        "print(json.dumps([m for m in ('numpy', 'tensorflow', 'torch') if m in sys.modules]))"
    )
    assert loaded == []


def test_pin_numerics_sets_the_threads_and_on_avx2_the_instruction_set_cap() -> None:
    pinned = fresh_python(
        "import json; from book_core.runtime import pin_numerics; print(json.dumps(pin_numerics()))"
    )
    assert pinned["TF_NUM_INTRAOP_THREADS"] == str(runtime.THREADS)
    assert pinned["OPENBLAS_NUM_THREADS"] == "1"
    if runtime.cpu_has_avx2():
        assert pinned["ONEDNN_MAX_CPU_ISA"] == "AVX2"
        assert pinned["NPY_DISABLE_CPU_FEATURES"] == runtime.PINNED_ISA["NPY_DISABLE_CPU_FEATURES"]
    else:
        assert "ONEDNN_MAX_CPU_ISA" not in pinned


@pytest.mark.skipif(not runtime.cpu_has_avx2(), reason="the cap applies to x86-64 CPUs with AVX2")
def test_numpy_loaded_after_the_pin_runs_no_avx512_loops() -> None:
    features = fresh_python(
        "import json; from book_core.runtime import pin_numerics; pin_numerics();"
        "from numpy._core._multiarray_umath import __cpu_features__ as f;"
        "print(json.dumps({k: f[k] for k in ('AVX2', 'X86_V4', 'AVX512_ICL')}))"
    )
    assert features == {"AVX2": True, "X86_V4": False, "AVX512_ICL": False}


def test_a_value_already_in_the_environment_is_kept() -> None:
    pinned = fresh_python(
        "import json; from book_core.runtime import pin_numerics; print(json.dumps(pin_numerics()))",
        OPENBLAS_NUM_THREADS="3",
    )
    assert pinned["OPENBLAS_NUM_THREADS"] == "3"


def test_pinning_after_numpy_loaded_warns() -> None:
    code = (
        "import json, warnings, numpy; from book_core.runtime import pin_numerics\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always'); pin_numerics()\n"
        "print(json.dumps([str(x.message) for x in w]))"
    )
    messages = fresh_python(code)
    assert len(messages) == 1 and "numpy already loaded" in messages[0]


def test_the_seed_is_42_unless_book_seed_says_otherwise() -> None:
    code = (
        "import json; from book_core.runtime import DEFAULT_SEED; print(json.dumps(DEFAULT_SEED))"
    )
    assert fresh_python(code) == 42
    assert fresh_python(code, BOOK_SEED="7") == 7


def test_setup_pins_numerics_and_changes_nothing_else() -> None:
    state = fresh_python(
        "import json, random, sys, warnings\n"
        "filters, rand = list(warnings.filters), random.getstate()\n"
        "from book_core.runtime import setup\n"
        "seed = setup(5)\n"
        "print(json.dumps({'seed': seed, 'filters': warnings.filters == filters,\n"
        "    'random': random.getstate() == rand,\n"
        "    'heavy': [m for m in ('numpy', 'tensorflow', 'torch') if m in sys.modules]}))"
    )
    assert state == {"seed": 5, "filters": True, "random": True, "heavy": []}


def test_use_tensorflow_drops_only_the_known_start_up_lines(tmp_path) -> None:
    # Stand-ins for TensorFlow and Keras that write, from "C++" (straight to file descriptor 2),
    # one known noise line and one real message, the way the real libraries do when they load.
    noise = runtime.TF_IMPORT_NOISE[0]
    for name in ("tensorflow", "keras"):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text(
            f"import os\nos.write(2, b'{noise}\\n{name}: a real problem\\n')\n"
        )
    clean = {k: v for k, v in os.environ.items() if k not in runtime.PINNED_THREADS}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from book_core.runtime import _import_tensorflow_quietly as f; f(); print('done')",
        ],
        env={**clean, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "done"
    assert noise not in run.stderr
    assert "tensorflow: a real problem" in run.stderr and "keras: a real problem" in run.stderr


def test_use_tensorflow_on_the_real_library_leaves_stderr_empty_but_for_the_gpu_note() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in runtime.PINNED_THREADS}
    clean = {k: v for k, v in clean.items() if not k.startswith(("TF_", "KERAS_"))}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from book_core.runtime import setup, use_tensorflow; use_tensorflow(setup());"
            "import keras, tensorflow",
        ],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stderr == ""
    assert run.stdout in ("", runtime.NO_GPU_NOTE + "\n")
