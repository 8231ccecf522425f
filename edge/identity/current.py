"""The operator an API request acts for, as a context variable: set once per request from its session
(``edge.api.deps.get_caller``), read where ops are recorded deep inside the floor's flows
(``edge.floor.flow.FloorFlow.record``), so that an op made through the API carries the session's
operator as its actor without every layer passing it down.

Each request runs in a task of its own, and a task starts from a copy of the context, so the value
never leaks from one request to the next; outside a request (device runners, rules) it is unset.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Acting:
    operator_id: str
    roles: frozenset[str]


ACTING: ContextVar[Acting | None] = ContextVar("wims_acting_operator", default=None)


def acting() -> Acting | None:
    """The operator of the current request's session, if it has one."""
    return ACTING.get()


def actor_or(actor: str) -> str:
    """The session's operator when the current request has one, else ``actor``."""
    current = ACTING.get()
    return current.operator_id if current is not None else actor
