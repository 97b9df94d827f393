"""Fine-tuning the top of the model: its last blocks and a classifier head, on labelled tickets.

The last rung of the prompt-engineering chapter's ladder (``chapters/prompting/ladder.ipynb``).
A linear probe (:mod:`prompt_lab.probe`) reads the frozen model's hidden states as they are;
here the last few Transformer blocks are trained too, so the features themselves adapt to the
task. The blocks below stay frozen, so their output is computed once per ticket
(:func:`block_inputs`) and every epoch only runs the trained blocks: on two CPU cores an epoch
over two hundred tickets takes seconds, where training the whole model would take minutes.

The classifier reads the mean of the last block's outputs over the ticket's tokens (after the
model's final normalisation) and is trained with cross-entropy and AdamW. The loaded model is
never changed: the trained blocks are copies.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from book_core.checks import check_int, check_labels, check_not_none, check_number
from prompt_lab.data import QUEUES
from prompt_lab.local import LocalModel


@dataclass
class BlockInputs:
    """Hidden states entering block ``block`` for a list of texts, right-padded.

    ``states`` is ``(n, width, hidden)``, ``mask`` ``(n, width)`` with 1 on real tokens.
    """

    block: int
    states: Any
    mask: Any

    def __len__(self) -> int:
        return int(self.states.shape[0])


def block_inputs(model: LocalModel, texts: Sequence[str], block: int) -> BlockInputs:
    """What block ``block`` of ``model`` reads for each text (``block`` counts from 0; the
    hidden states after the blocks below it). Computed once, without gradients.

    Raises:
        TypeError: ``model`` is None, ``texts`` is not a list of strings (a bare string is
            refused), or ``block`` is not an integer.
        ValueError: no texts, an empty text, or a block the model does not have.
    """
    check_not_none("model", model, "the loaded model, load_local_model()")
    texts = list(check_labels("texts", texts, allow_empty=True, example="['a refund', 'a parcel']"))
    check_int("block", block, minimum=0, fix="pass the index of a block, from 0")
    if not texts:
        raise ValueError("texts is empty: pass the list of ticket texts to read")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(
            f"texts {empty} are empty or only whitespace: there is nothing to read. Answer an "
            "empty ticket without the model, for example by asking the customer for details."
        )
    n_blocks = model.model.config.num_hidden_layers
    if not block < n_blocks:
        raise ValueError(f"block must be an integer from 0 to {n_blocks - 1}, got {block!r}")
    torch = model._torch
    pad = model._gen_kwargs["pad_token_id"]
    encoded = [model._encode(t) for t in texts]
    width = max(len(e) for e in encoded)
    states = torch.zeros(len(texts), width, model.model.config.hidden_size, device=model.device)
    mask = torch.zeros(len(texts), width, dtype=torch.long, device=model.device)
    with model._lock, torch.inference_mode():
        for start in range(0, len(texts), model.batch_size):
            rows = range(start, min(start + model.batch_size, len(texts)))
            w = max(len(encoded[i]) for i in rows)
            ids = torch.tensor([encoded[i] + [pad] * (w - len(encoded[i])) for i in rows])
            m = torch.tensor([[1] * len(encoded[i]) + [0] * (w - len(encoded[i])) for i in rows])
            out = model.model.model(
                input_ids=ids.to(model.device),
                attention_mask=m.to(model.device),
                output_hidden_states=True,
            )
            states[start : start + len(rows), :w] = out.hidden_states[block].float()
            mask[start : start + len(rows), :w] = m.to(model.device)
    return BlockInputs(block, states.clone(), mask.clone())


@dataclass
class TopBlocksClassifier:
    """Trained copies of the model's top blocks, its final normalisation and a linear head."""

    local: LocalModel
    top: Any
    head: Any
    labels: tuple[str, ...]
    first_block: int

    def _logits(self, inputs: BlockInputs, batch: Any) -> Any:
        states, mask = inputs.states[batch], inputs.mask[batch]
        width = int(mask.sum(1).max())
        states, mask = states[:, :width], mask[:, :width]
        out = self.top(inputs_embeds=states, attention_mask=mask, use_cache=False)
        weights = mask.unsqueeze(-1).float()
        pooled = (out.last_hidden_state * weights).sum(1) / weights.sum(1)
        return self.head(pooled)

    def probabilities(self, texts_or_inputs: Sequence[str] | BlockInputs) -> np.ndarray:
        """``(n, labels)`` probabilities, one row per text."""
        torch = self.local._torch
        inputs = self._inputs(texts_or_inputs)
        self.top.eval()
        with torch.inference_mode():
            rows = [
                torch.softmax(self._logits(inputs, torch.arange(s, min(s + 32, len(inputs)))), -1)
                for s in range(0, len(inputs), 32)
            ]
        return torch.cat(rows).double().cpu().numpy()

    def predict(self, texts_or_inputs: Sequence[str] | BlockInputs) -> list[str]:
        """The most probable label of each text."""
        return [self.labels[i] for i in self.probabilities(texts_or_inputs).argmax(axis=1)]

    def _inputs(self, texts_or_inputs: Sequence[str] | BlockInputs) -> BlockInputs:
        if isinstance(texts_or_inputs, BlockInputs):
            if texts_or_inputs.block != self.first_block:
                raise ValueError(
                    f"these inputs enter block {texts_or_inputs.block}, but the classifier's "
                    f"first trained block is {self.first_block}: compute them with "
                    f"block_inputs(model, texts, {self.first_block})"
                )
            return texts_or_inputs
        return block_inputs(self.local, texts_or_inputs, self.first_block)


