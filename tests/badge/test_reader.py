"""The badge driver through the real stack: virtual card -> vpcd -> pcscd -> pyscard -> BadgeReader."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from drivers.badge import BadgeEvent, BadgeReader, CardInserted, CardRemoved, ReaderState
from firmware_sim.badge import PcscdWithVpcd, VirtualBadge


async def collect(
    reader: BadgeReader, until: Callable[[list[BadgeEvent]], bool], timeout: float = 10.0
) -> list[BadgeEvent]:
    events: list[BadgeEvent] = []

    async def run() -> None:
        async for ev in reader.events():
            events.append(ev)
            if until(events):
                return

    await asyncio.wait_for(run(), timeout)
    return events


async def test_insert_and_remove_give_uid_and_removal(pcscd: PcscdWithVpcd) -> None:
    card = VirtualBadge("04A1B2C3D4E5F6", port=pcscd.port)
    async with BadgeReader(reader="Virtual PCD 00 00", wait_ms=100) as reader:
        events = await collect(reader, lambda ev: any(isinstance(e, ReaderState) for e in ev))
        assert isinstance(events[0], ReaderState) and events[0].available
        await card.insert()
        events = await collect(reader, lambda ev: any(isinstance(e, CardInserted) for e in ev))
        inserted = [e for e in events if isinstance(e, CardInserted)]
        assert inserted[0].uid == "04A1B2C3D4E5F6"
        assert inserted[0].atr.startswith("3B8F8001")
        assert bytes.fromhex("FFCA000000") in card.apdus  # the UID came from GET DATA, through pcscd
        await card.remove()
        await collect(reader, lambda ev: any(isinstance(e, CardRemoved) for e in ev))
        assert not reader.card_present


async def test_pcscd_restart_is_survived(pcscd: PcscdWithVpcd) -> None:
    """pcscd goes away: the reader reports it and comes back by itself when pcscd does."""
    async with BadgeReader(reader="Virtual PCD", wait_ms=100, backoff_initial_s=0.1, backoff_max_s=0.4) as reader:
        await collect(reader, lambda ev: any(isinstance(e, ReaderState) and e.available for e in ev))
        await asyncio.to_thread(pcscd.stop)
        try:
            events = await collect(reader, lambda ev: any(isinstance(e, ReaderState) and not e.available for e in ev))
            assert not reader.available
        finally:
            await asyncio.to_thread(pcscd.start)
        events = await collect(reader, lambda ev: any(isinstance(e, ReaderState) and e.available for e in ev))
        card = VirtualBadge("0A0B0C0D", port=pcscd.port)
        await card.insert()
        events = await collect(reader, lambda ev: any(isinstance(e, CardInserted) for e in ev))
        await card.remove()
    assert [e.uid for e in events if isinstance(e, CardInserted)] == ["0A0B0C0D"]
