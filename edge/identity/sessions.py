"""Operator sessions of the local API: a PIN login on a handheld, or the badge tapped at a station, gives a
token with an expiry, and whoever sends the token acts as that operator.

- PIN: ``login_pin`` checks the PIN against the operator's ``pin_hash`` (argon2, in the site's master
  data; ``wims edge operator pin-hash`` makes one) on a worker thread, one check at a time (argon2 is
  slow and memory-hungry on purpose: a gateway must not run many at once). Five wrong PINs for an
  operator lock their PIN login for 15 minutes of the gateway's clock; every refusal is recorded (an
  ``exception`` op, ``pin_refused``) through the flood gate, so a brute-force attempt is audited without
  flooding the journal. An unknown operator costs the same check as a known one.
- Badge: ``login_badge`` gives a token to the operator whose badge is on the station's reader
  (``edge.identity.stations``); the token is good only while that badge session lasts.

Tokens are 256-bit random strings; the database keeps only their SHA-256 (table ``operator_sessions``),
so sessions survive a gateway restart and a copy of the database gives no one a session. Expiry and
every check use the injected clock.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from edge.identity.stations import StationSessions
from edge.store.journal import Journal
from sync.canonical import iso_utc
from sync.clock import Clock
from sync.ops import ExceptionPayload, OpDraft, SessionPayload

SESSION_HEADER = "X-WIMS-Session"
"""The request header that carries a session token (beside ``Authorization``, which carries the API token)."""

Method = Literal["pin", "badge"]

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
"""argon2id at OWASP's minimum for passwords (19 MiB, 2 passes): a PIN check costs a gateway about 20 MiB
for a few tens of milliseconds. The parameters travel inside each hash, so a site may use stronger
ones; ``verify`` reads them from the hash."""


@functools.cache
def _dummy_hash() -> str:
    """Checked for an unknown operator, so that a wrong code takes as long as a wrong PIN (made at the
    first login, not at start: a gateway that never sees a PIN never pays for it)."""
    return PIN_HASHER.hash("wims-no-such-operator")


def hash_pin(pin: str) -> str:
    """The argon2 hash of a PIN, for an operator's ``pin_hash``."""
    check_pin_shape(pin)
    return PIN_HASHER.hash(pin)


def check_pin_shape(pin: str) -> None:
    if not (4 <= len(pin) <= 32) or not pin.isdigit():
        raise ValueError("a PIN is 4 to 32 digits")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OperatorSession:
    operator_id: str
    method: Method
    station: str
    started_at: datetime
    expires_at: datetime