def _top_copy(model: LocalModel, first_block: int) -> Any:
    """A copy of the Transformer holding only blocks ``first_block`` and up (and the final
    normalisation); the token embeddings and lower blocks are shared, not copied, and unused."""
    base = model.model.model
    shared = [base.embed_tokens, *base.layers[:first_block]]
    top = copy.deepcopy(base, memo={id(m): m for m in shared})
    top.layers = top.layers[first_block:]
    top.config = copy.deepcopy(base.config)
    top.config.num_hidden_layers = len(top.layers)
    return top


def finetune_top(
    model: LocalModel,
    inputs: BlockInputs,
    labels: Sequence[str],
    *,
    label_set: Sequence[str] = QUEUES,
    epochs: int = 8,
    learning_rate: float = 2e-4,
    head_learning_rate: float = 1e-3,
    weight_decay: float = 0.01,
    batch_size: int = 16,
    seed: int = 0,
) -> TopBlocksClassifier:
    """Train the blocks from ``inputs.block`` up, and a linear head, to predict ``labels``.

    Args:
        model: the loaded model; it is not modified.
        inputs: :func:`block_inputs` of the training texts; its ``block`` is the first trained one.
        labels: one label per training text, each one of ``label_set``.
        epochs: passes over the training texts, in shuffled mini-batches of ``batch_size``.
        learning_rate: AdamW's step size for the blocks (small: they are already trained).
        head_learning_rate: AdamW's step size for the new, randomly initialised head.
        weight_decay: AdamW's decoupled weight decay.
        seed: fixes the head's initial weights and the shuffling.

    Raises:
        TypeError: ``model`` or ``inputs`` is None, ``labels`` or ``label_set`` is not a sequence of
            strings (a bare string is refused), or a setting of the wrong type.
        ValueError: a label count that does not match, unknown labels, a label with no example,
            or a setting out of range.
    """
    check_not_none("model", model, "the loaded model, load_local_model()")
    check_not_none("inputs", inputs, "block_inputs(model, texts, block)")
    labels = check_labels("labels", labels, allow_empty=True, example="['billing', 'shipping']")
    label_set = check_labels("label_set", label_set, example="prompt_lab.QUEUES")
    check_int("epochs", epochs, fix="pass an int such as 8")
    check_int("batch_size", batch_size, fix="pass an int such as 16")
    check_number("learning_rate", learning_rate, above=0, example=2e-4)
    check_number("head_learning_rate", head_learning_rate, above=0, example=1e-3)
    check_number("weight_decay", weight_decay, minimum=0, example=0.01)
    seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    if len(labels) != len(inputs):
        raise ValueError(f"got {len(inputs)} texts but {len(labels)} labels")
    unknown = sorted(set(labels) - set(label_set))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {list(label_set)}")
    missing = [lab for lab in label_set if lab not in set(labels)]
    if missing:
        raise ValueError(f"no training example of {missing}: a classifier cannot learn it")

    torch = model._torch
    generator = torch.Generator().manual_seed(seed)
    top = _top_copy(model, inputs.block)
    hidden = model.model.config.hidden_size
    head = torch.nn.Linear(hidden, len(label_set)).to(model.device)
    with torch.no_grad():  # seeded initialisation, independent of torch's global generator
        bound = 1 / hidden**0.5
        head.weight.copy_(torch.rand(head.weight.shape, generator=generator) * 2 * bound - bound)
        head.bias.zero_()
    trained = [*top.layers.parameters(), *top.norm.parameters()]
    for p in trained:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(
        [
            {"params": trained, "lr": learning_rate},
            {"params": list(head.parameters()), "lr": head_learning_rate},
        ],
        weight_decay=weight_decay,
    )
    classifier = TopBlocksClassifier(model, top, head, label_set, inputs.block)
    y = torch.tensor([label_set.index(lab) for lab in labels], device=model.device)
    top.train()
    with torch.enable_grad():
        for _ in range(epochs):
            order = torch.randperm(len(inputs), generator=generator).to(model.device)
            for start in range(0, len(inputs), batch_size):
                batch = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(
                    classifier._logits(inputs, batch), y[batch]
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    top.eval()
    return classifier
