"""What the gateway API's routes depend on: the gateway's context, and the token that guards ``/v1/*``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from edge.context import EdgeContext


async def get_context(request: Request) -> EdgeContext:
    """The running gateway's context, kept on ``app.state`` by ``create_app``."""
    ctx: EdgeContext = request.app.state.ctx
    return ctx


Ctx = Annotated[EdgeContext, Depends(get_context)]


def token_check(expected: str | None) -> Callable[[str | None], Awaitable[None]]:
    """The dependency that guards ``/v1/*``: with a token configured, callers must send it as
    ``Authorization: Bearer <token>`` (compared in constant time); without one, the API is open,
    which the config allows only on a loopback address."""

    async def check(authorization: Annotated[str | None, Header()] = None) -> None:
        if expected is None:
            return
        scheme, _, sent = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
            raise HTTPException(
                401,
                "this gateway's API needs its token: send Authorization: Bearer <token> (see [api] token_file)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check
