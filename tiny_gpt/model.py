"""The character-level GPT of the tiny-GPT part, in Keras, and its exact FLOP count.

Introduced in ``chapters/tiny_gpt/char_gpt.ipynb`` (trained on the Tang quatrains) and reused by
``chapters/tiny_gpt/scaling.ipynb`` (several sizes, loss against compute). The architecture is the
one derived on the chapter page ``chapters/tiny_gpt/index.md``::

    ids (batch, T) -> token embedding + position embedding        (batch, T, d)
                   -> n_layers x [x + MHA(LN(x)), x + MLP(LN(x))]  (batch, T, d)   pre-norm blocks
                   -> LN -> Dense(V)                              (batch, T, V)   logits

The attention is :class:`CausalSelfAttention`, a Keras layer written line for line from the
page's equations: the same computation as the NumPy :class:`tiny_gpt.attention.MultiHeadSelfAttention`
that the page derives and checks (``attention.ipynb``), so the code the reader studies is the code
that trains. ``tests/test_tiny_gpt_layer.py`` checks it against that NumPy version and against
Keras' own ``MultiHeadAttention`` with the same weights. Needs TensorFlow: a notebook calls
``book_core.runtime.use_tensorflow(SEED)`` before importing this.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import keras
import numpy as np

from book_core.checks import check_int, check_not_none, check_number
from book_core.softmax import log_softmax
from book_core.timing import EpochTimer


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT: vocabulary, context length, width, depth, heads, dropout."""

    vocab_size: int
    context: int = 24
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context", "d_model", "n_layers", "n_heads"):
            check_int(name, getattr(self, name))
        check_number("dropout", self.dropout, minimum=0.0, below=1.0, example=0.1)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads}): "
                "each head gets d_model / n_heads dimensions."
            )


def _check_config(config: GPTConfig) -> None:
    """TypeError unless ``config`` is a :class:`GPTConfig` (which checked its own fields)."""
    if not isinstance(config, GPTConfig):
        raise TypeError(
            f"config must be a GPTConfig, got {type(config).__name__}; pass e.g. "
            "GPTConfig(vocab_size=V)."
        )


class TokenAndPosition(keras.layers.Layer):
    """Token embedding plus a learned position embedding: ``(batch, T)`` ids to ``(batch, T, d)``."""

    def __init__(self, vocab_size: int, context: int, d_model: int, **kwargs) -> None:
        check_int("vocab_size", vocab_size)
        check_int("context", context)
        check_int("d_model", d_model)
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")
        self.positions = keras.layers.Embedding(context, d_model, name="position_embedding")

    def call(self, ids):
        t = keras.ops.shape(ids)[-1]
        return self.tokens(ids) + self.positions(keras.ops.arange(t))  # (batch, T, d) + (T, d)


