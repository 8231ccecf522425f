"""Secrets: argon2 for passwords (slow on purpose), SHA-256 for random bearer tokens (already 256-bit).

Tokens are shown once and only their hash is stored, so a copy of the database does not let anyone
push ops or log in. The argon2 cost comes from the settings (``WIMS_PASSWORD_TIME_COST``,
``WIMS_PASSWORD_MEMORY_KIB``) and is carried by a ``Passwords`` object handed to whoever hashes, never
by a module global: old hashes carry their own parameters and still verify after a change.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and verifies passwords at a given argon2 cost."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh bearer token and the hash to store."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
