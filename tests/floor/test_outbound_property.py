"""Property: reservation takes no more than there is, all it can, and FEFO never leaves an earlier expiry
behind (hypothesis, on a real journal per example)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.config import parse_config
from edge.floor import outbound
from edge.floor.flow import floor_flow
from sync.clock import ManualClock
from sync.commands import OutboundOrderCommand
from sync.ops import OpDraft, OpKind, ReceivePayload, StockStatus
from tests.support.edge import edge_context, site_dict

SLOTS = ["A-01", "A-02", "A-03", "B-01"]
LOTS = {"L1": "2026-12-05", "L2": "2026-12-20", "L3": "2027-01-15", "L4": None}  # L4: expiry unknown


def _site(tmp: Path) -> dict[str, Any]:
    data = site_dict(tmp)
    data["zones"] = [{"code": "Z", "temperature_class": "chilled"}]
    data["locations"] = [{"code": c, "zone": "Z"} for c in SLOTS] + [{"code": "STAGE", "zone": "Z", "type": "staging"}]
    data["skus"] = [{"code": "MILK", "temperature_class": "chilled", "lot_tracked": True}]
    return data


stock_lines = st.lists(
    st.tuples(st.sampled_from(SLOTS), st.sampled_from(sorted(LOTS)), st.integers(1, 40)), min_size=0, max_size=8
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=stock_lines, want=st.integers(1, 150))
def test_reservation_is_bounded_complete_and_fefo(lines: list[tuple[str, str, int]], want: int) -> None:
    asyncio.run(_check(lines, want))


async def _check(lines: list[tuple[str, str, int]], want: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(_site(Path(tmp)))
        async with edge_context(cfg, ManualClock()) as ctx:
            flow = floor_flow(ctx)
            for n, (slot, lot, qty) in enumerate(lines):
                await ctx.journal.append(
                    OpDraft(
                        payload=ReceivePayload(sku="MILK", lot=lot, location=slot, qty=qty),
                        actor="op1",
                        occurred_at=ctx.clock.now(),
                    )
                )
                if flow.doc("lot", f"MILK|{lot}") is None:
                    await flow.save(("lot", f"MILK|{lot}", "known", {"expiry": LOTS[lot], "first_seq": n + 1}))
            before = {(s.location, s.lot): s.qty for s in ctx.journal.stock(status=StockStatus.AVAILABLE.value)}
            order = OutboundOrderCommand.model_validate(
                {"id": "SO", "lines": [{"line": 1, "sku": "MILK", "qty": want}]}
            )
            await outbound.store_order(ctx.journal, order, "api")
            result = await outbound.reserve(flow, "SO", "op1")

            reserved: dict[tuple[str, str], int] = {}
            for r in result["reservations"]:
                reserved[(r["location"], r["lot"])] = reserved.get((r["location"], r["lot"]), 0) + r["qty"]
            assert all(q <= before[k] for k, q in reserved.items())  # never more than was there
            total = sum(before.values())
            assert sum(reserved.values()) == min(want, total)  # all it can
            assert (result["status"] == "reserved") == (want <= total)
            assert sum(p["qty"] for p in (e.body["payload"] for e in ctx.journal.entries(kind=OpKind.RESERVE))) == min(
                want, total
            )
            # FEFO: a lot with stock left over never expires before a lot that was reserved
            left = {k: before[k] - reserved.get(k, 0) for k in before}
            taken_lots = {lot for (_, lot) in reserved}
            for (_, lot), q in left.items():
                if q > 0:
                    for other in taken_lots:
                        assert (LOTS[lot] or "9999") >= (LOTS[other] or "9999"), (lot, other)