class LoginRefused(Exception):
    """A login that did not open a session; ``status`` and ``code`` for the API's answer."""

    def __init__(self, message: str, *, status: int = 401, code: str = "login_failed") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class OperatorSessions:
    """Open, look up and end operator sessions (see the module's doc)."""

    def __init__(
        self,
        journal: Journal,
        clock: Clock,
        stations: StationSessions,
        record: Callable[[OpDraft], Awaitable[Any]],
        *,
        ttl: timedelta = timedelta(hours=10),
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.stations = stations
        self.ttl = ttl
        self._record = record
        self._checks = asyncio.Semaphore(1)
        self._failures: dict[str, tuple[int, float]] = {}  # operator -> (wrong PINs in a row, monotonic of the first)

    # ---- logging in and out -----------------------------------------------------------------

    async def login_pin(
        self, operator_id: str, pin: str, *, station: str, device_id: str | None = None
    ) -> tuple[str, OperatorSession]:
        """A new session for ``operator_id`` if ``pin`` is theirs; ``LoginRefused`` otherwise (401, or
        429 while their PIN login is locked after too many wrong PINs)."""
        now_mono = self.clock.monotonic()
        count, first = self._failures.get(operator_id, (0, now_mono))
        if now_mono - first >= LOCKOUT.total_seconds():
            count, first = 0, now_mono
        if count >= MAX_FAILURES:
            wait = int(LOCKOUT.total_seconds() - (now_mono - first)) // 60 + 1
            await self._refused(operator_id, station, device_id)
            raise LoginRefused(
                f"too many wrong PINs for {operator_id}: PIN login is locked for {wait} more minute(s)"
                " (a badge still works)",
                status=429,
                code="login_locked",
            )
        operator = self.journal.master.operators.get(operator_id)
        stored = operator.pin_hash if operator is not None else None
        ok = await self._verify(stored or _dummy_hash(), pin) and stored is not None
        if not ok:
            self._failures[operator_id] = (count + 1, first)
            await self._refused(operator_id, station, device_id)
            raise LoginRefused("unknown operator or wrong PIN")
        self._failures.pop(operator_id, None)
        return await self._open(operator_id, "pin", station, device_id)

    async def login_badge(self, station: str, *, device_id: str | None = None) -> tuple[str, OperatorSession]:
        """A session for the operator whose badge is on ``station``'s reader; good while the badge stays."""
        badge = self.stations.get(station)
        if badge is None:
            raise LoginRefused(f"no one is logged in by badge at station {station}: tap a badge first")
        self.stations.touch(station, self.clock.monotonic())
        return await self._open(badge.operator_id, "badge", station, device_id, record=False)

    async def logout(self, token: str, *, device_id: str | None = None) -> OperatorSession | None:
        """End the session of ``token``; ``None`` if it was not a live session."""
        session = self.resolve(token)
        if session is None:
            return None
        now = self.clock.now()
        await self.journal.write(_end, token_hash(token), iso_utc(now))
        await self._record(
            OpDraft(
                payload=SessionPayload(event="logout", operator_id=session.operator_id, station=session.station),
                actor=session.operator_id,
                device_id=device_id,
                occurred_at=now,
            )
        )
        return session

    # ---- looking up -------------------------------------------------------------------------

    def resolve(self, token: str) -> OperatorSession | None:
        """The live session of ``token``: known, not ended, not expired on the clock, and for a badge
        session, the badge still on the station."""
        row = self.journal.read(_find, token_hash(token))
        if row is None:
            return None
        operator_id, method, station, started, expires, ended = row
        if ended is not None:
            return None
        session = OperatorSession(
            operator_id, method, station, datetime.fromisoformat(started), datetime.fromisoformat(expires)
        )
        if self.clock.now() >= session.expires_at:
            return None
        if method == "badge" and self.stations.actor_for(station) != operator_id:
            return None  # the badge left the reader (or timed out): its token goes with it
        if operator_id not in self.journal.master.operators:
            return None  # removed from master data since
        return session

    # ---- inside -----------------------------------------------------------------------------

    async def _open(
        self, operator_id: str, method: Method, station: str, device_id: str | None, *, record: bool = True
    ) -> tuple[str, OperatorSession]:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        session = OperatorSession(operator_id, method, station, now, now + self.ttl)
        await self.journal.write(
            _insert, token_hash(token), operator_id, method, station, iso_utc(now), iso_utc(session.expires_at)
        )
        if record:
            await self._record(
                OpDraft(
                    payload=SessionPayload(event="login", operator_id=operator_id, station=station),
                    actor=operator_id,
                    device_id=device_id,
                    occurred_at=now,
                )
            )
        return token, session

    async def _verify(self, stored: str, pin: str) -> bool:
        def check() -> bool:
            try:
                return PIN_HASHER.verify(stored, pin)
            except (VerificationError, InvalidHashError):
                return False

        async with self._checks:
            return await asyncio.to_thread(check)

    async def _refused(self, operator_id: str, station: str, device_id: str | None) -> None:
        """Record a refused PIN login as an ``exception`` op (``pin_refused``) through the flood gate: a
        stream of guesses becomes one op with a count, not one op per guess."""
        await self._record(
            OpDraft(
                payload=ExceptionPayload(
                    code="pin_refused", detail=f"PIN login refused at {station}", ref=f"operator:{operator_id}"[:200]
                ),
                actor=f"device:{device_id}" if device_id else "api",
                device_id=device_id,
                occurred_at=self.clock.now(),
            )
        )


def _insert(
    conn: sqlite3.Connection, th: str, operator_id: str, method: str, station: str, started: str, expires: str
) -> None:
    conn.execute(
        "INSERT INTO operator_sessions(token_hash, operator_id, method, station, started_at, expires_at)"
        " VALUES (?,?,?,?,?,?)",
        (th, operator_id, method, station, started, expires),
    )


def _end(conn: sqlite3.Connection, th: str, at: str) -> None:
    conn.execute("UPDATE operator_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL", (at, th))


def _find(conn: sqlite3.Connection, th: str) -> tuple[str, Method, str, str, str, str | None] | None:
    row = conn.execute(
        "SELECT operator_id, method, station, started_at, expires_at, ended_at FROM operator_sessions"
        " WHERE token_hash = ?",
        (th,),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4], row[5])
