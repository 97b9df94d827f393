"""The chat-backend interface: what every model behind a prompt experiment implements.

A backend answers a list of chat messages (``{"role": ..., "content": ...}``) with text.
:class:`prompt_lab.local.LocalModel` runs SmolLM2 in-process; :class:`prompt_lab.openai_client.
OpenAIChatClient` calls any OpenAI-compatible API. Used by ``chapters/prompting/
prompt_experiments.ipynb`` through :mod:`prompt_lab.harness`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from book_core.checks import check_int

Message = dict[str, str]
ROLES = ("system", "user", "assistant")


class BackendError(RuntimeError):
    """A backend could not produce an answer (server error, malformed response, bad set-up)."""


def check_messages(messages: Sequence[Message]) -> list[Message]:
    """Validate a chat: a non-empty list of ``{"role", "content"}`` dicts ending with a user turn.

    Raises:
        TypeError: not a list of dicts (None, a bare string...), or a content that is not a str.
        ValueError: an empty chat, wrong keys, an unknown role, or a last turn not the user's.
    """
    shape = "a non-empty list of {'role': ..., 'content': ...} dicts"
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)):
        raise TypeError(
            f"messages must be {shape}, got {type(messages).__name__}; pass e.g. "
            "[{'role': 'user', 'content': 'Hello'}]"
        )
    if not messages:
        raise ValueError(f"messages must be {shape}, got an empty list")
    checked: list[Message] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise TypeError(
                f"messages[{i}] must be a dict with exactly the keys 'role', 'content', got "
                f"{type(message).__name__}"
            )
        if set(message) != {"role", "content"}:
            raise ValueError(
                f"messages[{i}] must be a dict with exactly the keys 'role', 'content'"
            )
        if message["role"] not in ROLES:
            raise ValueError(f"messages[{i}] has role {message['role']!r}; expected one of {ROLES}")
        if not isinstance(message["content"], str):
            raise TypeError(
                f"messages[{i}]: content must be a str, got {type(message['content']).__name__}"
            )
        checked.append({"role": message["role"], "content": message["content"]})
    if checked[-1]["role"] != "user":
        raise ValueError("the last message must come from the user (the model answers it)")
    return checked


class ChatBackend(ABC):
    """A model that answers chats. Subclasses implement :meth:`chat`; greedy decoding expected."""

    name: str = "backend"

    @abstractmethod
    def chat(self, messages: Sequence[Message], *, max_new_tokens: int = 16) -> str:
        """The model's answer to ``messages``, at most ``max_new_tokens`` tokens."""

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], *, max_new_tokens: int = 16
    ) -> list[str]:
        """Answers to several chats, in order (backends may batch; this default loops)."""
        check_int("max_new_tokens", max_new_tokens, fix="pass an int such as 16")
        return [self.chat(m, max_new_tokens=max_new_tokens) for m in conversations]
