"""What the gateway API's routes depend on: the gateway's context, and the token that guards ``/v1/*``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edge.context import EdgeContext


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
