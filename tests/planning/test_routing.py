"""Order routing: one warehouse when one can serve (the soonest, then cheapest), a split only when none can."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.orders.routing import Order, OrderLine, RoutingError, route_order, ship_date
from cloud.planning.network import Network, ServiceLane, Warehouse

WAREHOUSES = ("SH", "SZ", "BJ", "CD")


def _network(transit: dict[str, int], cutoff: time = time(18, 0)) -> Network:
    return Network(
        warehouses=tuple(Warehouse(code=w, country="CN", timezone="Asia/Shanghai") for w in WAREHOUSES),
        service_lanes=tuple(
            ServiceLane(
                warehouse=w,
                region="CN-East",
                carrier="SF",
                transit_days=d,
                cutoff=cutoff,
                cost_per_unit=0.5 + i * 0.1,
                cost_per_shipment=8.0,
            )
            for i, (w, d) in enumerate(transit.items())
        ),
    )


NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai, a Monday


def test_the_soonest_single_warehouse_wins() -> None:
    net = _network({"SH": 1, "SZ": 2, "BJ": 2, "CD": 3})
    stock = {("SH", "A"): 5, ("SZ", "A"): 50, ("SZ", "B"): 50, ("BJ", "A"): 50, ("BJ", "B"): 50}
    order = Order("O-1", "CN-East", (OrderLine("A", 10), OrderLine("B", 2)))
    d = route_order(order, net, stock, NOW)
    assert [s.warehouse for s in d.shipments] == ["SZ"] and not d.split and not d.backorder
    assert d.shipments[0].ship_date.isoformat() == "2026-03-02"
    assert d.shipments[0].delivery_date.isoformat() == "2026-03-04"
    assert d.shipments[0].cost == 8.0 + 12 * 0.6
    assert "SZ ships all 2 line(s)" in d.reason.text() and "next: BJ" in d.reason.text()
    assert "全部" in d.reason.text("zh-CN")


def test_after_the_cutoff_it_ships_tomorrow() -> None:
    svc = ServiceLane(warehouse="SH", region="R", transit_days=1, cutoff=time(17, 0), ship_days=(1, 2, 3, 4, 5))
    assert ship_date(svc, datetime(2026, 3, 2, 16, 59)).isoformat() == "2026-03-02"
    assert ship_date(svc, datetime(2026, 3, 2, 17, 1)).isoformat() == "2026-03-03"
    assert ship_date(svc, datetime(2026, 3, 6, 18, 0)).isoformat() == "2026-03-09"  # Friday evening -> Monday
    net = _network({"SH": 1, "SZ": 1, "BJ": 1, "CD": 1}, cutoff=time(13, 0))
    d = route_order(Order("O", "CN-East", (OrderLine("A", 1),)), net, {("SH", "A"): 1}, NOW)
    assert d.shipments[0].ship_date.isoformat() == "2026-03-03"


def test_split_only_when_no_single_warehouse_can() -> None:
    net = _network({"SH": 1, "SZ": 2, "BJ": 2, "CD": 3})
    stock = {("SH", "A"): 10, ("SZ", "B"): 5, ("BJ", "B"): 5, ("CD", "A"): 10, ("CD", "B"): 1}
    order = Order("O-2", "CN-East", (OrderLine("A", 10), OrderLine("B", 5)))
    d = route_order(order, net, stock, NOW)
    assert d.split and sorted(s.warehouse for s in d.shipments) == ["SH", "SZ"]  # SZ: as soon as BJ, cheaper
    assert "no single warehouse holds every line" in d.reason.text()


def test_what_the_network_lacks_is_back_ordered() -> None:
    net = _network({"SH": 1, "SZ": 2, "BJ": 2, "CD": 3})
    d = route_order(Order("O", "CN-East", (OrderLine("A", 30),)), net, {("SH", "A"): 10, ("SZ", "A"): 5}, NOW)
    assert sum(line.qty for s in d.shipments for line in s.lines) == 15
    assert d.backorder == (OrderLine("A", 15),) and d.reason.code == "partial"
    d = route_order(Order("O", "US-West", (OrderLine("A", 1),)), net, {("SH", "A"): 10}, NOW)
    assert d.reason.code == "no_service" and not d.shipments
    d = route_order(Order("O", "CN-East", (OrderLine("Z", 1),)), net, {("SH", "A"): 10}, NOW)
    assert d.reason.code == "no_stock" and d.backorder == (OrderLine("Z", 1),)


def test_bad_orders_are_refused() -> None:
    with pytest.raises(RoutingError, match=r"lines\[0\]\.qty"):
        Order("O", "R", (OrderLine("A", 0),))
    with pytest.raises(RoutingError, match="no lines"):
        Order("O", "R", ())
    with pytest.raises(RoutingError, match="timezone-aware"):
        route_order(Order("O", "R", (OrderLine("A", 1),)), _network({"SH": 1}), {}, datetime(2026, 1, 1))


SKUS = ("A", "B", "C")


@settings(max_examples=150, deadline=None)
@given(
    stock=st.dictionaries(st.tuples(st.sampled_from(WAREHOUSES), st.sampled_from(SKUS)), st.integers(0, 20)),
    lines=st.lists(
        st.tuples(st.sampled_from(SKUS), st.integers(1, 15)), min_size=1, max_size=3, unique_by=lambda t: t[0]
    ),
    transit=st.lists(st.integers(1, 4), min_size=4, max_size=4),
)
def test_routing_properties(
    stock: dict[tuple[str, str], int], lines: list[tuple[str, int]], transit: list[int]
) -> None:
    net = _network(dict(zip(WAREHOUSES, transit, strict=True)))
    order = Order("P", "CN-East", tuple(OrderLine(s, q) for s, q in lines))
    d = route_order(order, net, stock, NOW)
    need = order.demand()
    whole = [w for w in WAREHOUSES if all(stock.get((w, s), 0) >= q for s, q in need.items())]
    shipped: dict[str, int] = {}
    for s in d.shipments:
        for line in s.lines:
            assert line.qty <= stock.get((s.warehouse, line.sku), 0)  # never more than is there
            shipped[line.sku] = shipped.get(line.sku, 0) + line.qty
    for line in d.backorder:
        shipped[line.sku] = shipped.get(line.sku, 0) + line.qty
    assert shipped == need  # every unit is shipped or back-ordered, once
    assert len({s.warehouse for s in d.shipments}) == len(d.shipments)
    if whole:
        assert len(d.shipments) == 1 and not d.backorder and d.shipments[0].warehouse in whole
        fastest = min(net.service_to("CN-East")[WAREHOUSES.index(w)].transit_days for w in whole)
        assert (d.shipments[0].delivery_date - d.shipments[0].ship_date).days == fastest
    else:
        assert len(d.shipments) != 1 or d.backorder  # one parcel only if the rest is back-ordered
        total = {s: sum(stock.get((w, s), 0) for w in WAREHOUSES) for s in need}
        if all(total[s] >= q for s, q in need.items()) and len(d.shipments) <= 3 and not d.backorder:
            assert d.split
