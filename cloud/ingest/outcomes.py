"""What a gateway's ops tell the cloud beyond stock: the outcome of the cloud's commands, and the
gateway's own work orders.

- ``command_applied``: the command's row gets the gateway's verdict (``applied`` or ``rejected``, the
  reason, when, and the op's seq), so ``GET /v1/commands`` shows it; a rejection is also an alert: a
  ``command_rejected`` discrepancy with its work order, and an ``alert`` event on the live stream.
- ``work_order``: the gateway's work orders (stale sensor, cold chain, exceptions) are kept in
  ``work_orders`` beside the cloud's own (``source = 'gateway'``, keyed by gateway and the gateway's id),
  with their state (open, assigned, closed) as the gateway reports it.

Both kinds are rare, so ingest looks for them with one pass over the batch's new ops and does nothing
more for the common batch.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from cloud.db.engine import dialect_insert
from cloud.db.schema import commands, work_orders
from cloud.ingest.ledger import Discrepancy
from sync.ops import CommandAppliedPayload, Op, OpKind, WorkOrderPayload

KINDS = frozenset({OpKind.COMMAND_APPLIED, OpKind.WORK_ORDER})


def gateway_facts(
    conn: Connection, gateway_id: str, warehouse: str, new_ops: list[Op], now: datetime
) -> tuple[list[Discrepancy], list[dict[str, object]]]:
    """Record the outcomes and work orders among ``new_ops``; returns the alerts (as discrepancies to
    record) and the events to emit."""
    alerts: list[Discrepancy] = []
    events: list[dict[str, object]] = []
    for op in new_ops:
        payload = op.payload
        if isinstance(payload, CommandAppliedPayload):
            conn.execute(
                commands.update()
                .where(commands.c.command_id == payload.command_id, commands.c.gateway_id == gateway_id)
                .values(status=payload.result, reason=payload.reason, applied_at=op.occurred_at, applied_seq=op.seq)
            )
            if payload.result == "rejected":
                detail = {
                    "gateway_id": gateway_id,
                    "command_id": payload.command_id,
                    "command_type": payload.command_type,
                    "reason": payload.reason,
                }
                alerts.append(Discrepancy(f"command|{payload.command_id}", "command_rejected", warehouse, None, detail))
                events.append({"type": "alert", "kind": "command_rejected", "warehouse": warehouse, **detail})
        elif isinstance(payload, WorkOrderPayload):
            _work_order(conn, gateway_id, warehouse, op, payload)
    return alerts, events


_STATUS = {"open": "open", "assign": "assigned", "close": "closed"}


def _work_order(conn: Connection, gateway_id: str, warehouse: str, op: Op, p: WorkOrderPayload) -> None:
    """Insert or update the gateway's work order. An ``escalate`` keeps its status (open or assigned)
    and moves it to the role it escalated to (``assignee_role``)."""
    values: dict[str, object] = {"updated_at": op.occurred_at}
    if p.action in _STATUS:
        values["status"] = _STATUS[p.action]
    if p.action in ("open", "escalate"):
        values["assignee_role"] = p.assignee_role
    if p.assignee is not None:
        values["assignee"] = p.assignee
    if p.action == "open" or p.description:
        values["description"] = p.description or p.wo_type
    new = {
        "warehouse": warehouse,
        "status": "open",
        "assignee_role": p.assignee_role,
        "description": p.description or p.wo_type,
        "created_at": op.occurred_at,
        "source": "gateway",
        "gateway_id": gateway_id,
        "external_id": p.work_order_id,
        "wo_type": p.wo_type,
        "zone": p.zone,
        "location": p.location,
        "assignee": p.assignee,
        **values,
    }
    ins = dialect_insert(conn, work_orders).values(**new)
    conn.execute(ins.on_conflict_do_update(index_elements=["gateway_id", "external_id"], set_=values))
