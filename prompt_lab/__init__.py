"""Prompt engineering, measured: the code of the book's prompt-engineering chapter.

Used by ``chapters/prompting/prompt_experiments.ipynb`` and ``chapters/prompting/ladder.ipynb``,
and by the roadmap's ``chapters/roadmap/cultural_advantage.ipynb``. Small single-purpose modules:

- :mod:`prompt_lab.data`: the support tickets the chapter ships (dev and held-out splits, in
  English and in Chinese), labelled by the guideline kept next to them.
- :mod:`prompt_lab.prompts`: the chapter's prompts that several notebooks share.
- :mod:`prompt_lab.templates`: prompt templates (role, instruction, fenced ticket, examples).
- :mod:`prompt_lab.parsing`: strict and lenient parsing of a model's answer into a queue label.
- :mod:`prompt_lab.backends`: the chat-backend interface every model implements.
- :mod:`prompt_lab.local`: SmolLM2-135M-Instruct, run locally with transformers (greedy, offline).
- :mod:`prompt_lab.openai_client`: any OpenAI-compatible chat-completions API, configured by
  environment variables.
- :mod:`prompt_lab.server`: serves a backend over the chat-completions protocol on 127.0.0.1.
- :mod:`prompt_lab.harness`: run prompt variants over labelled items and score them, keeping every
  raw output; label scoring by log-probability as the constrained alternative to generation.
- :mod:`prompt_lab.retrieval`: retrieval-augmented few-shot, the second rung of the ladder.
- :mod:`prompt_lab.probe`: a linear probe (logistic regression) on the frozen model's embeddings,
  the third rung, with cross-validation and the samples of a learning curve.
- :mod:`prompt_lab.finetune`: fine-tuning the model's top blocks and a classifier head, the
  fourth rung.

Heavy dependencies (torch, transformers) are imported only when a local model is loaded.
"""

from prompt_lab.backends import BackendError, ChatBackend
from prompt_lab.data import QUEUES, Ticket, load_tickets
from prompt_lab.harness import EvalResult, evaluate, evaluate_logprob, summarize
from prompt_lab.parsing import parse_final_label, parse_label, parse_lenient
from prompt_lab.templates import PromptTemplate

__all__ = [
    "QUEUES",
    "BackendError",
    "ChatBackend",
    "EvalResult",
    "PromptTemplate",
    "Ticket",
    "evaluate",
    "evaluate_logprob",
    "load_tickets",
    "parse_final_label",
    "parse_label",
    "parse_lenient",
    "summarize",
]
