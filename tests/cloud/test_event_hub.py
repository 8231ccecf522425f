"""The hub remembers when each kind of event last passed, for a stream that opens after its page was
drawn (``/live?drawn=``): what it missed in between, in the viewer's scope, and nothing older."""

from __future__ import annotations

import time

from cloud.events import hub as hub_module
from cloud.events.hub import EventHub


def test_delivered_since_gives_one_event_per_kind_and_warehouse_in_scope() -> None:
    hub = EventHub()
    hub.deliver({"type": "stock", "warehouse": "WH-A", "seq": 1})
    drawn = time.time()
    hub.deliver({"type": "stock", "warehouse": "WH-B", "seq": 7})
    hub.deliver({"type": "stock", "warehouse": "WH-B", "seq": 8})
    hub.deliver({"type": "site", "warehouse": "WH-B"})
    hub.deliver({"type": "ops", "warehouse": "WH-B"})

    def live_in_b(e: dict[str, object]) -> bool:
        return e.get("type") in ("stock", "site") and e.get("warehouse") == "WH-B"

    assert hub.delivered_since(drawn, live_in_b) == [
        {"type": "site", "warehouse": "WH-B"},
        {"type": "stock", "warehouse": "WH-B"},
    ]
    assert hub.delivered_since(drawn - 60, lambda e: e.get("warehouse") == "WH-A") == [
        {"type": "stock", "warehouse": "WH-A"}
    ]
    assert hub.delivered_since(time.time() + 1, lambda _e: True) == []


def test_what_the_hub_remembers_is_bounded() -> None:
    hub = EventHub()
    limit = hub_module.MAX_REMEMBERED
    for i in range(limit + 50):
        hub.deliver({"type": "stock", "warehouse": f"WH-{i}"})
    assert len(hub.delivered_since(0, lambda _e: True)) == limit
