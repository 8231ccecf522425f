"""Which warehouse ships an order: the soonest delivery at the least cost, split only when it must be.

A pure function of the order, the network's carrier services, the stock available now and the
clock. For every warehouse with a service to the customer's region it works out when the parcel
would leave (today if the order is in before the carrier's cut-off, local time, on a collection day;
else the next collection day) and arrive, and what it would cost. One warehouse that holds every
line wins on (delivery date, cost, code). Only when none holds everything is the order split, over
as few warehouses as possible (a second parcel costs a second shipment and a customer's patience):
the smallest set that covers every line, the one whose last parcel arrives first, then the
cheapest. What the network cannot cover at all is back-ordered, never silently dropped.

The decision carries its reason as a code with parameters, rendered in English and Simplified
Chinese, so a planner can see why and the cloud can store it with the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from cloud.planning.network import Network, ServiceLane

Stock = Mapping[tuple[str, str], int]
"""Units available now by (warehouse, sku)."""


class RoutingError(ValueError):
    """An order that cannot be routed as given (no lines, a non-positive quantity, a naive timestamp)."""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    qty: int


@dataclass(frozen=True)
class Order:
    id: str
    region: str
    lines: tuple[OrderLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise RoutingError(f"order {self.id}: no lines")
        for i, line in enumerate(self.lines):
            if line.qty <= 0:
                raise RoutingError(f"order {self.id}: lines[{i}].qty must be positive, got {line.qty}")

    def demand(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.sku] = out.get(line.sku, 0) + line.qty
        return out


@dataclass(frozen=True)
class Shipment:
    warehouse: str
    carrier: str
    lines: tuple[OrderLine, ...]
    ship_date: date
    delivery_date: date
    cost: float


_TEXT = {
    "single": (
        "{warehouse} ships all {lines} line(s) on {ship_date} by {carrier}, delivered {delivery_date}, "
        "cost {cost:.2f}; best of {candidates} warehouse(s) holding everything{runner_up}",
        "{warehouse} 于 {ship_date} 由 {carrier} 发出全部 {lines} 行，{delivery_date} 送达，费用 {cost:.2f}；"
        "在 {candidates} 个有全部库存的仓库中最优{runner_up_zh}",
    ),
    "split": (
        "no single warehouse holds every line ({shortages}); split into {count} shipments from {warehouses}, "
        "last delivered {delivery_date}, cost {cost:.2f}",
        "没有一个仓库有全部商品（{shortages_zh}）；拆分为 {count} 个包裹，由 {warehouses} 发出，"
        "最晚 {delivery_date} 送达，费用 {cost:.2f}",
    ),
    "partial": (
        "the network is short ({backorder}); {count} shipment(s) from {warehouses}, the rest back-ordered",
        "全网库存不足（{backorder_zh}）；由 {warehouses} 发出 {count} 个包裹，其余缺货待补",
    ),
    "no_service": (
        "no warehouse has a carrier service to region {region}",
        "没有仓库有到 {region} 区域的承运服务",
    ),
    "no_stock": (
        "no warehouse serving region {region} holds any of the order's SKUs ({backorder})",
        "服务 {region} 区域的仓库都没有该订单的商品（{backorder_zh}）",
    ),
}


@dataclass(frozen=True)
class Reason:
    """Why a routing decision was made: a code and its parameters, rendered in ``en`` or ``zh``."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        en, zh = _TEXT[self.code]
        return (zh if lang.startswith("zh") else en).format(**self.params)


@dataclass(frozen=True)
class RoutingDecision:
    order_id: str
    shipments: tuple[Shipment, ...]
    backorder: tuple[OrderLine, ...]
    reason: Reason

    @property
    def split(self) -> bool:
        return len(self.shipments) > 1


@dataclass(frozen=True)
class _Option:
    service: ServiceLane
    ship_date: date
    delivery_date: date

    def cost(self, units: int) -> float:
        return self.service.cost_per_shipment + self.service.cost_per_unit * units


def ship_date(service: ServiceLane, local_now: datetime) -> date:
    """The first collection: today if before the cut-off on a collection day, else the next collection day."""
    day = local_now.date()
    if local_now.time() > service.cutoff or day.isoweekday() not in service.ship_days:
        day += timedelta(days=1)
        while day.isoweekday() not in service.ship_days:
            day += timedelta(days=1)
    return day


def _options(order: Order, network: Network, now: datetime) -> dict[str, _Option]:
    """The best service of each warehouse to the order's region (soonest, then cheapest per unit)."""
    best: dict[str, _Option] = {}
    units = sum(line.qty for line in order.lines)
    for service in network.service_to(order.region):
        wh = network.by_code[service.warehouse]
        ships = ship_date(service, now.astimezone(wh.zone))
        opt = _Option(service, ships, ships + timedelta(days=service.transit_days))
        cur = best.get(service.warehouse)
        if cur is None or (opt.delivery_date, opt.cost(units)) < (cur.delivery_date, cur.cost(units)):
            best[service.warehouse] = opt
    return best


def _shortages(need: Mapping[str, int], warehouse: str, stock: Stock) -> dict[str, int]:
    return {
        sku: qty - stock.get((warehouse, sku), 0) for sku, qty in need.items() if stock.get((warehouse, sku), 0) < qty
    }


def _shipment(wh: str, opt: _Option, lines: Sequence[OrderLine]) -> Shipment:
    units = sum(line.qty for line in lines)
    return Shipment(wh, opt.service.carrier, tuple(lines), opt.ship_date, opt.delivery_date, round(opt.cost(units), 2))


