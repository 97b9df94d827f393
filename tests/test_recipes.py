"""The shared recipes are the ones their notebooks describe, and the seed results are complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from book_core.seed_results import seed_results
from mnist_lib.recipes import CNN, TUNED_MLP

ROOT = Path(__file__).resolve().parent.parent


def test_tuned_mlp_recipe():
    model = TUNED_MLP.build()
    assert model.count_params() == 784 * 256 + 256 + 256 * 10 + 10
    assert [type(x).__name__ for x in model.layers] == ["Flatten", "Dense", "Dropout", "Dense"]
    assert TUNED_MLP.config.batch_size == 1024 and TUNED_MLP.config.early_stopping_patience == 4


def test_cnn_recipe_shifts_images_and_has_no_batch_norm():
    model = CNN.build()
    names = [type(x).__name__ for x in model.layers]
    assert names[0] == "Sequential" and model.layers[0].name == "augmentation"
    assert [type(x).__name__ for x in model.layers[0].layers] == [
        "Reshape",
        "RandomTranslation",
        "Reshape",
    ]
    assert "BatchNormalization" not in names and names.count("Conv2D") == 2
    # 3x3 convolutions with biases: (9*1+1)*32 + (9*32+1)*64; dense 7*7*64 -> 128 -> 10
    assert model.count_params() == 320 + 18_496 + (3136 * 128 + 128) + (128 * 10 + 10)
    assert CNN.config.epochs == 18 and CNN.config.tf_data


def _stored_glue(rel: str, name: str) -> float:
    nb = json.loads((ROOT / rel).read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                return float(out["data"]["application/papermill.record/text/plain"])
    raise AssertionError(f"{rel} glues no {name!r}")


def test_seed_results_cover_every_headline_and_match_the_stored_run():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from seed_spread import HEADLINES, STORED_SEED

    for rel, names in HEADLINES.items():
        notebook = rel.rsplit("/", 1)[-1].removesuffix(".ipynb")
        for name in names:
            runs = seed_results(notebook, name)
            assert len(runs) >= 5, f"{rel} {name}: only {len(runs)} seeds"
            # the stored notebook is the seed-42 run: a re-executed notebook must agree with it
            assert runs[STORED_SEED] == _stored_glue(rel, name), f"{rel} {name}: stale seed runs"


def test_seed_results_say_what_is_missing():
    with pytest.raises(KeyError, match="recorded"):
        seed_results("no_such_notebook", "test_acc_pct")
    with pytest.raises(KeyError, match="HEADLINES"):
        seed_results("cnn", "no_such_value")


def test_each_spread_was_measured_over_the_seeds_the_script_asks_for():
    """A notebook re-summarised over fewer seeds than ``seed_spread.py`` runs for it (for example
    evaluation over 5 instead of 15) would lose the spread of its rare values."""
    import json
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from seed_spread import STOCHASTIC, STORED_SEED, seeds_for

    spread = json.loads((ROOT / "benchmarks" / "seed_spread.json").read_text())
    for rel in STOCHASTIC:
        assert spread[rel]["seeds"] == [STORED_SEED, *seeds_for(rel)], rel
    assert len(seeds_for("chapters/mnist/evaluation.ipynb")) == 14
