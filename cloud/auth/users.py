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
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is not None:
            where = f", warehouse {row.warehouse}" if row.warehouse else ""
            raise UserExists(f"user {username!r} already exists (role {row.role}{where})")
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
    if row is None or row.disabled_at is not None or not passwords.verify(row.password_hash, password):
        return None
    token, digest = new_token("wus")
    expires = now + timedelta(seconds=ttl_s)
    with engine.begin() as conn:
        conn.execute(api_tokens.insert().values(token_hash=digest, username=username, expires_at=expires))
        conn.execute(api_tokens.delete().where(api_tokens.c.username == username, api_tokens.c.expires_at < now))
        audit_append(conn, now=now, actor=f"user:{username}", action="auth.login", target=f"user/{username}", detail={})
    return token, expires, Role(row.role)


class UnknownUser(LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}")


def list_users(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.username)).all()
    return [
        {
            "username": r.username,
            "role": r.role,
            "warehouse": r.warehouse,
            "created_at": r.created_at,
            "disabled_at": r.disabled_at,
        }
        for r in rows
    ]


def _change(
    engine: Engine,
    username: str,
    *,
    now: datetime,
    actor: str,
    action: str,
    values: dict[str, object],
    detail: dict[str, object],
    revoke_tokens: bool,
) -> None:
    with engine.begin() as conn:
        found = conn.execute(sa.select(users.c.username).where(users.c.username == username)).first()
        if found is None:
            raise UnknownUser(username)
        conn.execute(users.update().where(users.c.username == username).values(**values))
        if revoke_tokens:  # every login of the user ends now
            conn.execute(api_tokens.delete().where(api_tokens.c.username == username))
        audit_append(conn, now=now, actor=actor, action=action, target=f"user/{username}", detail=detail)


def set_role(
    engine: Engine, username: str, role: Role, *, warehouse: str | None, keep_warehouse: bool, now: datetime, actor: str
) -> None:
    """Change a user's role (and home warehouse); it applies to the user's current tokens at once."""
    if role is Role.GATEWAY:
        raise ValueError("gateways are registered with 'gateway add', not as users")
    values: dict[str, object] = {"role": role.value}
    if not keep_warehouse:
        values["warehouse"] = warehouse
    _change(
        engine,
        username,
        now=now,
        actor=actor,
        action="user.set_role",
        values=values,
        detail={"role": role.value, **({} if keep_warehouse else {"warehouse": warehouse})},
        revoke_tokens=False,
    )


def reset_password(
    engine: Engine, username: str, password: str, *, now: datetime, actor: str, passwords: Passwords
) -> None:
    """A new password; the user's tokens are revoked."""
    _change(
        engine,
        username,
        now=now,
        actor=actor,
        action="user.reset_password",
        values={"password_hash": passwords.hash(password)},
        detail={},
        revoke_tokens=True,
    )


def set_disabled(engine: Engine, username: str, disabled: bool, *, now: datetime, actor: str) -> None:
    """Disable (no login, tokens revoked) or enable a user again."""
    _change(
        engine,
        username,
        now=now,
        actor=actor,
        action="user.disable" if disabled else "user.enable",
        values={"disabled_at": now if disabled else None},
        detail={},
        revoke_tokens=disabled,
    )
