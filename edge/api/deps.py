"""What the gateway API's routes depend on: the gateway's context, and the token that guards ``/v1/*``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from edge.context import EdgeContext
from edge.identity.current import ACTING, Acting
from edge.identity.sessions import SESSION_HEADER, OperatorSession
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
    session: OperatorSession | None = None
    token: str | None = None

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


session_header = APIKeyHeader(
    name=SESSION_HEADER,
    auto_error=False,
    scheme_name="session",
    description="An operator's session token from POST /v1/sessions (PIN or badge): the caller acts as that"
    " operator. Sent beside the API token, not instead of it.",
)

LOGIN_PATH = "/v1/sessions"


async def get_caller(request: Request, token: Annotated[str | None, Security(session_header)] = None) -> Caller:
    """The caller of a ``/v1`` route (see ``Caller``), from the ``X-WIMS-Session`` header.

    A token that is sent must be live (401 otherwise, in either mode: a handheld whose session ran out
    must log in again, not carry on under no name). Without one, ``[api] operator_sessions =
    "required"`` refuses every call but reads and the login itself (401).
    """
    ctx: EdgeContext = request.app.state.ctx
    if token:
        session = ctx.operator_sessions.resolve(token.strip())
        if session is None:
            raise HTTPException(
                401,
                "the operator session is unknown, ended or expired: log in again (POST /v1/sessions)",
                headers={"WWW-Authenticate": SESSION_HEADER},
            )
        if session.method == "badge":  # work on the handheld counts as activity at the badge's station
            ctx.sessions.touch(session.station, ctx.clock.monotonic())
        roles = _roles_of(ctx.master, session.operator_id)
        ACTING.set(Acting(session.operator_id, roles))  # for ops recorded deeper down (edge.identity.current)
        return Caller(session.operator_id, roles, ctx.master, session, token.strip())
    if (
        ctx.config.api.operator_sessions == "required"
        and request.method not in ("GET", "HEAD")
        and request.url.path != LOGIN_PATH
    ):
        raise HTTPException(
            401,
            "this gateway acts only for a logged-in operator: log in (POST /v1/sessions) and send"
            " X-WIMS-Session: <token>",
            headers={"WWW-Authenticate": SESSION_HEADER},
        )
    ACTING.set(None)
    return Caller(None, frozenset(), ctx.master)


CallerDep = Annotated[Caller, Depends(get_caller)]
