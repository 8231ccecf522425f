"""Held stock and a person's decision on it: a zone's stock on hold, and its release by a supervisor.

After a temperature excursion the cold-chain rules (``edge.rules.coldchain``) put a zone's available
stock on ``qc_hold``. Only a person releases it: ``release_zone`` checks that the actor holds a release
role (supervisor or admin) and records one ``qc_release`` per held line under that person's name, and
closes the excursion's work order when it is named.
"""

from __future__ import annotations

from typing import Literal

from edge.context import EdgeContext
from edge.rules.coldchain import HoldLine
from sync.ops import Op, OpDraft, QcReleasePayload, StockStatus, WorkOrderPayload
from sync.roles import RELEASE_ROLES


class ReleaseRefused(PermissionError):
    """Only a supervisor (or admin) may release held stock; nothing was recorded."""


def zone_stock(ctx: EdgeContext, zone: str, status: StockStatus = StockStatus.AVAILABLE) -> list[HoldLine]:
    """The zone's positive stock lines in ``status``, from the journal's projection."""
    lines: list[HoldLine] = []
    for loc in ctx.master.locations_in_zone(zone):
        for s in ctx.journal.stock(warehouse=ctx.warehouse, location=loc.code, status=status.value):
            if s.qty > 0:
                lines.append(HoldLine(s.sku, s.lot, s.location, s.qty))
    return lines


async def release_zone(
    ctx: EdgeContext,
    zone: str,
    *,
    actor: str,
    to_status: Literal[StockStatus.AVAILABLE, StockStatus.DAMAGED] = StockStatus.AVAILABLE,
    note: str = "",
    work_order_id: str | None = None,
) -> list[Op]:
    """A supervisor's decision on a zone's held stock: ``qc_release`` per line, under their name."""
    operator = ctx.master.operators.get(actor)
    if operator is None or not RELEASE_ROLES & set(operator.roles):
        raise ReleaseRefused(f"{actor!r} is not a supervisor: held stock in {zone!r} stays on hold")
    now = ctx.clock.now()
    drafts = [
        OpDraft(
            payload=QcReleasePayload(
                sku=h.sku, lot=h.lot, location=h.location, qty=h.qty, to_status=to_status, note=note[:500]
            ),
            actor=actor,
            occurred_at=now,
        )
        for h in zone_stock(ctx, zone, StockStatus.QC_HOLD)
    ]
    if work_order_id is not None:
        drafts.append(
            OpDraft(
                payload=WorkOrderPayload(
                    work_order_id=work_order_id,
                    action="close",
                    wo_type="temp_excursion",
                    zone=zone,
                    assignee=actor,
                    description=note[:1000],
                ),
                actor=actor,
                occurred_at=now,
            )
        )
    return [await ctx.journal.append(d) for d in drafts]