class CausalSelfAttention(keras.layers.Layer):
    """Multi-head causal self-attention, ``(batch, T, d) -> (batch, T, d)``, from the page's
    equations: ``Q, K, V = x W_q, x W_k, x W_v``, split into ``n_heads`` heads of width
    ``d / n_heads``; in each head ``P = softmax(Q Kᵀ / sqrt(d_head) + M)`` with ``M`` = -inf above
    the diagonal (position t sees positions <= t), then ``P V``; the heads side by side, ``@ W_o``.

    Four ``(d, d)`` weights and no biases, as :class:`tiny_gpt.attention.MultiHeadSelfAttention`
    (whose forward pass this is, in Keras operations, so that Keras can differentiate and train
    it). Used by every block of :func:`build_gpt`.
    """

    def __init__(self, d_model: int, n_heads: int, **kwargs) -> None:
        super().__init__(**kwargs)
        check_int("d_model", d_model)
        check_int("n_heads", n_heads)
        if d_model % n_heads:
            raise ValueError(
                f"d_model ({d_model}) must be a multiple of n_heads ({n_heads}): each head gets "
                "d_model / n_heads dimensions."
            )
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads

    def build(self, input_shape) -> None:
        for name in ("Wq", "Wk", "Wv", "Wo"):
            weight = self.add_weight(
                shape=(self.d_model, self.d_model), initializer="glorot_uniform", name=name
            )
            setattr(self, name, weight)

    def split_heads(self, a):
        """``(B, T, d) -> (B, h, T, d_head)``: head ``i`` gets columns ``i*d_head:(i+1)*d_head``."""
        b, t = keras.ops.shape(a)[0], keras.ops.shape(a)[1]
        return keras.ops.transpose(
            keras.ops.reshape(a, (b, t, self.n_heads, self.d_head)), (0, 2, 1, 3)
        )

    def call(self, x):
        b, t = keras.ops.shape(x)[0], keras.ops.shape(x)[1]
        q = self.split_heads(x @ self.Wq)  # (B, h, T, d_head)
        k = self.split_heads(x @ self.Wk)  # (B, h, T, d_head)
        v = self.split_heads(x @ self.Wv)  # (B, h, T, d_head)
        scores = q @ keras.ops.swapaxes(k, -1, -2) / math.sqrt(self.d_head)  # (B, h, T, T)
        sees = keras.ops.tril(keras.ops.ones((t, t), dtype="bool"))  # (T, T): j <= i
        scores = keras.ops.where(sees, scores, float("-inf"))  # masked: weight exactly 0
        with warnings.catch_warnings():  # T = 1 (a one-token prompt): Keras warns, needlessly
            warnings.filterwarnings("ignore", "You are using a softmax over axis", UserWarning)
            p = keras.ops.softmax(scores, axis=-1)  # (B, h, T, T), each row sums to 1
        heads = p @ v  # (B, h, T, d_head)
        merged = keras.ops.reshape(keras.ops.transpose(heads, (0, 2, 1, 3)), (b, t, self.d_model))
        return merged @ self.Wo  # (B, T, d)

    def get_config(self) -> dict:
        return {**super().get_config(), "d_model": self.d_model, "n_heads": self.n_heads}


def block(x, config: GPTConfig, index: int):
    """One pre-norm Transformer block: ``x + MHA(LN(x))``, then ``x + MLP(LN(x))``."""
    check_not_none("x", x, "the block's input, a Keras tensor (batch, T, d_model)")
    _check_config(config)
    check_int("index", index, minimum=0)
    d, name = config.d_model, f"block{index}"
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln1")(x)
    h = CausalSelfAttention(d, config.n_heads, name=f"{name}_attention")(h)  # (batch, T, d)
    x = x + keras.layers.Dropout(config.dropout)(h)
    h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ln2")(x)
    h = keras.layers.Dense(4 * d, activation="gelu", name=f"{name}_mlp_in")(h)  # (batch, T, 4d)
    h = keras.layers.Dense(d, name=f"{name}_mlp_out")(h)  # (batch, T, d)
    return x + keras.layers.Dropout(config.dropout)(h)


def build_gpt(config: GPTConfig) -> keras.Model:
    """The GPT of ``config``: int ids ``(batch, T)`` with ``T <= context`` to logits ``(batch, T, V)``.

    Seed first (``book_core.runtime.seed_everything``) for the same initial weights every run.
    """
    _check_config(config)
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    x = TokenAndPosition(config.vocab_size, config.context, config.d_model, name="embed")(ids)
    x = keras.layers.Dropout(config.dropout)(x)
    for i in range(config.n_layers):
        x = block(x, config, i)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_ln")(x)
    logits = keras.layers.Dense(config.vocab_size, name="head")(x)
    return keras.Model(ids, logits, name=f"gpt_d{config.d_model}_l{config.n_layers}")


# ---------------------------------------------------------------------------------- training


