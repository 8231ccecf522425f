"""Words for the codes both apps show (op kinds, states, alarms), as English message ids.

A code stays a code in data (JSON, exports); a page shows its label, translated. A code with no label
here is shown as itself, marked ``translate="no"`` (a site's own code, not a word).
"""

from __future__ import annotations

from typing import Final

from sync.web.i18n import N_

STATES: Final = {
    "online": N_("Online"),
    "offline": N_("Offline"),
    "never": N_("Never seen"),
    "ok": N_("OK"),
    "degraded": N_("Degraded"),
    "down": N_("Down"),
    "starting": N_("Starting"),
    "unknown": N_("Unknown"),
    "critical": N_("Critical"),
    "warning": N_("Warning"),
    "open": N_("Open"),
    "closed": N_("Closed"),
    "late": N_("Late"),
}

TRANSFER_STATES: Final = {
    "draft": N_("Draft"),
    "approved": N_("Approved"),
    "released": N_("Released"),
    "in_transit": N_("In transit"),
    "received": N_("Received"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

OP_KINDS: Final = {
    "receive": N_("Receive"),
    "putaway": N_("Putaway"),
    "move": N_("Move"),
    "qc_hold": N_("QC hold"),
    "qc_release": N_("QC release"),
    "reserve": N_("Reserve"),
    "unreserve": N_("Unreserve"),
    "pick": N_("Pick"),
    "pack": N_("Pack"),
    "ship": N_("Ship"),
    "transfer_out": N_("Transfer out"),
    "transfer_in": N_("Transfer in"),
    "adjust": N_("Adjust"),
    "count": N_("Count"),
    "temp_alarm": N_("Temperature alarm"),
    "work_order": N_("Work order"),
    "command_applied": N_("Command applied"),
    "session": N_("Session"),
    "exception": N_("Exception"),
    "task": N_("Task"),
    "rule_fired": N_("Rule fired"),
}

DISCREPANCY_KINDS: Final = {
    "negative_stock": N_("Negative stock"),
    "transfer_short": N_("Transfer received short"),
    "transfer_over": N_("Transfer received over"),
    "serial_in_two_warehouses": N_("Serial in two warehouses"),
}

ALARMS: Final = {
    "temp_high": N_("Too warm"),
    "temp_low": N_("Too cold"),
    "humidity_high": N_("Too humid"),
    "humidity_low": N_("Too dry"),
    "stale": N_("Sensor silent"),
}

WORK_ORDER_TYPES: Final = {
    "temp_excursion": N_("Temperature excursion"),
    "temperature_excursion": N_("Temperature excursion"),
    "sensor_stale": N_("Sensor silent"),
    "discrepancy": N_("Stock discrepancy"),
    "exception": N_("Exception"),
    "short_pick": N_("Short pick"),
    "damaged_goods": N_("Damaged goods"),
    "wrong_item": N_("Wrong item"),
    "qc_reject": N_("QC reject"),
    "failed_handoff": N_("Carrier hand-off failed"),
    "missing_goods": N_("Missing goods"),
    "other": N_("Other"),
    "handoff_failed": N_("Carrier hand-off failed"),
}

ROLES: Final = {
    "admin": N_("Administrator"),
    "planner": N_("Planner"),
    "supervisor": N_("Supervisor"),
    "operator": N_("Operator"),
    "auditor": N_("Auditor"),
    "gateway": N_("Gateway"),
}
