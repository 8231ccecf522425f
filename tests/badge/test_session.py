"""Badge sessions end to end: a virtual card through pcscd logs its operator in at the station."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from edge.capture.badge import BadgeStation, sessions_of
from edge.config import Device
from edge.context import EdgeContext
from firmware_sim.badge import PcscdWithVpcd, VirtualBadge
from sync.clock import ManualClock
from sync.ops import OpKind, SessionPayload


@contextlib.asynccontextmanager
async def station(ctx: EdgeContext, **options: object) -> AsyncIterator[BadgeStation]:
    device = Device(
        id="badge-pack-1",
        kind="badge",
        location="A-01",
        options={"reader": "Virtual PCD 00 00", "station": "PACK-1", **options},
    )
    st = BadgeStation(device, ctx)
    task = asyncio.create_task(st.run())
    try:
        await st.wait_handled(1)  # the reader is up
        yield st
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def sessions(ctx: EdgeContext) -> list[tuple[str, str | None, str, str | None]]:
    out = []
    for e in ctx.journal.entries(kind=OpKind.SESSION):
        op = e.op()
        assert isinstance(op.payload, SessionPayload)
        out.append((op.payload.event, op.payload.operator_id, op.actor, op.payload.card_uid))
    return out


async def test_known_card_logs_in_and_out_unknown_card_is_refused(pcscd: PcscdWithVpcd, ctx: EdgeContext) -> None:
    async with station(ctx) as st:
        sup = VirtualBadge("04D4E5F6", port=pcscd.port)
        await sup.insert()
        await st.wait_handled(2)
        assert sessions_of(ctx).actor_for("PACK-1") == "sup1"
        health = ctx.health.get("device:badge-pack-1")
        assert health is not None and health.facts["operator"] == "sup1" and health.facts["station"] == "PACK-1"
        await sup.remove()
        await st.wait_handled(3)
        assert sessions_of(ctx).actor_for("PACK-1") is None
        stranger = VirtualBadge("DEADBEEF", port=pcscd.port)
        await stranger.insert()
        await st.wait_handled(4)
        assert sessions_of(ctx).actor_for("PACK-1") is None
        await stranger.remove()
        await st.wait_handled(5)
        health = ctx.health.get("device:badge-pack-1")
        assert health is not None and health.status == "ok"
    assert sessions(ctx) == [
        ("login", "sup1", "sup1", "04D4E5F6"),
        ("logout", "sup1", "sup1", "04D4E5F6"),
        ("refused", None, "device:badge-pack-1", "DEADBEEF"),
    ]


async def test_idle_session_times_out_on_simulated_time(pcscd: PcscdWithVpcd, ctx: EdgeContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    async with station(ctx, idle_timeout_s=600) as st:
        card = VirtualBadge("04A1B2C3", port=pcscd.port)
        await card.insert()
        await st.wait_handled(2)
        await clock.advance(300)
        sessions_of(ctx).touch("PACK-1", clock.monotonic())  # the operator packed something
        await clock.advance(450)
        assert sessions_of(ctx).actor_for("PACK-1") == "op1"  # 450 s idle < 600 s
        await clock.advance(300)
        assert sessions_of(ctx).actor_for("PACK-1") is None
        await card.remove()
        await st.wait_handled(3)  # the removal of a timed-out session records nothing more
    assert [s[0] for s in sessions(ctx)] == ["login", "timeout"]


class _ContactCard(VirtualBadge):
    """A card that is not a contactless badge: the reader's GET DATA is refused."""

    def apdu(self, apdu: bytes) -> bytes:
        return b"\x6a\x81"


async def test_card_without_uid_is_recorded_and_logs_nobody_in(pcscd: PcscdWithVpcd, ctx: EdgeContext) -> None:
    async with station(ctx) as st:
        card = _ContactCard("00", port=pcscd.port)
        await card.insert()
        await st.wait_handled(2)
        assert sessions_of(ctx).actor_for("PACK-1") is None
        await card.remove()
        await st.wait_handled(3)
    (entry,) = ctx.journal.entries(kind=OpKind.EXCEPTION)
    op = entry.op()
    assert op.actor == "device:badge-pack-1" and op.payload.code == "badge_unreadable"  # type: ignore[union-attr]
    assert "6a81" in op.payload.detail  # type: ignore[union-attr]
    assert sessions(ctx) == []
