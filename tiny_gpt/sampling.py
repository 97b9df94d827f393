"""Writing poems with a trained model: sampling the next token, the generation loop, and metrics.

Used in the tiny-GPT part (``chapters/tiny_gpt/``) by ``char_gpt.ipynb``: :func:`generate` runs
the Keras model one token at a time, :func:`sample_next` draws each token (temperature and top-k),
and :func:`line_form_rate` and :func:`memorised_lines` measure the poems it writes: do they keep
the quatrain's form, and do they copy lines from the training set?

A five-character quatrain (五言絕句) is 24 characters: four lines of five, each followed by its
punctuation, ``，`` after the first and third lines and ``。`` (or ``？``/``！``) after the second
and fourth, as in ``白日依山盡，黃河入海流。欲窮千里目，更上一層樓。``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from book_core.checks import check_int, check_not_none, check_number, check_str
from book_core.softmax import softmax
from tiny_gpt.poems import LINE_LENGTH, QUATRAIN_LENGTH, is_quatrain

__all__ = [
    "generate",
    "keeps_line_form",
    "line_form_rate",
    "memorised_lines",
    "poem_lines",
    "sample_next",
]


# --------------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------------


def _check_options(
    temperature: float, top_k: int | None, rng: np.random.Generator, vocab_size: int | None
) -> None:
    check_number(
        "temperature",
        temperature,
        above=0,
        fix="pass a number such as 0.8; for greedy decoding use top_k=1",
    )
    if top_k is not None:
        check_int("top_k", top_k, fix="pass an int such as 20, or None to keep all")
    if not hasattr(rng, "random"):
        raise TypeError(
            f"rng must be a NumPy Generator, got {type(rng).__name__}; pass "
            "np.random.default_rng(seed)."
        )
    if top_k is not None and vocab_size is not None and top_k > vocab_size:
        raise ValueError(f"top_k={top_k} is more than the vocabulary's {vocab_size} ids.")


def sample_next(
    logits: np.ndarray,
    *,
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
    forbid: Sequence[int] = (),
) -> np.ndarray:
    """Draw one token id per row of ``logits`` ``(batch, V)``; returns ``(batch,)`` int64.

    The logits are divided by ``temperature`` (below 1 sharpens, above 1 flattens), only the
    ``top_k`` largest are kept (exactly ``k``, ties broken by ``argpartition``; None keeps all),
    then a softmax gives the probabilities to draw from. Ids in ``forbid`` (padding, ``<bos>``,
    ``<unk>``) are never drawn: they are removed before the top-k. ``-inf`` logits (probability
    0) are allowed, but every row needs at least one finite logit that is not forbidden.
    """
    logits = np.asarray(check_not_none("logits", logits, "a (batch, V) array of logits"))
    if logits.ndim != 2 or 0 in logits.shape or not np.issubdtype(logits.dtype, np.number):
        raise ValueError(f"logits must be a numeric (batch, V) array, got {logits.shape}.")
    _check_options(temperature, top_k, rng, logits.shape[1])
    forbid = np.asarray(forbid, dtype=np.int64).reshape(-1)
    if forbid.size and (forbid.min() < 0 or forbid.max() >= logits.shape[1]):
        raise ValueError(f"forbid ids must lie in 0..{logits.shape[1] - 1}, got {forbid}.")
    z = logits.astype(np.float64) / temperature  # (batch, V)
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits contain NaN or +inf: the model's output is broken.")
    z[:, forbid] = -np.inf
    if not np.isfinite(z).any(axis=1).all():
        raise ValueError("a row of logits has no finite value left once forbidden ids are removed.")
    if top_k is not None:
        best = np.argpartition(-z, top_k - 1, axis=1)[:, :top_k]  # (batch, k): the k largest
        keep = np.zeros(z.shape, dtype=bool)  # (batch, V)
        np.put_along_axis(keep, best, True, axis=1)
        z = np.where(keep, z, -np.inf)  # (batch, V)
    p = softmax(z, axis=1)  # (batch, V), 0 where -inf
    cdf = np.cumsum(p, axis=1)  # (batch, V)
    u = rng.random(len(p))[:, None] * cdf[:, -1:]  # (batch, 1), uniform on [0, row total)
    return np.argmax(cdf > u, axis=1).astype(np.int64)  # (batch,): first id whose cdf passes u


def generate(
    next_logits: Callable[[np.ndarray], np.ndarray],
    prompt: np.ndarray,
    n_new: int,
    *,
    temperature: float,
    top_k: int | None,
    rng: np.random.Generator,
    forbid: Sequence[int] = (),
) -> np.ndarray:
    """Extend every row of ``prompt`` ``(batch, t0)`` by ``n_new`` sampled tokens.

    ``next_logits(ids)`` gets the ids so far, ``(batch, t)``, and returns the logits of the next
    token for each row, ``(batch, V)`` (the notebook wraps the Keras model: its last position's
    output). Returns ``(batch, t0 + n_new)`` int64, the prompt first.

    Raises:
        TypeError: ``next_logits`` is not callable, ``prompt`` is None, ``n_new`` or ``top_k`` is
            not an integer, ``temperature`` not a number.
        ValueError: a misshaped prompt, ``n_new < 0``, ``temperature <= 0``, ``top_k < 1``, or
            logits of the wrong shape from ``next_logits``.
    """
    if not callable(next_logits):
        raise TypeError(
            f"next_logits must be a function ids -> logits, got {type(next_logits).__name__}; "
            "pass e.g. next_token_logits(model)."
        )
    check_int("n_new", n_new, minimum=0, fix="pass an int such as 24")
    _check_options(temperature, top_k, rng, None)
    ids = np.asarray(check_not_none("prompt", prompt, "a 2-D int array (batch, t0) of ids"))
    if ids.ndim != 2 or 0 in ids.shape or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"prompt must be a 2-D int array (batch, t0) with batch, t0 >= 1 (start with <bos>), "
            f"got {ids.dtype} {ids.shape}."
        )
    ids = ids.astype(np.int64)  # a copy: the prompt itself is left alone
    for _ in range(n_new):
        logits = np.asarray(next_logits(ids))  # (batch, V)
        if logits.ndim != 2 or logits.shape[0] != len(ids):
            raise ValueError(
                f"next_logits must return (batch, V) = ({len(ids)}, V) logits, got {logits.shape}."
            )
        nxt = sample_next(logits, temperature=temperature, top_k=top_k, rng=rng, forbid=forbid)
        ids = np.concatenate([ids, nxt[:, None]], axis=1)  # (batch, t + 1)
    return ids


# --------------------------------------------------------------------------------------------
# metrics of generated poems
# --------------------------------------------------------------------------------------------


def _check_texts(texts: Iterable[str]) -> None:
    """TypeError for None or a bare string: a list of generated texts is expected."""
    if texts is None or isinstance(texts, (str, bytes)):
        raise TypeError(
            f"texts must be a list of generated texts, got {texts!r:.60}; wrap one text in a "
            "list, [text]."
        )


def keeps_line_form(text: str) -> bool:
    """True if ``text`` is ``XXXXX，XXXXX。XXXXX，XXXXX。``-shaped (``？`` or ``！`` may end a couplet).

    The very rule the training poems were selected by (:func:`tiny_gpt.poems.is_quatrain`): four
    lines of five CJK ideographs, ``，`` at positions 5 and 17, one of ``。？！`` at 11 and 23, and
    nothing else, so punctuation, spaces or ``<unk>`` inside a line break it.
    """
    return is_quatrain(text)


def poem_lines(text: str) -> list[str]:
    """The four 5-character lines of a well-formed poem, without their punctuation.

    ``poem_lines("白日依山盡，黃河入海流。欲窮千里目，更上一層樓。")`` is
    ``["白日依山盡", "黃河入海流", "欲窮千里目", "更上一層樓"]``: build the ``training_lines`` set
    of :func:`memorised_lines` with it.
    """
    check_str("text", text, example="'白日依山盡，黃河入海流。欲窮千里目，更上一層樓。'")
    if not keeps_line_form(text):
        raise ValueError(
            f"text must be a five-character quatrain (4 lines of 5 plus punctuation), got {text!r}"
        )
    step = LINE_LENGTH + 1
    return [text[i : i + LINE_LENGTH] for i in range(0, QUATRAIN_LENGTH, step)]


def line_form_rate(texts: Iterable[str]) -> float:
    """The fraction of ``texts`` that keep the quatrain's form (:func:`keeps_line_form`)."""
    _check_texts(texts)
    verdicts = [keeps_line_form(t) for t in texts]
    if not verdicts:
        raise ValueError("no texts given: the rate of an empty list is undefined.")
    return sum(verdicts) / len(verdicts)


def memorised_lines(texts: Iterable[str], training_lines: set[str]) -> tuple[int, int]:
    """``(found, checked)``: lines of the well-formed ``texts`` found verbatim in training.

    Only texts that keep the form are checked (the others have no clear lines), four lines each;
    ``training_lines`` holds the 5-character lines of the training poems without punctuation
    (see :func:`poem_lines`). ``found / checked`` is the share of lines copied, not invented.
    """
    _check_texts(texts)
    check_not_none("training_lines", training_lines, "a set of 5-character lines (poem_lines)")
    lines = [line for t in texts if keeps_line_form(t) for line in poem_lines(t)]
    return sum(line in training_lines for line in lines), len(lines)
