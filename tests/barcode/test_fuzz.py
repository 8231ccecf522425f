"""Garbage on the serial line: always a clear refusal or a well-formed event, never a crash, never an op.

Two layers: the pure framer + decoder with many examples, then a real pty with fewer (each example
costs a round trip through the kernel).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.barcode import ScanDecoder, ScanEvent, ScanRejected, SerialScanner
from drivers.barcode.events import BarcodeEvent
from drivers.barcode.framing import Line, LineFramer
from edge.capture.scan import NOISE, Station, map_scan
from edge.config import parse_config
from edge.store.masterdata import MasterData
from firmware_sim.scanner import ScannerSim

from .conftest import SITE

AT = datetime(2026, 5, 1, tzinfo=UTC)
MASTER = MasterData.from_config(parse_config(SITE))
STATION = Station(device_id="gun", location="DOCK-1")

# Bytes that look like noise: binary, control characters, half frames, stray CR/LF, long runs.
noise = st.one_of(
    st.binary(min_size=0, max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50).map(str.encode),
    st.binary(min_size=1100, max_size=1500),
)


def assert_well_formed(event: BarcodeEvent) -> None:
    if isinstance(event, ScanRejected):
        assert event.reason and event.detail
        mapped = map_scan(event, STATION, MASTER)
        if event.reason in NOISE:
            assert mapped.draft is None  # noise is logged, never journaled
        else:
            assert mapped.draft is not None and mapped.draft.payload.kind == "exception"
    else:
        assert isinstance(event, ScanEvent)
        assert all(ch.isprintable() or ch in "\x1d\t" for ch in event.data)
        mapped = map_scan(event, STATION, MASTER)
        # random bytes never carry a GTIN of the test site, so no stock op
        assert mapped.draft is None or mapped.draft.payload.kind == "exception"


@settings(max_examples=400, deadline=None)
@given(chunks=st.lists(noise, min_size=1, max_size=6))
def test_framer_and_decoder_on_noise(chunks: list[bytes]) -> None:
    framer = LineFramer(suffix=b"\r", max_line=1024)
    decoder = ScanDecoder(device_id="gun")
    for chunk in chunks:
        for frame in framer.feed(chunk):
            if isinstance(frame, Line):
                assert len(frame.data) <= 1024
            assert_well_formed(decoder.from_frame(frame, AT))


@settings(max_examples=200, deadline=None)
@given(payload=st.text(min_size=1, max_size=120))
def test_decoder_on_any_text(payload: str) -> None:
    assert_well_formed(ScanDecoder(device_id="gun").from_text(payload, AT))


class _PtyHarness:
    """One simulated gun and one driver on a background event loop, shared by the hypothesis examples."""

    def __init__(self, link: Path) -> None:
        self.sim = ScannerSim(link=link)
        self.sim.plug()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.events: asyncio.Queue[BarcodeEvent] | None = None
        self.scanner: SerialScanner | None = None
        self._run(self._start(link))

    def _run(self, coro: object, timeout: float = 10.0) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    async def _start(self, link: Path) -> None:
        self.scanner = SerialScanner({"port": str(link), "max_line": 1024}, device_id="gun")
        await self.scanner.__aenter__()
        while self.scanner.state != "connected":
            await asyncio.sleep(0.01)
        self.iterator = self.scanner.events()

    async def _until_marker(self) -> list[BarcodeEvent]:
        out: list[BarcodeEvent] = []
        while True:
            event = await asyncio.wait_for(anext(self.iterator), 5)
            if isinstance(event, ScanEvent) and event.data == "MARKER":
                return out
            out.append(event)

    def send(self, data: bytes) -> list[BarcodeEvent]:
        """Write ``data``, end any partial line, then a marker scan; return the events before the marker."""
        self.sim.write_raw(data + b"\r")
        self.sim.scan("MARKER", "]C0")
        return self._run(self._until_marker())  # type: ignore[return-value]

    def close(self) -> None:
        assert self.scanner is not None
        self._run(self.scanner.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        self.sim.unplug()


@pytest.fixture(scope="module")
def pty_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_PtyHarness]:
    h = _PtyHarness(tmp_path_factory.mktemp("pty") / "tty")
    yield h
    h.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=noise)
def test_noise_over_pty(pty_harness: _PtyHarness, data: bytes) -> None:
    events = pty_harness.send(data)
    for event in events:
        assert_well_formed(event)
    assert pty_harness.scanner is not None and pty_harness.scanner.state == "connected"
