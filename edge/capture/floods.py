"""Floods of identical exceptions from one device collapse into one op with a count.

A faulty scanner can send hundreds of bad reads a second; one exception op each would grow the journal
(and the cloud's ledger) without bound while telling nobody anything new. Per device and exception code,
the first exception of a window (``window_s``, 60 s by default) is journaled as it is; the identical ones
that follow within the window are only counted, and when the window ends one more op with the same code
says how many there were (``ExceptionPayload.count``) and shows the last of them. So a flood costs at most
two ops per device and code a window, and ``sum(count or 1)`` over the exception ops is the number of
exceptions, exactly. ``wims_edge_exceptions_collapsed_total`` counts what was folded, by device and code.

The same windows keep log lines in bounds: ``should_log`` says yes to the first of a window, and the
summary op's log line carries the count.

Memory is bounded by the number of (device, code) pairs with an open window (``max_windows``; past it the
oldest window is closed early). The windows are closed by ``run`` (a gateway part) and, at shutdown, by
``close`` before the journal closes, so no count is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from prometheus_client import CollectorRegistry, Counter

from sync.clock import Clock
from sync.ops import ExceptionPayload, Op, OpDraft

if TYPE_CHECKING:
    from edge.store.journal import Journal

log = structlog.stdlib.get_logger("wims.edge.floods")

Key = tuple[str, str]
"""(device, exception code)"""


@dataclass
class _Window:
    started: float
    folded: int = 0
    last: OpDraft | None = None
    logs_folded: int = 0


class FloodGate:
    def __init__(
        self,
        journal: Journal,
        clock: Clock,
        registry: CollectorRegistry,
        *,
        window_s: float = 60.0,
        max_windows: int = 10_000,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.window_s = window_s
        self.max_windows = max_windows
        self._windows: dict[Key, _Window] = {}
        self._log_windows: dict[Key, _Window] = {}
        self.collapsed = Counter(
            "wims_edge_exceptions_collapsed",
            "Identical exceptions from a device folded into a count instead of an op each",
            ["device", "code"],
            registry=registry,
        )

    @property
    def open_windows(self) -> int:
        return len(self._windows) + len(self._log_windows)

    async def record(self, draft: OpDraft) -> Op | None:
        """Journal an exception op, or fold it into its window's count (``None``). Other ops pass through."""
        payload = draft.payload
        if not isinstance(payload, ExceptionPayload) or payload.count is not None:
            return await self.journal.append(draft)
        key = (draft.device_id or draft.actor, payload.code)
        now = self.clock.monotonic()
        window = self._windows.get(key)
        if window is not None and now - window.started < self.window_s:
            window.folded += 1
            window.last = draft
            self.collapsed.labels(*key).inc()
            return None
        if window is not None:
            await self._close(key, window)
        if len(self._windows) >= self.max_windows:
            oldest = next(iter(self._windows))
            await self._close(oldest, self._windows[oldest])
        self._windows[key] = _Window(started=now)
        return await self.journal.append(draft)

    def should_log(self, device: str, code: str) -> bool:
        """Whether to log an event that is not journaled (line noise): the first of its window only."""
        key = (device, code)
        now = self.clock.monotonic()
        window = self._log_windows.get(key)
        if window is not None and now - window.started < self.window_s:
            window.logs_folded += 1
            return False
        if window is not None and window.logs_folded:
            log.info("floods.repeated", device=device, code=code, count=window.logs_folded, window_s=self.window_s)
        if len(self._log_windows) >= self.max_windows:
            self._log_windows.pop(next(iter(self._log_windows)))
        self._log_windows[key] = _Window(started=now)
        return True

    async def flush_due(self) -> int:
        """Close every window that has ended; returns the summary ops journaled."""
        now = self.clock.monotonic()
        written = 0
        for key, window in list(self._windows.items()):
            if now - window.started >= self.window_s:
                written += await self._close(key, window)
        for key, window in list(self._log_windows.items()):
            if now - window.started >= self.window_s:
                if window.logs_folded:
                    log.info("floods.repeated", device=key[0], code=key[1], count=window.logs_folded)
                self._log_windows.pop(key, None)
        return written

    async def close(self) -> int:
        """Close every window now (the gateway is stopping): no count is lost."""
        written = 0
        for key, window in list(self._windows.items()):
            written += await self._close(key, window)
        self._log_windows.clear()
        return written

    async def run(self) -> None:
        """Close ended windows for ever (a gateway part)."""
        while True:
            await self.clock.sleep(max(0.5, self.window_s / 4))
            await self.flush_due()

    async def _close(self, key: Key, window: _Window) -> int:
        if self._windows.get(key) is window:
            del self._windows[key]
        last = window.last
        if not window.folded or last is None:
            return 0
        sent = last.payload
        assert isinstance(sent, ExceptionPayload)
        note = f"{window.folded} more {sent.code!r} from {key[0]} within {self.window_s:g} s; the last: "
        payload = sent.model_copy(update={"count": window.folded, "detail": (note + sent.detail)[:1000]})
        summary = OpDraft(payload=payload, actor=last.actor, device_id=last.device_id, occurred_at=last.occurred_at)
        await self.journal.append(summary)
        log.warning("floods.collapsed", device=key[0], code=key[1], count=window.folded, window_s=self.window_s)
        return 1
