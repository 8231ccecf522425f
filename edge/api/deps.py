"""What the gateway API's routes depend on: the gateway's context, and the token that guards ``/v1/*``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edge.context import EdgeContext
from edge.store.masterdata import MasterData


async def get_context(request: Request) -> EdgeContext:
    """The running gateway's context, kept on ``app.state`` by ``create_app``."""
    ctx: EdgeContext = request.app.state.ctx
    return ctx


Ctx = Annotated[EdgeContext, Depends(get_context)]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The gateway's API token ([api] token_file); not needed on a loopback-only gateway without one.",
)


def token_check(expected: str | None) -> Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]:
    """The dependency that guards ``/v1/*``: with a token configured, callers must send it as
    ``Authorization: Bearer <token>`` (compared in constant time); without one, the API is open,
    which the config allows only on a loopback address."""

    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None) -> None:
        if expected is None:
            return
        sent = credentials.credentials.strip() if credentials is not None else ""
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(
                401,
                "this gateway's API needs its token: send Authorization: Bearer <token> (see [api] token_file)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the operator of a session token, or (without one) whoever the body names.

    Routes take the ``actor`` of their ops from ``actor()``: the session's operator always wins over a
    name in the body, so an op made through the API is never recorded under someone else's name.
    """

    operator_id: str | None
    roles: frozenset[str]
    master: MasterData

    def actor(self, body_actor: str | None) -> str:
        """The actor of an op: the session's operator; without a session, the body's ``actor`` (or
        ``api`` when it names none)."""
        return self.operator_id or body_actor or "api"

    def roles_of(self, who: str) -> frozenset[str]:
        """The roles of ``who``: the session's, or (another operator, no session) from master data."""
        return self.roles if who == self.operator_id else _roles_of(self.master, who)

    def require(self, roles: Iterable[str], what: str, body_actor: str | None = None) -> str:
        """The acting operator, if they hold one of ``roles``; 403 otherwise. Without a session the
        operator is the body's ``actor``, looked up in master data (as the API has always checked)."""
        allowed = {str(r) for r in roles}
        who = self.operator_id or body_actor
        if who is None:
            raise HTTPException(
                403, f"to {what} you need a session of an operator with role {' or '.join(sorted(allowed))}"
            )
        held = self.roles if self.operator_id else _roles_of(self.master, who)
        if not held & allowed:
            raise HTTPException(403, f"operator {who} may not {what}: that needs role {' or '.join(sorted(allowed))}")
        return who


def _roles_of(master: MasterData, operator_id: str) -> frozenset[str]:
    op = master.operators.get(operator_id)
    return frozenset(str(r) for r in op.roles) if op is not None else frozenset()


async def get_caller(request: Request) -> Caller:
    """The caller of a ``/v1`` route (see ``Caller``)."""
    ctx: EdgeContext = request.app.state.ctx
    return Caller(None, frozenset(), ctx.master)


CallerDep = Annotated[Caller, Depends(get_caller)]
