"""Prompt templates: the elements of a prompt (role, instruction, context, examples, format).

A :class:`PromptTemplate` turns one ticket into the list of chat messages a model receives. The
ticket is untrusted customer text, so it only ever goes into the user message at the ``{ticket}``
slot, never into the system message, and :func:`fence` keeps it from closing the ``<ticket>``
tags a template puts around it. Used by ``chapters/prompting/prompt_experiments.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from book_core.checks import check_str
from prompt_lab.backends import Message

SLOT = "{ticket}"


def fence(text: str) -> str:
    """Untrusted text made safe to place between ``<ticket>`` and ``</ticket>`` tags.

    Angle brackets are replaced, so the text cannot close the fence or open a fake one.

    Raises:
        TypeError: ``text`` is not a str.
    """
    check_str("text", text, example="a ticket's text")
    return text.replace("<", "(").replace(">", ")")


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt with one ``{ticket}`` slot in its user message.

    ``examples`` are (ticket text, answer) pairs shown as earlier user/assistant turns (few-shot);
    they go through the same user template, so the model sees exactly the format it must follow.
    """

    name: str
    user: str
    system: str | None = None
    examples: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_str("name", self.name, example="'few-shot'")
        check_str("user", self.user, example=f"'Ticket: {SLOT}'")
        if self.system is not None:
            check_str("system", self.system, example="'You route support tickets.'")
        if self.user.count(SLOT) != 1:
            raise ValueError(
                f"template {self.name!r}: the user message must contain {SLOT} exactly once, "
                f"found it {self.user.count(SLOT)} times"
            )
        if self.system is not None and SLOT in self.system:
            raise ValueError(
                f"template {self.name!r}: keep {SLOT} out of the system message; untrusted "
                "text belongs in the user message"
            )
        for example in self.examples:
            if len(example) != 2 or not all(isinstance(s, str) and s.strip() for s in example):
                raise ValueError(
                    f"template {self.name!r}: each example must be a (ticket, answer) pair of "
                    f"non-empty strings, got {example!r}"
                )

    def user_message(self, ticket: str) -> str:
        """The user message for one ticket (the ticket is fenced, never formatted)."""
        check_str("ticket", ticket, example="a ticket's text")
        if not ticket.strip():
            raise ValueError(f"template {self.name!r}: the ticket text is empty")
        return self.user.replace(SLOT, fence(ticket.strip()))

    def render(self, ticket: str) -> list[Message]:
        """The chat messages for one ticket: system, few-shot turns, then the ticket."""
        messages: list[Message] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        for example_ticket, answer in self.examples:
            messages.append({"role": "user", "content": self.user_message(example_ticket)})
            messages.append({"role": "assistant", "content": answer})
        messages.append({"role": "user", "content": self.user_message(ticket)})
        return messages

    def with_examples(self, examples: Sequence[tuple[str, str]], name: str) -> PromptTemplate:
        """The same prompt with few-shot examples added (a new template; this one is unchanged)."""
        return PromptTemplate(name, self.user, self.system, tuple(map(tuple, examples)))