def train(
    model: keras.Model,
    train_sequences: np.ndarray,
    validation_sequences: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    weight_decay: float = 0.1,
    patience: int | None = None,
    curve_points: int | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` to predict each next token; return the history, one entry per epoch.

    AdamW (Adam with decoupled weight decay) with a learning rate that decays to 0 along a cosine
    over ``epochs``; the loss is the mean cross-entropy in nats per predicted token. With
    ``patience``, training stops once the validation loss has not improved for that many epochs,
    and the best epoch's weights are restored. Seed before building the model
    (``book_core.runtime.seed_everything``) for a repeatable run: the shuffling uses TensorFlow's
    global seed. History keys: ``loss``, ``val_loss`` and ``seconds`` (wall time of each epoch).
    With ``curve_points``, the validation loss is also measured that many times per epoch, at
    evenly spaced steps: ``curve_tokens`` (training tokens seen so far) and ``curve_val_loss``,
    the loss-against-compute curves of ``scaling.ipynb``.
    """
    check_not_none("model", model, "a Keras model from build_gpt")
    check_not_none("train_sequences", train_sequences, "an (n, context + 1) array of token ids")
    check_not_none(
        "validation_sequences", validation_sequences, "an (n, context + 1) array of token ids"
    )
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    check_number("learning_rate", learning_rate, above=0.0, example=3e-3)
    check_number("weight_decay", weight_decay, minimum=0.0, example=0.1)
    if patience is not None:
        check_int("patience", patience)
    if curve_points is not None:
        check_int("curve_points", curve_points)
    context = model.input_shape[1] or train_sequences.shape[1] - 1
    x, y = inputs_and_targets(train_sequences, context)
    validation = inputs_and_targets(validation_sequences, context)
    steps = epochs * -(-len(x) // batch_size)  # ceil: optimiser steps over the whole run
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    timer = EpochTimer()
    callbacks: list[keras.callbacks.Callback] = [timer]
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
        )
    curve = None
    if curve_points is not None:
        if curve_points > -(-len(x) // batch_size):
            raise ValueError(
                f"curve_points ({curve_points}) must be at most the {-(-len(x) // batch_size)} "
                "training steps of an epoch: the curve is measured after whole steps. Ask for "
                "fewer points or use a smaller batch_size."
            )
        curve = _ValidationCurve(validation_sequences, len(x), batch_size, curve_points)
        callbacks.append(curve)
    fit = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation,
        callbacks=callbacks,
        verbose=0,
    )
    history = {key: [float(v) for v in fit.history[key]] for key in ("loss", "val_loss")}
    history["seconds"] = timer.seconds
    if curve is not None:
        history["curve_tokens"] = [float(n * context) for n in curve.examples]
        history["curve_val_loss"] = curve.losses
    return history


class _ValidationCurve(keras.callbacks.Callback):
    """Measures the validation loss ``points`` times per epoch, at evenly spaced steps."""

    def __init__(self, validation: np.ndarray, n_train: int, batch_size: int, points: int) -> None:
        super().__init__()
        self.validation, self.n_train, self.batch_size = validation, n_train, batch_size
        steps = -(-n_train // batch_size)  # per epoch
        self.at = {round(steps * (i + 1) / points) for i in range(points)}
        self.epoch, self.examples, self.losses = 0, [], []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if batch + 1 in self.at:
            seen = self.epoch * self.n_train + min((batch + 1) * self.batch_size, self.n_train)
            self.examples.append(seen)
            self.losses.append(float(-token_log_probs(self.model, self.validation).mean()))


# ------------------------------------------------------------------------ loss on whole sequences


def inputs_and_targets(sequences: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``(n, context + 1)`` sequences (``<bos>`` first) into model inputs and next tokens."""
    check_not_none("sequences", sequences, "an (n, context + 1) array of token ids")
    check_int("context", context)
    sequences = np.asarray(sequences)
    if sequences.ndim != 2 or sequences.shape[1] != context + 1:
        raise ValueError(
            f"sequences must be shaped (n, context + 1) = (n, {context + 1}): <bos> and the "
            f"{context} tokens to predict; got {sequences.shape}."
        )
    return sequences[:, :-1].astype("int32"), sequences[:, 1:].astype("int32")


def token_log_probs(model: keras.Model, sequences: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """log P(token) of every predicted token, ``(n, context)``, in float64.

    The same quantity the baselines of :mod:`tiny_gpt.baselines` give, so their losses compare:
    the mean of ``-token_log_probs`` is the loss in nats per token, and ``exp`` of it the perplexity.
    """
    check_not_none("model", model, "a Keras model from build_gpt")
    check_not_none("sequences", sequences, "an (n, context + 1) array of token ids")
    check_int("batch_size", batch_size)
    context = model.input_shape[1] or sequences.shape[1] - 1
    x, y = inputs_and_targets(sequences, context)
    out = np.empty(y.shape, dtype=np.float64)
    for start in range(0, len(x), batch_size):
        logits = np.asarray(model(x[start : start + batch_size], training=False), np.float64)
        log_p = log_softmax(logits, axis=-1)  # (b, T, V)
        rows = y[start : start + batch_size]
        out[start : start + batch_size] = np.take_along_axis(log_p, rows[..., None], -1)[..., 0]
    return out


def next_token_logits(model: keras.Model):
    """A function ``ids (batch, t) -> logits (batch, V)`` of the next token, for sampling."""
    check_not_none("model", model, "a Keras model from build_gpt")

    def next_logits(ids: np.ndarray) -> np.ndarray:
        logits = model(np.asarray(ids, dtype="int32"), training=False)  # (batch, t, V)
        return np.asarray(logits[:, -1, :], dtype=np.float64)

    return next_logits


# ---------------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class GPTCount:
    """Parameters and FLOPs per token of a :class:`GPTConfig`, counted from the architecture."""

    params: int
    embedding_params: int
    forward_by_part: dict[str, int]

    @property
    def non_embedding_params(self) -> int:
        """Parameters other than the token and position tables (Kaplan et al.'s N)."""
        return self.params - self.embedding_params

    @property
    def forward_flops_per_token(self) -> int:
        """Matrix-product FLOPs of one forward pass, per token."""
        return sum(self.forward_by_part.values())

    @property
    def attention_flops_per_token(self) -> int:
        """The part that grows with the context: the scores and the weighted sums."""
        return self.forward_by_part["attention scores and sums"]

    @property
    def training_flops_per_token(self) -> int:
        """Forward plus backward: the backward pass costs two forward passes (see the page)."""
        return 3 * self.forward_flops_per_token


def count(config: GPTConfig) -> GPTCount:
    """Count the parameters and the matrix-product FLOPs per token (a multiply-add counting 2).

    Per block, with width ``d`` and ``T`` = ``config.context`` positions: the query, key, value
    and output projections ``4 * 2d²``; the scores ``Q Kᵀ`` and the weighted sum ``P V``, each
    ``2Td`` per token (Keras computes all ``T`` scores of a row and masks afterwards); the MLP
    ``2 * 2 * 4d²``. Then the head ``2dV``. Embedding look-ups, layer norms, biases, GELU and the
    softmax are elementwise and left out, as in the 6ND rule. The attention has no biases
    (:class:`CausalSelfAttention`). ``tests/test_tiny_gpt_model.py`` checks the parameter count
    against Keras.
    """
    _check_config(config)
    d, t, v, layers = config.d_model, config.context, config.vocab_size, config.n_layers
    embedding = v * d + t * d
    per_block = 4 * d * d + (8 * d * d + 4 * d + d) + 2 * (2 * d)  # attention, MLP, 2 LNs
    params = embedding + layers * per_block + 2 * d + (d * v + v)  # + final LN + head
    parts = {
        "attention projections": layers * 4 * 2 * d * d,
        "attention scores and sums": layers * 2 * (2 * t * d),
        "MLP": layers * 2 * 2 * 4 * d * d,
        "head": 2 * d * v,
    }
    return GPTCount(params, embedding, parts)