def _allocate(
    need: Mapping[str, int], subset: Sequence[str], options: Mapping[str, _Option], stock: Stock
) -> tuple[list[Shipment], dict[str, int]]:
    """Fill each SKU from the subset's warehouses, soonest and cheapest per unit first; what is left over."""
    ranked = sorted(subset, key=lambda w: (options[w].delivery_date, options[w].service.cost_per_unit, w))
    lines: dict[str, list[OrderLine]] = {w: [] for w in ranked}
    left: dict[str, int] = {}
    for sku, qty in need.items():
        for w in ranked:
            take = min(qty, stock.get((w, sku), 0))
            if take > 0:
                lines[w].append(OrderLine(sku, take))
                qty -= take
            if qty == 0:
                break
        if qty:
            left[sku] = qty
    return [_shipment(w, options[w], lines[w]) for w in ranked if lines[w]], left


def _fmt(items: Mapping[str, int]) -> str:
    return ", ".join(f"{sku} x{qty}" for sku, qty in sorted(items.items()))


def route_order(order: Order, network: Network, stock: Stock, now: datetime, max_split: int = 3) -> RoutingDecision:
    """Route ``order`` from ``stock`` as it is at ``now`` (an aware datetime); at most ``max_split`` parcels."""
    if now.tzinfo is None:
        raise RoutingError("now must be timezone-aware (the carriers' cut-offs are local times)")
    need = order.demand()
    options = _options(order, network, now)
    if not options:
        return RoutingDecision(order.id, (), order.lines, Reason("no_service", {"region": order.region}))
    units = sum(need.values())
    whole = [w for w in options if not _shortages(need, w, stock)]
    if whole:
        whole.sort(key=lambda w: (options[w].delivery_date, options[w].cost(units), w))
        first = whole[0]
        shipment = _shipment(first, options[first], [OrderLine(s, q) for s, q in need.items()])
        runner = ""
        runner_zh = ""
        if len(whole) > 1:
            second = options[whole[1]]
            runner = f"; next: {whole[1]}, delivered {second.delivery_date}, cost {second.cost(units):.2f}"
            runner_zh = f"；其次：{whole[1]}，{second.delivery_date} 送达，费用 {second.cost(units):.2f}"
        reason = Reason(
            "single",
            {
                "warehouse": first,
                "lines": len(need),
                "ship_date": shipment.ship_date,
                "carrier": shipment.carrier or "-",
                "delivery_date": shipment.delivery_date,
                "cost": shipment.cost,
                "candidates": len(whole),
                "runner_up": runner,
                "runner_up_zh": runner_zh,
            },
        )
        return RoutingDecision(order.id, (shipment,), (), reason)
    holding = [w for w in options if any(stock.get((w, sku), 0) > 0 for sku in need)]
    if not holding:
        return RoutingDecision(
            order.id,
            (),
            order.lines,
            Reason("no_stock", {"region": order.region, "backorder": _fmt(need), "backorder_zh": _fmt(need)}),
        )
    shortages = {w: _shortages(need, w, stock) for w in options}
    short_text = "; ".join(f"{w} short {_fmt(s)}" for w, s in sorted(shortages.items()))
    short_zh = "；".join(f"{w} 缺 {_fmt(s)}" for w, s in sorted(shortages.items()))
    best: tuple[tuple[date, float, tuple[str, ...]], list[Shipment]] | None = None
    for k in range(2, min(max_split, len(holding)) + 1):
        for subset in combinations(sorted(holding), k):
            shipments, left = _allocate(need, subset, options, stock)
            if left or len(shipments) < k:
                continue
            key = (max(s.delivery_date for s in shipments), sum(s.cost for s in shipments), subset)
            if best is None or key < best[0]:
                best = (key, shipments)
        if best is not None:
            shipments = best[1]
            reason = Reason(
                "split",
                {
                    "shortages": short_text,
                    "shortages_zh": short_zh,
                    "count": len(shipments),
                    "warehouses": ", ".join(s.warehouse for s in shipments),
                    "delivery_date": best[0][0],
                    "cost": round(best[0][1], 2),
                },
            )
            return RoutingDecision(order.id, tuple(shipments), (), reason)
    return _partial(order, need, holding, options, stock, max_split)


def _partial(
    order: Order,
    need: Mapping[str, int],
    holding: Sequence[str],
    options: Mapping[str, _Option],
    stock: Stock,
    max_split: int,
) -> RoutingDecision:
    """The network (within ``max_split`` parcels) cannot cover the order: ship the most units, back-order the rest."""
    chosen: list[str] = []
    remaining = dict(need)
    while len(chosen) < max_split:
        gains = {w: sum(min(q, stock.get((w, s), 0)) for s, q in remaining.items()) for w in holding if w not in chosen}
        if not gains or max(gains.values()) == 0:
            break
        top = min(gains, key=lambda w: (-gains[w], options[w].delivery_date, w))
        chosen.append(top)
        _, remaining = _allocate(need, chosen, options, stock)
    shipments, left = _allocate(need, chosen, options, stock)
    backorder = tuple(OrderLine(s, q) for s, q in sorted(left.items()))
    reason = Reason(
        "partial",
        {
            "backorder": _fmt(left),
            "backorder_zh": _fmt(left),
            "count": len(shipments),
            "warehouses": ", ".join(s.warehouse for s in shipments),
        },
    )
    return RoutingDecision(order.id, tuple(shipments), backorder, reason)
