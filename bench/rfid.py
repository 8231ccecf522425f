"""Raw tag reads per second the gateway ingests and smooths on one core.

Input: RO_ACCESS_REPORT frames as a busy dock-door reader sends them (50 TagReportData per report,
each one raw read: EPC-96, antenna, peak RSSI, first/last seen, count 1), cases moving through a
two-antenna portal so that tags keep arriving and departing. Single thread, CPU only (no sockets),
so the figure is the codec and the smoothing alone. Stages, each timed on the same frames in this run:

- baseline framing: cutting the byte stream into frames and checking headers (``split_frames``);
- baseline hand parser: a minimal struct walk that pulls EPC and antenna out of each TagReportData,
  about the least a Python gateway can spend per read;
- decode: the table-driven codec to a ``Message`` tree, then ``TagRead``s with SGTIN-96 decoded;
- decode + smoothing: the above fed to ``TagSmoother`` with a portal read point, ticking every report;
- over TCP: the same frames written by the simulated reader (``firmware_sim.llrp``, same process and
  core) to a connected ``LlrpReader`` (the real session: framing, decode, event queue) and smoothed.

Goal: decode + smoothing >= 5,000 reads/s.

    python -m bench.rfid [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._common import emit_json, parser, rss_mb, table
from drivers.rfid import LlrpReader, ReaderOptions, ReaderState, TagRead
from drivers.rfid.codec import encode_message, message, param, split_frames
from drivers.rfid.messages import decode_report
from drivers.rfid.smoothing import ReadPoint, SmoothingConfig, TagSmoother

PER_REPORT = 50
GOAL = 5_000.0
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_EPOCH_US = int(T0.timestamp() * 1_000_000)


def sgtin(serial: int) -> bytes:
    """SGTIN-96, company prefix 0614141 (partition 5), item 812345, filter 1."""
    value = (0x30 << 88) | (1 << 85) | (5 << 82) | (614141 << 58) | (812345 << 38) | serial
    return value.to_bytes(12, "big")


def make_frames(reports: int) -> tuple[list[bytes], int]:
    """Report frames for cases crossing the portal, 20 in the field at a time, ~40 reads each."""
    frames = []
    reads = 0
    for r in range(reports):
        tags = []
        for k in range(PER_REPORT):
            n = r * PER_REPORT + k
            case = n // 40  # each case gets 40 reads: 20 on antenna 1, then 20 on antenna 2
            antenna = 1 if (n % 40) < 20 else 2
            us = _EPOCH_US + n * 1_000
            tags.append(
                param(
                    "TagReportData",
                    param("EPC_96", EPC=sgtin(case)),
                    param("ROSpecID", ROSpecID=1),
                    param("AntennaID", AntennaID=antenna),
                    param("PeakRSSI", PeakRSSI=-50 - (n % 20)),
                    param("FirstSeenTimestampUTC", Microseconds=us),
                    param("LastSeenTimestampUTC", Microseconds=us),
                    param("TagSeenCount", TagCount=1),
                )
            )
            reads += 1
        frames.append(encode_message(message("RO_ACCESS_REPORT", r + 1, *tags)))
    return frames, reads


def hand_parse(frame: bytes) -> list[tuple[bytes, int]]:
    """The baseline: EPC and antenna of each TagReportData, nothing validated beyond lengths."""
    out = []
    pos, end = 10, len(frame)
    while pos + 4 <= end:
        ptype, length = struct.unpack_from(">HH", frame, pos)
        stop = pos + length
        if ptype & 0x3FF == 240:
            i, epc, antenna = pos + 4, b"", 0
            while i < stop:
                t = frame[i] & 0x7F
                if t == 13:
                    epc = frame[i + 1 : i + 13]
                    i += 13
                elif t == 1:
                    antenna = frame[i + 1] << 8 | frame[i + 2]
                    i += 3
                else:
                    i += 1 + {2: 8, 4: 8, 6: 1, 8: 2, 9: 4}[t]
            out.append((epc, antenna))
        pos = stop
    return out


def timed(fn: Callable[[], Any], reads: int, min_seconds: float) -> float:
    """Reads per second of ``fn`` over ``reads`` reads, repeated until ``min_seconds`` passed."""
    runs, start = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return reads * runs / elapsed


async def over_tcp(frames: list[bytes], reads: int, repeats: int) -> float:
    """Reads per second through a real LLRP session on localhost, smoothed as they arrive."""
    from firmware_sim.llrp import Scenario, SimReader

    smoother = TagSmoother([ReadPoint("door", (1, 2), portal=True)], SmoothingConfig(window_s=0.5, min_seen=2))
    async with SimReader(Scenario()) as sim:
        opts = ReaderOptions(host="127.0.0.1", port=sim.port, antennas=(1, 2), report_every_ms=1000, keepalive_ms=0)
        async with LlrpReader(opts) as reader:
            async for event in reader:
                if isinstance(event, ReaderState) and event.state == "connected":
                    break
            start = time.perf_counter()
            got = 0

            async def produce() -> None:
                for _ in range(repeats):
                    for f in frames:
                        await sim.inject(f)

            producer = asyncio.create_task(produce())
            async for event in reader:
                if isinstance(event, TagRead):
                    smoother.feed(event)
                    got += 1
                    if got % PER_REPORT == 0:
                        smoother.tick(event.received_at)
                    if got == reads * repeats:
                        break
            elapsed = time.perf_counter() - start
            await producer
    return got / elapsed


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__ or "").parse_args(argv)
    reports = 200 if args.quick else 1000
    min_seconds = 2.0 if args.quick else 8.0
    frames, reads = make_frames(reports)
    stream = b"".join(frames)

    def framing() -> None:
        buf = bytearray(stream)
        for _ in split_frames(buf):
            pass

    def handparse() -> None:
        for f in frames:
            hand_parse(f)

    def decode() -> None:
        for i, f in enumerate(frames):
            decode_report(f, T0 + timedelta(milliseconds=50 * i))

    stats: dict[str, int] = {}

    def decode_and_smooth() -> None:
        smoother = TagSmoother([ReadPoint("door", (1, 2), portal=True)], SmoothingConfig(window_s=0.5, min_seen=2))
        events = 0
        for i, f in enumerate(frames):
            now = T0 + timedelta(milliseconds=50 * i)
            events += len(smoother.feed_many(decode_report(f, now)))
            events += len(smoother.tick(now))
        stats["events"] = events + len(smoother.flush(T0 + timedelta(days=1)))

    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"reads_per_run": reads, "reports_per_run": reports}
    for name, fn in (
        ("framing", framing),
        ("hand_parser", handparse),
        ("decode", decode),
        ("decode_smooth", decode_and_smooth),
    ):
        rate = timed(fn, reads, min_seconds)
        figures[f"{name}_reads_per_s"] = round(rate)
        rows.append([name, rate, 1e6 / rate])
    tcp_rate = asyncio.run(over_tcp(frames, reads, 2 if args.quick else 5))
    figures["tcp_session_smooth_reads_per_s"] = round(tcp_rate)
    rows.append(["tcp_session_smooth", tcp_rate, 1e6 / tcp_rate])
    figures["events_per_run"] = stats["events"]
    figures["cases_per_run"] = reads // 40
    figures["rss_mb"] = round(rss_mb(), 1)
    figures["goal_reads_per_s"] = GOAL
    figures["goal_met"] = min(figures["decode_smooth_reads_per_s"], figures["tcp_session_smooth_reads_per_s"]) >= GOAL
    overhead = figures["hand_parser_reads_per_s"] / figures["decode_smooth_reads_per_s"]
    figures["overhead_vs_hand_parser"] = round(overhead, 2)
    table(
        f"RFID ingest on one core ({reads:,} reads in {reports} reports, {reads // 40} cases)",
        ["stage", "reads/s", "us/read"],
        rows,
    )
    print(
        f"\narrived+departed events per run: {stats['events']:,} (expected {2 * (reads // 40):,}); "
        f"peak RSS {figures['rss_mb']} MB; goal >= {GOAL:,.0f} reads/s: {'met' if figures['goal_met'] else 'MISSED'}"
    )
    if args.json:
        emit_json(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
