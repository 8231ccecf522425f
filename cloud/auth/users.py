"""Users and logins: shared by the HTTP routes and the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.audit.log import append as audit_append
from cloud.auth.security import Passwords, new_token
from cloud.db.schema import api_tokens, users
from sync.roles import Role


class UserExists(ValueError):
    pass


def add_user(
    engine: Engine,
    username: str,
    role: Role,
    password: str,
    *,
    warehouse: str | None,
    now: datetime,
    actor: str,
    passwords: Passwords,
) -> None:
    if role is Role.GATEWAY:
        raise ValueError("gateways are registered with 'gateway add', not as users")
    pw_hash = passwords.hash(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
            raise UserExists(username)
        conn.execute(
            users.insert().values(
                username=username, role=role.value, password_hash=pw_hash, warehouse=warehouse, created_at=now
            )
        )
        audit_append(
            conn,
            now=now,
            actor=actor,
            action="user.add",
            target=f"user/{username}",
            detail={"role": role.value, "warehouse": warehouse},
        )


def login(
    engine: Engine, username: str, password: str, *, now: datetime, ttl_s: int, passwords: Passwords
) -> tuple[str, datetime, Role] | None:
    """A new token for good credentials, else ``None`` (not saying which part was wrong)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None or not passwords.verify(row.password_hash, password):
        return None
    token, digest = new_token("wus")
    expires = now + timedelta(seconds=ttl_s)
    with engine.begin() as conn:
        conn.execute(api_tokens.insert().values(token_hash=digest, username=username, expires_at=expires))
        conn.execute(api_tokens.delete().where(api_tokens.c.username == username, api_tokens.c.expires_at < now))
        audit_append(conn, now=now, actor=f"user:{username}", action="auth.login", target=f"user/{username}", detail={})
    return token, expires, Role(row.role)
