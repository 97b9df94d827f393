"""The prompt-engineering chapter's prompts that more than one notebook uses.

``chapters/prompting/prompt_experiments.ipynb`` builds the prompt of each step of the five-step
method, and arrives at :data:`FORMAT_PROMPT` (step 3: role, context and an output format) and
its few-shot version (step 5). ``chapters/prompting/ladder.ipynb`` starts its ladder from that
few-shot prompt, and ``chapters/roadmap/cultural_advantage.ipynb`` runs it on Chinese tickets.
"""

from __future__ import annotations

from collections.abc import Sequence

from book_core.checks import check_labels, check_not_none
from prompt_lab.data import QUEUES, Ticket
from prompt_lab.templates import PromptTemplate

ROLE = "You are the triage assistant of an online shop's customer support team."
QUEUE_LIST = "billing, shipping, technical or account"
QUEUE_GUIDE = (
    "billing: payments, charges, refunds, invoices, prices, plans\n"
    "shipping: deliveries, parcels, tracking, couriers, delivery addresses\n"
    "technical: errors, bugs or crashes in the app, website or API\n"
    "account: login, passwords, two-factor codes, profile details, creating or deleting an account"
)
FORMAT_PROMPT = PromptTemplate(
    "3 + format",
    f"Queues:\n{QUEUE_GUIDE}\n\n<ticket>\n{{ticket}}\n</ticket>\n\n"
    "Reply with the queue name only: billing, shipping, technical or account.",
    system=ROLE + " Reply with one word.",
)


def first_of_each_queue(tickets: Sequence[Ticket], queues: Sequence[str] = QUEUES) -> list[Ticket]:
    """The first ticket of each queue, in queue order: the fixed few-shot examples of step 5."""
    check_not_none("tickets", tickets, "a list of tickets, e.g. load_tickets('dev')")
    queues = check_labels("queues", queues, example="prompt_lab.QUEUES")
    first: dict[str, Ticket] = {}
    for ticket in tickets:
        first.setdefault(ticket.label, ticket)
    missing = [q for q in queues if q not in first]
    if missing:
        raise ValueError(f"queues {missing} have no ticket among tickets to use as an example")
    return [first[q] for q in queues]
