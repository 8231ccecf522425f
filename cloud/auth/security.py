"""Secrets: argon2 for passwords (slow on purpose), SHA-256 for random bearer tokens (already 256-bit).

Tokens are shown once and only their hash is stored, so a copy of the database does not let anyone
push ops or log in.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def set_password_cost(*, time_cost: int, memory_kib: int) -> None:
    """Tune argon2 for new hashes (old hashes carry their own parameters and still verify).

    The defaults (argon2-cffi's, about 50 ms per hash) suit production; test suites that create many
    users turn it down.
    """
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    GATEWAY = "gateway"


USER_ROLES = tuple(r for r in Role if r is not Role.GATEWAY)
COST_ROLES = frozenset({Role.ADMIN, Role.PLANNER})
"""Roles that may see cost prices and supplier data."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh bearer token and the hash to store."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
