"""Operator sessions: log in with a PIN or the badge on a station's reader, see who you are, log out.

The token answered here goes in the ``X-WIMS-Session`` header of later calls, beside the API token
(``Authorization: Bearer``) where the gateway has one. Through a session, every op the caller makes
is recorded under the session's operator, and their roles decide what they may do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.api.deps import CallerDep, Ctx
from edge.identity.sessions import SESSION_HEADER, OperatorSession
from sync.codes import Code
from sync.http.openapi import error_responses

router = APIRouter(tags=["sessions"])


class Login(BaseModel):
    """``operator`` and ``pin`` for a PIN login; or ``badge: true`` and ``station`` for the operator
    whose badge is on that station's reader."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operator: Code | None = Field(default=None, description="The operator's id (PIN login).")
    pin: str | None = Field(default=None, pattern=r"^\d{4,32}$", description="4 to 32 digits (PIN login).")
    badge: bool = Field(default=False, description="Log in as the operator badged in at `station`.")
    station: Code = Field(default="handheld", description="Where: the handheld's or the station's code.")
    device_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_way(self) -> Login:
        if self.badge == (self.operator is not None or self.pin is not None):
            raise ValueError("give either operator and pin, or badge = true with the station")
        if not self.badge and (self.operator is None or self.pin is None):
            raise ValueError("a PIN login needs both operator and pin")
        return self


class SessionOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    operator_id: str
    name: str
    roles: list[str]
    zones: list[str]
    method: Literal["pin", "badge"]
    station: str
    started_at: datetime
    expires_at: datetime


class SessionOpened(SessionOut):
    token: str = Field(description=f"Send as `{SESSION_HEADER}: <token>` until `expires_at`.")
    header: str = SESSION_HEADER


def _out(ctx: Ctx, s: OperatorSession) -> dict[str, object]:
    op = ctx.master.operators.get(s.operator_id)
    return {
        "operator_id": s.operator_id,
        "name": op.name if op else "",
        "roles": [str(r) for r in op.roles] if op else [],
        "zones": list(op.zones) if op else [],
        "method": s.method,
        "station": s.station,
        "started_at": s.started_at,
        "expires_at": s.expires_at,
    }


@router.post("/sessions", status_code=201, response_model=SessionOpened, responses=error_responses(401, 429))
async def login(req: Login, ctx: Ctx) -> SessionOpened:
    """Open a session: 401 for an unknown operator or a wrong PIN (one answer for both), 429 while an
    operator's PIN login is locked after five wrong PINs."""
    sessions = ctx.operator_sessions
    if req.badge:
        token, session = await sessions.login_badge(req.station, device_id=req.device_id)
    else:
        assert req.operator is not None and req.pin is not None
        token, session = await sessions.login_pin(req.operator, req.pin, station=req.station, device_id=req.device_id)
    return SessionOpened(token=token, **_out(ctx, session))


@router.get("/sessions/current", response_model=SessionOut, responses=error_responses(401))
async def current(ctx: Ctx, caller: CallerDep) -> SessionOut:
    """Who the session token belongs to (a handheld's check after a restart)."""
    if caller.session is None:
        raise HTTPException(401, "no session: send X-WIMS-Session: <token>")
    return SessionOut(**_out(ctx, caller.session))


@router.delete("/sessions/current", status_code=204, responses=error_responses(401))
async def logout(ctx: Ctx, caller: CallerDep) -> Response:
    """End the session of the token sent (a ``session`` op, ``logout``)."""
    if caller.session is None:
        raise HTTPException(401, "no session to end: send X-WIMS-Session: <token>")
    token = caller.token
    assert token is not None
    await ctx.operator_sessions.logout(token)
    return Response(status_code=204)
