"""Blocking PC/SC calls (pyscard's ``scard`` layer), each bounded in time so a worker thread never hangs.

Kept apart from the async reader so the asyncio side never touches pyscard directly, and so a gateway
without pyscard only loses its badge readers (``PcscUnavailable``), not its start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.badge.errors import PcscUnavailable, ReaderUnavailable

try:
    from smartcard import scard as _scard
except ImportError:  # pragma: no cover - depends on the install
    _scard = None

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
"""PC/SC part 3 GET DATA: the card's UID, answered by the reader for any contactless card."""


def pyscard_installed() -> bool:
    """Whether pyscard (the ``badge`` extra) can be used here."""
    return _scard is not None


def _sc() -> Any:
    if _scard is None:
        raise PcscUnavailable("pyscard is not installed (pip install 'wims[badge]')")
    return _scard


@dataclass(frozen=True, slots=True)
class SlotState:
    present: bool
    atr: bytes
    flags: int


class PcscSession:
    """One PC/SC context watching one reader. Not thread-safe: use from one worker thread."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted
        self.reader = ""
        self._ctx: Any = None
        self._state = 0

    def open(self) -> str:
        sc = _sc()
        rc, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        if rc != sc.SCARD_S_SUCCESS:
            raise ReaderUnavailable(self.wanted or "pcscd", f"pcscd: {sc.SCardGetErrorMessage(rc)}")
        self._ctx = ctx
        rc, names = sc.SCardListReaders(ctx, [])
        if rc != sc.SCARD_S_SUCCESS or not names:
            self.close()
            raise ReaderUnavailable(self.wanted or "pcscd", "no reader connected")
        match = [n for n in names if n == self.wanted] or [n for n in names if n.startswith(self.wanted)]
        if not match:
            self.close()
            raise ReaderUnavailable(self.wanted, f"not among {names}")
        self.reader = match[0]
        self._state = sc.SCARD_STATE_UNAWARE
        return self.reader

    def wait_change(self, timeout_ms: int) -> SlotState | None:
        """Block up to ``timeout_ms`` for a change; ``None`` on timeout. Raises ``ReaderUnavailable``."""
        sc = _sc()
        rc, states = sc.SCardGetStatusChange(self._ctx, timeout_ms, [(self.reader, self._state)])
        if rc == sc.SCARD_E_TIMEOUT:
            return None
        if rc == sc.SCARD_E_CANCELLED:
            return None
        if rc != sc.SCARD_S_SUCCESS:
            raise ReaderUnavailable(self.reader, sc.SCardGetErrorMessage(rc))
        _, flags, atr = states[0]
        if flags & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
            raise ReaderUnavailable(self.reader, "reader gone")
        self._state = flags & ~sc.SCARD_STATE_CHANGED
        return SlotState(bool(flags & sc.SCARD_STATE_PRESENT), bytes(atr), flags)

    def read_uid(self) -> bytes:
        """Connect to the card and ask its UID; raises ``ValueError`` with the reason if it will not say."""
        sc = _sc()
        rc, card, proto = sc.SCardConnect(
            self._ctx, self.reader, sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        )
        if rc != sc.SCARD_S_SUCCESS:
            raise ValueError(f"connect: {sc.SCardGetErrorMessage(rc)}")
        try:
            rc, resp = sc.SCardTransmit(card, proto, GET_UID)
            if rc != sc.SCARD_S_SUCCESS:
                raise ValueError(f"transmit: {sc.SCardGetErrorMessage(rc)}")
            if len(resp) < 3 or resp[-2:] != [0x90, 0x00]:
                raise ValueError(f"GET DATA refused: {bytes(resp).hex()}")
            return bytes(resp[:-2])
        finally:
            sc.SCardDisconnect(card, sc.SCARD_LEAVE_CARD)

    def cancel(self) -> None:
        """Wake a ``wait_change`` blocked in another thread (safe to call from any thread)."""
        if self._ctx is not None and _scard is not None:
            _scard.SCardCancel(self._ctx)

    def close(self) -> None:
        if self._ctx is not None and _scard is not None:
            _scard.SCardReleaseContext(self._ctx)
        self._ctx = None
