"""Who is calling: a bearer token resolved to a gateway or a user, and role checks as dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.engine import Connection, Engine

from cloud.auth.security import token_hash
from cloud.db.schema import api_tokens, gateways, users
from cloud.services import Services, Svc
from sync.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" or "gateway"
    name: str
    role: Role
    warehouse: str | None

    @property
    def audit_name(self) -> str:
        return f"{self.kind}:{self.name}"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _reader(engine: Engine) -> Connection:
    """A connection for the token lookup: on PostgreSQL in autocommit, so that the two reads cost no
    ``BEGIN`` and ``ROLLBACK`` round trips (every request pays this). SQLite keeps its own transaction
    handling (its ``begin`` hook issues ``BEGIN IMMEDIATE``, which autocommit would never end)."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def current_principal(request: Request, svc: Svc) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token")
    principal, problem = resolve_token(svc, token.strip())
    if principal is None:
        raise _unauthorized(problem)
    return principal


def resolve_token(svc: Services, token: str) -> tuple[Principal | None, str]:
    """The gateway or user a bearer token stands for, or ``None`` and why (also used by the web session
    cookie, which carries the same kind of token)."""
    digest = token_hash(token)
    with _reader(svc.engine) as conn:
        gw = conn.execute(
            sa.select(gateways.c.gateway_id, gateways.c.warehouse).where(gateways.c.token_hash == digest)
        ).first()
        if gw is not None:
            return Principal("gateway", gw.gateway_id, Role.GATEWAY, gw.warehouse), ""
        user = conn.execute(
            sa.select(users.c.username, users.c.role, users.c.warehouse, api_tokens.c.expires_at)
            .join(api_tokens, api_tokens.c.username == users.c.username)
            .where(api_tokens.c.token_hash == digest)
        ).first()
    if user is None:
        return None, "unknown token"
    expires = user.expires_at
    now = svc.clock.now()
    if expires.tzinfo is None:  # SQLite hands back naive datetimes
        now = now.replace(tzinfo=None)
    if expires <= now:
        return None, "token expired"
    return Principal("user", user.username, Role(user.role), user.warehouse), ""


Caller = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for anyone else who is authenticated)."""
    allowed = frozenset(roles)

    def check(principal: Caller) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return principal

    return check
