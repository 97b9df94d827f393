"""The same bad inputs through every public entry point of every package (issue #25).

One set of rules for every package (:mod:`book_core.checks`): a value of the wrong type (None, a
bool, a string for a number, a float for an integer, a bare string for a label set) raises
TypeError; a value of the right type that breaks a rule (0 epochs, a negative rate, ``k`` larger
than the pool) raises ValueError; either way the message names the argument.

:data:`ENTRY_POINTS` lists, explicitly, one row per (callable, argument, good keyword arguments):
the call is made with the good arguments and one bad value in place of that argument. Each kind of
argument gets the same bad values (:data:`WRONG_TYPES`); a row adds the values of the right type
that break its own rule. Nothing heavy runs: every check fires before a model is built or loaded,
a file is read or a server started.

:func:`test_every_public_callable_is_covered_or_exempt` enumerates each package's public callables
and fails on one that is neither in the table nor in :data:`EXEMPT`, with the reason it needs no
row, so a new entry point cannot skip the checks silently.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import sparse

import compute_budget as cb
from book_core import glue, runtime, seed_results, softmax
from compute_budget import economics, measured
from mnist_lib import data as mnist_data
from mnist_lib import data_quality, evaluation, gradcheck, idx, models, nn, plots, training
from prompt_lab import (
    backends,
    fewshot,
    finetune,
    harness,
    local,
    openai_client,
    parsing,
    probe,
    prompts,
    retrieval,
    server,
    templates,
)
from prompt_lab import data as prompt_data
from tiny_gpt import attention, baselines, poems, sampling
from tiny_gpt import model as gpt
from uncertainty import intervals, paired, results

PACKAGES = ("book_core", "mnist_lib", "prompt_lab", "tiny_gpt", "uncertainty", "compute_budget")

#: The bad values of each kind of argument, all of the wrong type: every one raises TypeError.
WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "int": (None, True, "3", 2.5, 3.0),
    "optional int": (True, "3", 2.5),  # None is allowed (no limit, no early stopping...)
    "number": (None, True, "3", "1e9", 1j),
    "optional number": (True, "3"),
    "ints": (None, "3", 3, [2.5], [True]),  # a sequence of integers (layer widths)
    "labels": (None, "billing", ["billing", 3], {"billing": 1}),  # a sequence of strings
    "optional labels": ("billing", ["billing", 3]),
    "text": (None, 3, b"billing"),
    "optional text": (3, b"billing"),
    "required": (None,),  # an array, a model, a record: None is refused by name
}


@dataclass(frozen=True)
class Row:
    """``call(**{**good, arg: bad})`` must raise TypeError for every bad value of ``kind`` and
    for ``wrong``, ValueError for each value in ``invalid``; each message names ``arg``."""

    call: Callable[..., Any]
    arg: str
    kind: str
    good: dict[str, Any] = field(default_factory=dict)
    invalid: tuple[Any, ...] = ()  # right type, breaks the rule: ValueError
    wrong: tuple[Any, ...] = ()  # more wrong types for this argument: TypeError

    @property
    def name(self) -> str:
        return f"{self.call.__module__}.{self.call.__qualname__}"


# --------------------------------------------------------------------------- good arguments

RNG = np.random.default_rng(0)
HELLO = [{"role": "user", "content": "Hello"}]
TEMPLATE = templates.PromptTemplate("t", "Ticket: {ticket}")
TICKETS = [prompt_data.Ticket("a", "refund please", "billing")]
LABELS = ("billing", "shipping")
BLOCK_INPUTS = finetune.BlockInputs(0, np.zeros((2, 1, 1)), np.ones((2, 1)))
FAKE = object()  # a model, backend or tokenizer that must never be reached
IMAGES = np.zeros((4, 28, 28), np.uint8)
DIGITS = np.array([0, 1, 2, 3])
PROBS = np.array([[0.9, 0.1], [0.2, 0.8]])
SEQUENCES = np.array([[1, 2, 3], [1, 3, 2]])
POEM = poems.Poem("登鸛雀樓", "王之渙", "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。")
SPREAD = intervals.seed_spread({42: 0.97, 43: 0.98})
RESULT = dict(name="acc", label="A", value=1.0, low=0.5, high=1.5, n=5, unit="%", interval="t")
CONFIG = training.TrainConfig(epochs=1)
SGD_KW = dict(x=np.zeros((2, 4)), y=np.array([0, 1]), epochs=1, batch_size=2, seed=0)
GPT = gpt.GPTConfig(vocab_size=8, context=2, d_model=8, n_layers=1, n_heads=2)
QKV = np.zeros((1, 2, 2))  # (batch, T, d): queries, keys and values of two positions
_, CACHE = attention.attention(QKV, QKV, QKV)
OPENAI = openai_client.OpenAIChatClient("http://127.0.0.1:9/v1", "m", timeout=1)


class EchoBackend(backends.ChatBackend):
    """A backend whose answers never matter: the checks fire first."""

    def chat(self, messages: Any, *, max_new_tokens: int = 16) -> str:
        return ""


def _rows(call: Callable[..., Any], good: dict[str, Any], *specs: tuple) -> list[Row]:
    """One :class:`Row` per ``(arg, kind[, invalid[, wrong]])`` spec, sharing ``good``."""
    return [Row(call, spec[0], spec[1], good, *spec[2:]) for spec in specs]


def _budget(call: Callable[..., Any], good: dict[str, Any], **invalid: tuple) -> list[Row]:
    """compute_budget: every argument a number; ``invalid`` gives each its out-of-range values."""
    return [Row(call, arg, "number", good, invalid.get(arg, (-1.0, float("nan")))) for arg in good]


BUDGET = dict(peak_flops_per_s=1e15, utilisation=0.4, price_per_gpu_hour=2.0)

ENTRY_POINTS: list[Row] = [
    # ---------------------------------------------------------------- book_core
    *_rows(runtime.setup, {}, ("seed", "int", (-1, 2**32))),
    *_rows(runtime.seed_everything, {}, ("seed", "int", (-1,))),
    *_rows(runtime.use_tensorflow, {}, ("seed", "int", (-1,))),
    *_rows(seed_results.seed_results, {"notebook": "cnn", "name": "x"}, ("notebook", "text")),
    *_rows(seed_results.seed_results, {"notebook": "cnn", "name": "x"}, ("name", "text")),
    *_rows(softmax.softmax, {"x": np.zeros(3)}, ("x", "required"), ("axis", "int", (5,))),
    *_rows(softmax.log_softmax, {"x": np.zeros(3)}, ("x", "required"), ("axis", "int", (5,))),
    *_rows(glue.glue, {"name": "x", "value": 1}, ("name", "text", ("two words", ""))),
    # ---------------------------------------------------------------- mnist_lib
    *_rows(mnist_data.keras_download, {}, ("timeout", "number", (0, -1.0, float("inf")))),
    *_rows(
        data_quality.class_balance,
        {"splits": {"train": DIGITS}, "n_classes": 10},
        ("splits", "required", (), ([DIGITS],)),
        ("n_classes", "int", (0,)),
    ),
    *_rows(data_quality.exact_duplicates, {"a": IMAGES}, ("a", "required")),
    *_rows(data_quality.imbalance_ratio, {"counts": DIGITS + 1}, ("counts", "required")),
    *_rows(
        data_quality.label_disputes,
        {"probabilities": PROBS, "labels": np.array([0, 1])},
        ("probabilities", "required"),
        ("labels", "required"),
        ("min_confidence", "number", (1.5, -0.1)),
    ),
    *_rows(
        data_quality.near_duplicates,
        {"queries": np.zeros((2, 4)), "reference": np.ones((3, 4)), "threshold": 1.0},
        ("queries", "required"),
        ("reference", "required"),
        ("threshold", "number", (-1.0, float("nan"))),
    ),
    *_rows(
        data_quality.nearest_neighbours,
        {"queries": np.zeros((2, 4)), "reference": np.ones((3, 4))},
        ("queries", "required"),
        ("reference", "required"),
        ("block_size", "int", (0,)),
    ),
    *[
        row
        for metric in (evaluation.accuracy, evaluation.confusion_matrix)
        for row in _rows(
            metric,
            {"y_true": DIGITS, "y_pred": DIGITS},
            ("y_true", "required"),
            ("y_pred", "required"),
            ("num_classes", "int", (0,)),
        )
    ],
    *_rows(
        evaluation.most_confident_mistakes,
        {"probabilities": PROBS, "y_true": np.array([0, 1])},
        ("probabilities", "required"),
        ("y_true", "required"),
        ("k", "int", (0,)),
    ),
    *_rows(evaluation.per_class_report, {"cm": np.eye(2, dtype=int)}, ("cm", "required")),
    *_rows(
        evaluation.top_confusions,
        {"cm": np.eye(2, dtype=int)},
        ("cm", "required"),
        ("k", "int", (0,)),
    ),
    *_rows(
        gradcheck.check_layer,
        {"layer": nn.Dense(3, 2, rng=RNG), "x": np.ones((1, 3))},
        ("layer", "required"),
        ("x", "required"),
        ("seed", "int", (-1,)),
        ("eps", "number", (0, -1e-6)),
    ),
    *_rows(
        gradcheck.check_model,
        {"model": nn.MLP([2, 2], seed=0), "x": np.ones((1, 2)), "y": np.array([0])},
        ("model", "required"),
        ("eps", "number", (0,)),
    ),
    *_rows(
        gradcheck.gradient_errors,
        {"f": lambda: 0.0, "params": {"w": np.zeros(2)}, "analytic": {"w": np.zeros(2)}},
        ("f", "required", (), (3,)),
        ("params", "required"),
        ("analytic", "required"),
        ("eps", "number", (0,)),
    ),
    *_rows(
        gradcheck.numerical_gradient,
        {"f": lambda: 0.0, "x": np.zeros(2)},
        ("f", "required"),
        ("x", "required"),
        ("eps", "number", (0,)),
    ),
    *_rows(gradcheck.relative_error, {"a": np.zeros(2), "b": np.zeros(2)}, ("a", "required")),
    *_rows(gradcheck.relative_error, {"a": np.zeros(2), "b": np.zeros(2)}, ("b", "required")),
    *_rows(
        idx.parse_idx,
        {"data": idx.encode_idx(np.zeros(3, np.uint8)), "ndim": 1},
        ("data", "required", (), ("bytes",)),
        ("ndim", "optional int", (0, 256)),
    ),
    *_rows(idx.encode_idx, {"array": np.zeros(3, np.uint8)}, ("array", "required")),
    # the array is encoded before the file is opened: a bad one never writes anything
    *_rows(idx.write_idx, {"path": "/nonexistent-dir/x.idx"}, ("array", "required")),
    *_rows(models.baseline_mlp, {}, ("hidden_units", "int", (0,))),
    *_rows(
        models.augmentation,
        {},
        ("shift", "number", (0.5, -0.1)),
        ("rotation_degrees", "number", (90, -1)),
        ("zoom", "number", (0.6,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        models.mlp,
        {},
        ("hidden_units", "ints", ((), (0,))),
        ("dropout", "number", (1.0, -0.1)),
        ("l2", "number", (-1e-3,)),
        ("name", "text"),
    ),
    *_rows(
        models.cnn,
        {},
        ("filters", "ints", ((), (0,), (8,) * 5)),
        ("dense_units", "int", (-1,)),
        ("dropout", "number", (1.0,)),
        ("name", "text"),
    ),
    *_rows(
        nn.MLP,
        {"sizes": [4, 3], "seed": 0},
        ("sizes", "ints", ([4], [4, 0])),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        nn.Dense,
        {"n_in": 3, "n_out": 2, "rng": RNG},
        ("n_in", "int", (0,)),
        ("n_out", "int", (0,)),
        ("rng", "required"),
    ),
    *_rows(nn.SGD, {}, ("lr", "number", (0, -0.1)), ("momentum", "number", (1.0, -0.1))),
    *_rows(
        nn.Adam,
        {},
        ("lr", "number", (0,)),
        ("beta1", "number", (1.0,)),
        ("beta2", "number", (1.0,)),
        ("eps", "number", (0,)),
    ),
    *_rows(
        nn.evaluate,
        {"model": nn.MLP([4, 3], seed=0), "x": np.zeros((2, 4)), "y": np.array([0, 1])},
        ("model", "required", (), ("mlp",)),
        ("x", "required"),
        ("y", "required"),
        ("batch_size", "int", (0,)),
    ),
    *_rows(
        nn.train,
        {"model": nn.MLP([4, 3], seed=0), "optimizer": nn.SGD(), **SGD_KW},
        ("model", "required"),
        ("x", "required"),
        ("y", "required"),
        ("optimizer", "required", (), ("sgd",)),
        ("epochs", "int", (0,)),
        ("batch_size", "int", (0,)),
        ("seed", "int", (-1,)),
        ("blas_threads", "optional int", (0,)),
    ),
    *_rows(
        plots.image_grid,
        {"images": np.zeros((2, 4, 4))},
        ("images", "required"),
        ("titles", "optional labels"),
        ("ncols", "int", (0,)),
        ("size", "number", (0,)),
    ),
    *_rows(
        plots.plot_curves,
        {"histories": {"run": {"loss": [1.0]}}, "metrics": ("loss",)},
        ("histories", "required"),
        ("metrics", "labels", ([],)),
    ),
    *_rows(
        plots.plot_confusion_matrix,
        {"cm": np.eye(2, dtype=int)},
        ("cm", "required"),
        ("class_names", "optional labels", (["a"],)),
        ("size", "number", (0,)),
    ),
    *_rows(training.scale_images, {"x": IMAGES}, ("x", "required")),
    *_rows(
        training.check_labels,
        {"y": DIGITS},
        ("y", "required"),
        ("n", "optional int", (-1,)),
    ),
    *_rows(
        training.split_validation,
        {"x": np.zeros((10, 2)), "y": np.arange(10)},
        ("x", "required"),
        ("y", "required"),
        ("fraction", "number", (0, 1.0)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        training.make_dataset,
        {"x": IMAGES, "y": DIGITS, "batch_size": 2},
        ("x", "required"),
        ("y", "required"),
        ("batch_size", "int", (0,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        training.TrainConfig,
        {},
        ("epochs", "int", (0,)),
        ("batch_size", "int", (0,)),
        ("steps_per_execution", "int", (0,)),
        ("learning_rate", "number", (0, -1e-3)),
        ("validation_fraction", "number", (1.0, -0.1)),
        ("early_stopping_patience", "optional int", (0,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        training.compile_model,
        {"model": FAKE, "config": CONFIG, "steps_per_epoch": 1},
        ("model", "required"),
        ("config", "required", (), ({"epochs": 1},)),
        ("steps_per_epoch", "int", (0,)),
    ),
    *_rows(
        training.train,
        {"build": models.baseline_mlp, "x_train": IMAGES, "y_train": DIGITS, "config": CONFIG},
        ("build", "required", (), ("baseline_mlp",)),
        ("x_train", "required"),
        ("y_train", "required"),
        ("verbose", "int", (-1, 3)),
    ),
    # ---------------------------------------------------------------- prompt_lab
    *_rows(
        backends.check_messages, {}, ("messages", "required", ([],), ("hello", [("user", "hi")]))
    ),
    *_rows(
        EchoBackend().chat_many,
        {"conversations": [HELLO]},
        ("max_new_tokens", "int", (0,)),
    ),
    *_rows(
        prompt_data.load_tickets,
        {"split": "dev"},
        ("split", "text", ("test",)),
        ("language", "text", ("fr",)),
    ),
    *_rows(
        prompt_data.parse_tickets,
        {"lines": []},
        ("lines", "labels"),
        ("labels", "labels", ([],)),
    ),
    *_rows(
        fewshot.examples_from_errors,
        {
            "scored": harness.EvalResult("step 3", [], 1.0),
            "tickets": prompt_data.load_tickets("dev"),
        },
        ("scored", "required"),
        ("tickets", "required"),
        ("labels", "labels", ([],)),
    ),
    *_rows(
        fewshot.random_draws,
        {"tickets": prompt_data.load_tickets("dev"), "exclude": set(), "n_draws": 1, "seed": 0},
        ("tickets", "required"),
        ("n_draws", "int", (0,)),
        ("seed", "int", (-1,)),
        ("labels", "labels", ([],)),
    ),
    *_rows(
        finetune.block_inputs,
        {"model": FAKE, "texts": ["a refund"], "block": 0},
        ("model", "required"),
        ("texts", "labels", ([], ["  "])),
        ("block", "int", (-1,)),
    ),
    *_rows(
        finetune.finetune_top,
        {"model": FAKE, "inputs": BLOCK_INPUTS, "labels": LABELS, "label_set": LABELS},
        ("model", "required"),
        ("inputs", "required"),
        ("labels", "labels", (["billing"], ["billing", "refunds"])),
        ("label_set", "labels", ([],)),
        ("epochs", "int", (0,)),
        ("batch_size", "int", (0,)),
        ("learning_rate", "number", (0,)),
        ("head_learning_rate", "number", (0,)),
        ("weight_decay", "number", (-0.01,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        harness.evaluate,
        {"backend": FAKE, "template": TEMPLATE, "items": TICKETS},
        ("backend", "required"),
        ("template", "required"),
        ("items", "required", ([],)),
        ("labels", "labels", ([], ["shipping"])),
        ("parser", "required"),
        ("max_new_tokens", "int", (0,)),
    ),
    *_rows(
        harness.evaluate_logprob,
        {"scorer": FAKE, "template": TEMPLATE, "items": TICKETS},
        ("scorer", "required"),
        ("template", "required"),
        ("items", "required", ([],)),
        ("labels", "labels", ([], ["shipping"])),
        ("calibrate_with", "optional text"),
    ),
    *_rows(harness.summarize, {}, ("results", "required", ([],))),
    *_rows(
        local.LocalModel,
        {"model": FAKE, "tokenizer": FAKE, "name": "m"},
        ("model", "required"),
        ("tokenizer", "required"),
        ("name", "text"),
        ("batch_size", "int", (0,)),
    ),
    *_rows(
        local.load_local_model,
        {"source": "/nonexistent/model.gguf"},
        ("threads", "int", (0,)),
        ("batch_size", "int", (0,)),
    ),
    *_rows(local.find_gguf, {}, ("package", "text")),
    *_rows(
        openai_client.OpenAIChatClient,
        {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
        ("base_url", "text", ("ftp://x",)),
        ("model", "text", ("",)),
        ("timeout", "number", (0,)),
    ),
    *_rows(
        OPENAI.chat,
        {"messages": HELLO},
        ("messages", "required", ([],), ("hello",)),
        ("max_new_tokens", "int", (0,)),
    ),
    *[
        row
        for parser in (parsing.parse_label, parsing.parse_lenient, parsing.parse_final_label)
        for row in _rows(
            parser,
            {"text": "billing", "labels": LABELS},
            ("text", "text"),
            ("labels", "labels", ([], ["Billing"])),
        )
    ],
    *_rows(
        parsing.parse_final_label, {"text": "Queue: billing", "labels": LABELS}, ("key", "text")
    ),
    *_rows(
        probe.train_probe,
        {"features": np.zeros((2, 3)), "labels": LABELS, "label_set": LABELS},
        ("features", "required"),
        ("labels", "labels", (["billing"], ["billing", "refunds"])),
        ("label_set", "labels", ([],)),
        ("epochs", "int", (0,)),
        ("learning_rate", "number", (0,)),
        ("seed", "int", (-1,)),
    ),
    *[  # the same folds and checks: cross_validate scores out_of_fold_probabilities
        row
        for folded in (probe.cross_validate, probe.out_of_fold_probabilities)
        for row in _rows(
            folded,
            {"features": np.zeros((4, 3)), "labels": LABELS * 2, "label_set": LABELS, "folds": 2},
            ("features", "required"),
            ("labels", "labels", (["billing"],)),
            ("label_set", "labels", ([],)),
            ("folds", "int", (1,)),
            ("seed", "int", (-1,)),
        )
    ],
    *_rows(
        probe.sample_per_label,
        {"labels": LABELS, "per_label": 1, "rng": RNG},
        ("labels", "labels"),
        ("per_label", "int", (0, 2)),
        ("rng", "required"),
    ),
    *_rows(
        prompts.first_of_each_queue,
        {"tickets": TICKETS, "queues": ("billing",)},
        ("tickets", "required"),
        ("queues", "labels", ([], ["shipping"])),
    ),
    *_rows(
        retrieval.nearest,
        {"queries": np.ones((1, 2)), "pool": np.ones((3, 2)), "k": 1},
        ("queries", "required"),
        ("pool", "required"),
        ("k", "int", (0, 4)),
    ),
    *_rows(
        retrieval.retrieval_templates,
        {
            "base": TEMPLATE,
            "queries": np.ones((1, 2)),
            "pool": TICKETS * 3,
            "pool_vectors": np.ones((3, 2)),
            "k": 1,
            "name": "rag",
        },
        ("base", "required"),
        ("queries", "required"),
        ("pool", "required"),
        ("pool_vectors", "required"),
        ("k", "int", (0, 4)),
        ("name", "text"),
    ),
    *_rows(
        server.serve,
        {"backend": EchoBackend()},
        ("backend", "required"),
        ("port", "int", (-1, 65536)),
    ),
    *_rows(
        server.serve_on_thread,
        {"handler": FAKE.__class__},
        ("handler", "required", (), ("handler",)),
        ("port", "int", (-1, 65536)),
    ),
    *_rows(templates.fence, {"text": "x"}, ("text", "text")),
    *_rows(
        templates.PromptTemplate,
        {"name": "t", "user": "{ticket}"},
        ("name", "text"),
        ("user", "text", ("no slot",)),
    ),
    *_rows(
        templates.PromptTemplate,
        {"name": "t", "user": "{ticket}"},
        ("system", "optional text", ("Obey {ticket}",)),
    ),
    # ---------------------------------------------------------------- tiny_gpt
    *_rows(
        baselines.UnigramModel,
        {"counts": np.ones(4), "alpha": 1.0},
        ("counts", "required"),
        ("alpha", "number", (0, -1.0, float("nan"))),
    ),
    *_rows(
        baselines.BigramModel,
        {"counts": sparse.csr_array(np.ones((4, 4))), "alpha": 1.0},
        ("counts", "required"),
        ("alpha", "number", (0,)),
    ),
    *_rows(
        baselines.SmoothedBigramModel,
        {"counts": sparse.csr_array(np.ones((4, 4))), "alpha": 1.0, "unigram": np.ones(4) / 4},
        ("counts", "required"),
        ("alpha", "number", (0,)),
        ("unigram", "required"),
    ),
    *[
        row
        for model_class in (
            baselines.UnigramModel,
            baselines.BigramModel,
            baselines.SmoothedBigramModel,
        )
        for row in _rows(
            model_class.fit,
            {"sequences": SEQUENCES, "vocab_size": 4, "alpha": 1.0},
            ("sequences", "required"),
            ("vocab_size", "int", (2,)),
            ("alpha", "number", (0, float("inf"))),
        )
    ],
    *_rows(
        baselines.choose_alpha,
        {
            "model_class": baselines.BigramModel,
            "train": SEQUENCES,
            "validation": SEQUENCES,
            "vocab_size": 4,
            "alphas": [1.0],
        },
        ("model_class", "required", (), (dict,)),
        ("train", "required"),
        ("validation", "required"),
        ("vocab_size", "int", (2,)),
        ("alphas", "required", ([], [0.0]), ("1", [True])),
    ),
    *_rows(
        poems.split_poems,
        {"poems": [POEM]},
        ("poems", "required", (), ("poem", POEM)),
        ("fractions", "required", ((0.8, 0.1), (1.1, -0.05, -0.05)), ("0.8", (0.8, "0.1", 0.1))),
    ),
    *[
        row
        for function in (poems.quatrains, poems.stanzas, poems.group_by_shared_lines)
        for row in _rows(function, {"poems": [POEM]}, ("poems", "required", (), (POEM.text,)))
    ],
    *_rows(poems.cross_split_overlap, {}, ("splits", "required", (), ([[POEM], [], []],))),
    *_rows(
        poems.CharVocab.from_texts,
        {"texts": ["山水"]},
        ("texts", "required", (), ("山水",)),
        ("min_count", "int", (0,)),
    ),
    *_rows(
        sampling.sample_next,
        {"logits": np.zeros((1, 5)), "temperature": 1.0, "top_k": None, "rng": RNG},
        ("logits", "required"),
        ("temperature", "number", (0, -1.0, float("nan"))),
        ("top_k", "optional int", (0, 6)),
        ("rng", "required"),
    ),
    *_rows(
        sampling.generate,
        {
            "next_logits": lambda ids: np.zeros((len(ids), 5)),
            "prompt": np.ones((1, 1), int),
            "n_new": 1,
            "temperature": 1.0,
            "top_k": None,
            "rng": RNG,
        },
        ("next_logits", "required"),
        ("prompt", "required"),
        ("n_new", "int", (-1,)),
        ("temperature", "number", (0,)),
        ("top_k", "optional int", (0,)),
        ("rng", "required"),
    ),
    *_rows(sampling.poem_lines, {"text": POEM.text}, ("text", "text", ("not a poem",))),
    *_rows(sampling.line_form_rate, {}, ("texts", "required", ([],), (POEM.text,))),
    *_rows(
        sampling.memorised_lines,
        {"texts": [POEM.text], "training_lines": set()},
        ("texts", "required", (), (POEM.text,)),
        ("training_lines", "required"),
    ),
    # tiny_gpt.model: FAKE stands for a Keras model; every check fires before it is used
    *_rows(
        gpt.GPTConfig,
        {"vocab_size": 8},
        ("vocab_size", "int", (0,)),
        ("context", "int", (0,)),
        ("d_model", "int", (0, 30)),  # 30: not a multiple of the 4 heads
        ("n_layers", "int", (0,)),
        ("n_heads", "int", (0, 5)),
        ("dropout", "number", (1.0, -0.1, float("nan"))),
    ),
    *_rows(
        gpt.TokenAndPosition,
        {"vocab_size": 8, "context": 2, "d_model": 8},
        ("vocab_size", "int", (0,)),
        ("context", "int", (0,)),
        ("d_model", "int", (0,)),
    ),
    *_rows(
        gpt.CausalSelfAttention,
        {"d_model": 8, "n_heads": 2},
        ("d_model", "int", (0, 7)),
        ("n_heads", "int", (0, 3)),
    ),
    *_rows(
        gpt.block,
        {"x": FAKE, "config": GPT, "index": 0},
        ("x", "required"),
        ("config", "required", (), ({"vocab_size": 8},)),
        ("index", "int", (-1,)),
    ),
    *[
        row
        for function in (gpt.build_gpt, gpt.count)
        for row in _rows(function, {}, ("config", "required", (), ({"vocab_size": 8}, 8)))
    ],
    *_rows(
        gpt.train,
        {
            "model": FAKE,
            "train_sequences": SEQUENCES,
            "validation_sequences": SEQUENCES,
            "epochs": 1,
        },
        ("model", "required"),
        ("train_sequences", "required"),
        ("validation_sequences", "required"),
        ("epochs", "int", (0,)),
        ("batch_size", "int", (0,)),
        ("learning_rate", "number", (0, -3e-3, float("inf"))),
        ("weight_decay", "number", (-0.1, float("nan"))),
        ("patience", "optional int", (0,)),
        ("curve_points", "optional int", (0,)),
    ),
    *_rows(
        gpt.inputs_and_targets,
        {"sequences": SEQUENCES, "context": 2},
        ("sequences", "required", (np.zeros((2, 4), int), np.zeros(3, int))),
        ("context", "int", (0,)),
    ),
    *_rows(
        gpt.token_log_probs,
        {"model": FAKE, "sequences": SEQUENCES},
        ("model", "required"),
        ("sequences", "required"),
        ("batch_size", "int", (0,)),
    ),
    *_rows(gpt.next_token_logits, {"model": FAKE}, ("model", "required")),
    # tiny_gpt.attention (its softmax is book_core.softmax.softmax, which has its rows above)
    *_rows(attention.causal_mask, {}, ("n", "int", (0, -1))),
    *_rows(
        attention.attention,
        {"q": QKV, "k": QKV, "v": QKV},
        ("q", "required", (np.zeros(3), np.zeros((1, 2, 2), int)), ([[0.0, 1.0]],)),
        ("k", "required", (np.zeros((1, 2, 3)),)),
        ("v", "required", (np.zeros((1, 3, 2)),)),
    ),
    *_rows(
        attention.attention_backward,
        {"d_out": QKV, "cache": CACHE},
        ("d_out", "required", (np.zeros((1, 2, 3)),)),
        ("cache", "required", (), ((QKV, QKV, QKV), {"q": QKV})),
    ),
    *_rows(
        attention.MultiHeadSelfAttention,
        {"d_model": 8, "n_heads": 2, "rng": RNG},
        ("d_model", "int", (0, 7)),
        ("n_heads", "int", (0, 3)),
        ("rng", "required"),
    ),
    # ---------------------------------------------------------------- uncertainty
    *_rows(
        intervals.wilson,
        {"successes": 3, "n": 10},
        ("successes", "int", (-1, 11)),
        ("n", "int", (0,)),
        ("confidence", "number", (0, 1.0, 95)),
    ),
    *_rows(
        intervals.bootstrap_interval,
        {"values": [1.0, 2.0, 3.0]},
        ("values", "required", ([1.0],), ("abc", ["1", "2"])),
        ("statistic", "required"),
        ("confidence", "number", (1.0,)),
        ("n_resamples", "int", (0,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(
        intervals.seed_spread,
        {"values_by_seed": {42: 0.97, 43: 0.98}},
        ("values_by_seed", "required", ({42: 0.97},), ([0.97, 0.98],)),
        ("confidence", "number", (0,)),
    ),
    *_rows(
        intervals.compare_seeds, {"a": SPREAD, "b": SPREAD}, ("a", "required"), ("b", "required")
    ),
    *_rows(
        paired.mcnemar,
        {"correct_a": [1, 0], "correct_b": [0, 1]},
        ("correct_a", "required", ([1, 2],), ("10",)),
        ("correct_b", "required", ([1],)),
    ),
    *_rows(
        paired.sign_test,
        {"scores_a": [1.0, 2.0], "scores_b": [2.0, 1.0]},
        ("scores_a", "required", ([1.0],)),
        ("scores_b", "required"),
    ),
    *_rows(
        paired.paired_bootstrap,
        {"scores_a": [1.0, 2.0, 4.0], "scores_b": [2.0, 1.0, 1.0]},
        ("scores_a", "required"),
        ("scores_b", "required", ([1.0],)),
        ("confidence", "number", (1.0,)),
        ("n_resamples", "int", (0,)),
        ("seed", "int", (-1,)),
    ),
    *_rows(paired.format_p, {}, ("p", "number", (1.5, -0.1))),
    *_rows(
        results.Result,
        RESULT,
        ("name", "text", ("CNN accuracy",)),
        ("label", "text"),
        ("unit", "text"),
        ("interval", "text"),
        ("value", "number", (float("nan"), 2.0)),
        ("low", "number", (float("-inf"),)),
        ("high", "number", (float("inf"),)),
        ("n", "int", (0,)),
        ("test_items", "optional int", (0,)),
    ),
    *_rows(results.report, {}, ("result", "required", (), (RESULT,))),
    *_rows(results.collect, {"source": "x.ipynb"}, ("notebook", "required", (), ("x.ipynb",))),
    # ---------------------------------------------------------------- compute_budget
    *_budget(cb.training_flops, {"n_params": 1e9, "n_tokens": 2e10}),
    *_budget(cb.compute_optimal_tokens, {"n_params": 1e9, "tokens_per_param": 20.0}),
    *_budget(cb.compute_optimal_params, {"flops": 1e21, "tokens_per_param": 20.0}),
    *_budget(cb.inference_flops_per_token, {"n_params": 1e9}),
    *_budget(
        cb.gpu_hours,
        {"flops": 1e21, "peak_flops_per_s": 1e15, "utilisation": 0.4},
        flops=(-1.0,),
        utilisation=(0, 40),
    ),
    *_budget(cb.cost, {"hours": 2.0, "price_per_gpu_hour": 2.5}, hours=(-1.0,)),
    *_budget(
        cb.inference_cost_per_1k_tokens,
        {"n_params": 1e9, **BUDGET},
        utilisation=(0, 1.5),
        price_per_gpu_hour=(-1.0,),
    ),
    *_budget(cb.training_memory_bytes, {"n_params": 7e9, "bytes_per_param": 16.0}),
    *_budget(cb.weights_memory_bytes, {"n_params": 7e9, "bytes_per_param": 2.0}),
    *_budget(cb.estimate, {"n_params": 7e9, "n_tokens": 1.4e11, **BUDGET}, utilisation=(0, 1.5)),
    *_rows(
        cb.estimate,
        {"n_params": 7e9, "n_tokens": 1.4e11, **BUDGET},
        ("inference_utilisation", "optional number", (0, 1.5)),
    ),
    *_rows(cb.mlp_params, {}, ("layer_sizes", "ints", ([784], [784, 0]))),
    *_budget(
        economics.api_cost,
        {"tickets": 1e3, "tokens_in": 680, "tokens_out": 2, "price_in": 0.15, "price_out": 0.6},
    ),
    *_budget(
        economics.fleet_cost,
        {"tickets": 1e3, "tickets_per_hour": 100.0, "price_per_hour": 0.1},
        tickets_per_hour=(0, -1.0, float("nan")),
    ),
    *_budget(
        economics.labelling_cost, {"labels": 208, "minutes_per_label": 1.0, "wage_per_hour": 20}
    ),
    *_budget(
        economics.error_cost,
        {"tickets": 1e3, "accuracy": 0.87, "cost_per_error": 0.5},
        accuracy=(-0.1, 87, float("nan")),
    ),
    *_budget(economics.gross_margin, {"revenue": 10.0, "cost": 2.0}, revenue=(0, -1.0)),
    *_rows(
        economics.break_even,
        {"volumes": [1.0, 2.0], "cost_a": [1.0, 2.0], "cost_b": [2.0, 1.0]},
        ("volumes", "required", ([2.0, 1.0], [1.0])),
        ("cost_a", "required", ([1.0],)),
        ("cost_b", "required", ([[1.0, 2.0]],)),
    ),
    *_rows(measured.measured, {}, ("name", "text")),
    *_rows(
        cb.mlp_training_flops,
        {"layer_sizes": [784, 10], "n_examples": 10},
        ("layer_sizes", "ints", ([784],)),
        ("n_examples", "int", (0,)),
        ("epochs", "int", (0,)),
        ("batch_size", "int", (0,)),
        ("optimiser_flops_per_param", "int", (-1,)),
    ),
]


def _cases() -> list:
    cases = []
    for row in ENTRY_POINTS:
        for value in WRONG_TYPES[row.kind] + row.wrong:
            cases.append(pytest.param(row, value, TypeError, id=f"{row.name}-{row.arg}-{value!r}"))
        for value in row.invalid:
            cases.append(pytest.param(row, value, ValueError, id=f"{row.name}-{row.arg}-{value!r}"))
    return cases


@pytest.mark.parametrize(("row", "value", "error"), _cases())
def test_bad_input_raises_the_rule_s_error_naming_the_argument(row: Row, value, error) -> None:
    with pytest.raises(error) as info:
        row.call(**{**row.good, row.arg: value})
    assert row.arg in str(info.value), f"the message does not name {row.arg}: {info.value}"


# --------------------------------------------------------------------------- coverage

#: Modules left out as a whole, and why.
EXEMPT_MODULES: dict[str, str] = {}

_CHECKERS = "the rules themselves, tested in tests/test_checks.py"
_PLUMBING = (
    "file and cache plumbing: paths, bytes, digests and switches; no count, number or labels"
)
_RECORD = "a result record the package builds and returns; readers do not construct it"
_NO_ARGS = "takes no arguments"
_PREDICATE = "a predicate that answers for any object (a non-string is simply not a poem)"

#: Public callables that need no row, each with the reason (exceptions are left out as well:
#: they are raised by the packages, not called by readers).
EXEMPT: dict[str, str] = {
    # book_core
    "book_core.checks.check_class_labels": _CHECKERS,
    "book_core.checks.check_int": _CHECKERS,
    "book_core.checks.check_ints": _CHECKERS,
    "book_core.checks.check_labels": _CHECKERS,
    "book_core.checks.check_not_none": _CHECKERS,
    "book_core.checks.check_number": _CHECKERS,
    "book_core.checks.check_probabilities": _CHECKERS,
    "book_core.checks.check_str": _CHECKERS,
    "book_core.fetch.atomic_write": _PLUMBING,
    "book_core.fetch.cache_dir": _PLUMBING,
    "book_core.fetch.directory_from_env": _PLUMBING,
    "book_core.fetch.file_state": _PLUMBING,
    "book_core.fetch.free_name": _PLUMBING,
    "book_core.fetch.npm_pack": _PLUMBING,
    "book_core.fetch.quarantine": _PLUMBING,
    "book_core.fetch.sha256_bytes": _PLUMBING,
    "book_core.fetch.verify": _PLUMBING,
    "book_core.runtime.cpu_has_avx2": _NO_ARGS,
    "book_core.runtime.has_gpu": _NO_ARGS,
    "book_core.runtime.pin_numerics": _NO_ARGS,
    "book_core.runtime.quiet_tensorflow": _NO_ARGS,
    "book_core.timing.EpochTimer": _NO_ARGS + " (a Keras callback)",
    # mnist_lib
    "mnist_lib.data.Attempt": _RECORD,
    "mnist_lib.data.LoadReport": _RECORD,
    "mnist_lib.data.data_dir_from_env": _NO_ARGS,
    "mnist_lib.data.default_cache_dir": _NO_ARGS,
    "mnist_lib.data.keras_cache_file": _NO_ARGS,
    "mnist_lib.data.download": _PLUMBING,
    "mnist_lib.data.load_dir": _PLUMBING,
    "mnist_lib.data.load_idx_dir": _PLUMBING,
    "mnist_lib.data.load_mnist": _PLUMBING,
    "mnist_lib.data.load_npz": _PLUMBING,
    "mnist_lib.data.npm_fetch": _PLUMBING,
    "mnist_lib.data.read_idx_file": _PLUMBING,
    "mnist_lib.data.verify_cache": _PLUMBING,
    "mnist_lib.data.verify_source": _PLUMBING,
    "mnist_lib.data_quality.Neighbours": _RECORD + " (nearest_neighbours)",
    "mnist_lib.nn.ReLU": _NO_ARGS,
    "mnist_lib.nn.Sigmoid": _NO_ARGS,
    "mnist_lib.nn.SoftmaxCrossEntropy": _NO_ARGS,
    "mnist_lib.recipes.Recipe": "a name, a builder and a TrainConfig (which has its own rows)",
    "mnist_lib.training.TrainResult": _RECORD + " (train)",
    # prompt_lab
    "prompt_lab.data.Ticket": "a record of strings; load_tickets and parse_tickets check them",
    "prompt_lab.fewshot.DrawRecord": _RECORD + " (load_draw_record)",
    "prompt_lab.fewshot.load_draw_record": _PLUMBING + " (tested in tests/test_prompt_fewshot.py)",
    "prompt_lab.finetune.BlockInputs": _RECORD + " (block_inputs)",
    "prompt_lab.finetune.TopBlocksClassifier": _RECORD + " (finetune_top)",
    "prompt_lab.harness.EvalResult": _RECORD + " (evaluate)",
    "prompt_lab.harness.ItemResult": _RECORD + " (evaluate)",
    "prompt_lab.harness.LabelScorer": "an interface (typing.Protocol), not called",
    "prompt_lab.local.end_of_turn_id": "takes only a tokenizer object",
    "prompt_lab.probe.LinearProbe": _RECORD + " (train_probe)",
    # tiny_gpt
    "tiny_gpt.poems.Poem": "a record of strings; the loaders check the poems' form",
    "tiny_gpt.poems.Splits": _RECORD + " (split_poems)",
    "tiny_gpt.poems.cache_path": _PLUMBING,
    "tiny_gpt.poems.decode_cache": _PLUMBING,
    "tiny_gpt.poems.default_cache_dir": _NO_ARGS,
    "tiny_gpt.poems.download": _PLUMBING,
    "tiny_gpt.poems.encode_cache": _PLUMBING,
    "tiny_gpt.poems.extract_poems": _PLUMBING,
    "tiny_gpt.poems.load_poems": _PLUMBING,
    "tiny_gpt.poems.load_quatrains": _PLUMBING,
    "tiny_gpt.poems.verify_cache": _PLUMBING,
    "tiny_gpt.poems.is_quatrain": _PREDICATE,
    "tiny_gpt.poems.is_regulated_verse": _PREDICATE,
    "tiny_gpt.poems.quatrain_problem": _PREDICATE + " (returns the problem)",
    "tiny_gpt.poems.regulated_verse_problem": _PREDICATE + " (returns the problem)",
    "tiny_gpt.sampling.keeps_line_form": _PREDICATE,
    "tiny_gpt.model.GPTCount": _RECORD + " (count)",
    "tiny_gpt.attention.AttentionCache": _RECORD + " (attention)",
    # uncertainty
    "uncertainty.intervals.Interval": _RECORD + " (wilson, bootstrap_interval)",
    "uncertainty.intervals.SeedComparison": _RECORD + " (compare_seeds)",
    "uncertainty.intervals.SeedSpread": _RECORD + " (seed_spread)",
    "uncertainty.paired.McNemarResult": _RECORD + " (mcnemar)",
    "uncertainty.paired.PairedDifference": _RECORD + " (paired_bootstrap)",
    "uncertainty.paired.SignTestResult": _RECORD + " (sign_test)",
    # compute_budget
    "compute_budget.Estimate": _RECORD + " (estimate)",
    "compute_budget.MLPFlops": _RECORD + " (mlp_training_flops)",
    "compute_budget.measured.Measurement": _RECORD + " (measured)",
}


def _public_callables() -> dict[str, Any]:
    """``{module.qualname: object}`` of every function and class defined in a public module (its
    name does not start with ``_``) of each package, under a public name; exceptions left out."""
    found: dict[str, Any] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [
            f"{package}.{info.name}"
            for info in pkgutil.iter_modules(root.__path__)
            if not info.name.startswith("_")
        ]
        for module_name in names:
            if module_name in EXEMPT_MODULES:
                continue
            module = importlib.import_module(module_name)
            for name in dir(module):
                obj = getattr(module, name)
                if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
                    continue
                if inspect.isclass(obj) and issubclass(obj, BaseException):
                    continue
                if inspect.isfunction(obj) or inspect.isclass(obj):
                    found[f"{module_name}.{obj.__qualname__}"] = obj
    return found


def _covered() -> set[str]:
    """What the table covers: each row's callable, and the class of a method or classmethod."""
    names = {row.name for row in ENTRY_POINTS}
    return names | {name.rsplit(".", 1)[0] for name in names}


def test_every_public_callable_is_covered_or_exempt() -> None:
    public = _public_callables()
    missing = sorted(set(public) - _covered() - set(EXEMPT))
    assert not missing, (
        "public callables with no row in ENTRY_POINTS and no reason in EXEMPT (add a row per "
        f"argument, checked with book_core.checks, or an exemption with its reason): {missing}"
    )


def test_the_exemptions_are_current() -> None:
    public = _public_callables()
    stale = sorted(set(EXEMPT) - set(public))
    assert not stale, f"EXEMPT names callables that no longer exist: {stale}"
    both = sorted(set(EXEMPT) & _covered())
    assert not both, f"covered by ENTRY_POINTS, so no exemption is needed: {both}"
    assert len(public) > 100  # the enumeration found the packages' callables
