"""Putaway scenarios: what a warehouse engineer would check by hand."""

from __future__ import annotations

import pytest

from edge.config import parse_config
from edge.floor.layout import PickGrid, parse_layout
from edge.floor.putaway import CapacityError, Putaway, Receipt
from edge.floor.storage import LocationLimits, PutawaySku, StorageLocation, storage_locations
from edge.floor.velocity import velocity_classes
from sync.codes import gtin14

MILK = PutawaySku("MILK", "chilled", None, 1_000.0, 1_050.0)
ACETONE = PutawaySku("ACETONE", "ambient", "3", 1_200.0, 900.0)
BOLTS = PutawaySku("BOLTS", "ambient", None, 100.0, 50.0)


def chilled_row(n: int = 5, units: int = 100) -> list[StorageLocation]:
    return [StorageLocation(f"C-{i}", "CHILL", "chilled", max_units=units, travel_m=10.0 * (i + 1)) for i in range(n)]


def test_two_receipts_in_flight_do_not_fill_one_slot_twice() -> None:
    putaway = Putaway(chilled_row(2, units=10), [MILK])
    first = putaway.suggest_and_hold(Receipt("r1", "MILK", 6))
    second = putaway.suggest_and_hold(Receipt("r2", "MILK", 6))
    assert [(a.location, a.qty) for a in first.allocations] == [("C-0", 6)]
    assert ("C-0", 6) not in [(a.location, a.qty) for a in second.allocations]
    assert sum(a.qty for a in second.allocations if a.location == "C-0") <= 4


def test_a_stale_suggestion_is_refused_on_hold() -> None:
    putaway = Putaway(chilled_row(1, units=10), [MILK])
    a = putaway.suggest(Receipt("r1", "MILK", 8))
    b = putaway.suggest(Receipt("r2", "MILK", 8))
    putaway.hold(a)
    with pytest.raises(CapacityError, match=r"C-0: capacity: 2 of 8 fit \(10 units, 0 on hand, 8 on its way\)"):
        putaway.hold(b)
    putaway.release("r1")
    putaway.hold(b)


def test_stock_on_its_way_counts() -> None:
    putaway = Putaway(chilled_row(1, units=10), [MILK])
    putaway.expect("move-7", "C-0", "MILK", "", 7)
    s = putaway.suggest(Receipt("r1", "MILK", 5))
    assert [(a.location, a.qty) for a in s.allocations] == [("C-0", 3)]
    assert s.unplaced == 2
    assert "capacity: 3 of 5 fit (10 units, 0 on hand, 7 on its way)" in s.allocations[0].reasons


def test_overflow_goes_to_the_next_best() -> None:
    putaway = Putaway(chilled_row(5, units=100), [MILK])
    s = putaway.suggest_and_hold(Receipt("r1", "MILK", 250))
    assert [a.qty for a in s.allocations] == [100, 100, 50]
    assert s.unplaced == 0
    putaway.done("r1", s.allocations[0].location, 100)
    assert sorted(putaway.held("r1")) == sorted((a.location, a.qty) for a in s.allocations[1:])


def test_volume_and_weight_limit_too() -> None:
    slots = [StorageLocation("C-0", "CHILL", "chilled", max_volume_cm3=10_000, max_weight_g=1e9)]
    putaway = Putaway(slots, [MILK])
    assert putaway.suggest(Receipt("r", "MILK", 50)).allocations[0].qty == 10  # 1 litre a unit, 10 litres
    slots = [StorageLocation("C-0", "CHILL", "chilled", max_weight_g=5_000)]
    assert Putaway(slots, [MILK]).suggest(Receipt("r", "MILK", 50)).allocations[0].qty == 4  # 1.05 kg a unit


def test_temperature_and_hazmat_are_hard() -> None:
    slots = [
        StorageLocation("A-1", "AMB", "ambient", travel_m=1),
        StorageLocation("H-1", "HAZ", "ambient", hazmat_classes=frozenset({"3"}), mixed_skus=True, travel_m=50),
        StorageLocation("H-2", "HAZ", "ambient", hazmat_classes=frozenset({"3", "8"}), mixed_skus=True, travel_m=60),
        StorageLocation("R-1", "ROOM", "controlled", travel_m=2),
        StorageLocation("C-1", "CHILL", "chilled", travel_m=1),
    ]
    putaway = Putaway(slots, [MILK, ACETONE, BOLTS])
    assert {c.location for c in putaway.suggest(Receipt("m", "MILK", 1)).alternatives} == {"C-1"}
    acetone = putaway.suggest_and_hold(Receipt("a", "ACETONE", 5))
    assert {c.location for c in acetone.alternatives} == {"H-1", "H-2"}
    assert "hazmat class 3 allowed here, no other class present" in acetone.allocations[0].reasons
    bolts = putaway.suggest(Receipt("b", "BOLTS", 5))
    where = [c.location for c in bolts.alternatives]
    assert acetone.allocations[0].location not in where  # never beside hazmat goods
    assert where[0] == "A-1"  # plain ambient space before controlled or hazmat-approved space
    (problem,) = putaway.check(Receipt("b", "BOLTS", 5), acetone.allocations[0].location)
    assert problem.startswith(f"hazmat: non-hazmat goods may not go to {acetone.allocations[0].location} (allowed: 3")
    assert problem.endswith("present: 3)")
    assert putaway.check(Receipt("m", "MILK", 1), "A-1") == ["temperature: MILK is chilled, AMB is ambient"]


def test_fast_movers_near_the_dock_slow_movers_far() -> None:
    slots = [StorageLocation(f"A-{i}", "AMB", "ambient", max_units=50, travel_m=float(i)) for i in range(20)]
    skus = [PutawaySku(f"S{i}", "ambient") for i in range(3)]
    history = ["S0"] * 90 + ["S1"] * 8 + ["S2"] * 2
    classes = velocity_classes(history)
    assert classes == {"S0": "A", "S1": "B", "S2": "C"}
    putaway = Putaway(slots, skus, velocity=classes)
    near = putaway.suggest(Receipt("r0", "S0", 10)).allocations[0].location
    mid = putaway.suggest(Receipt("r1", "S1", 10)).allocations[0].location
    far = putaway.suggest(Receipt("r2", "S2", 10)).allocations[0].location
    assert int(near[2:]) < int(mid[2:]) < int(far[2:])
    assert near == "A-0"
    assert far == "A-19"
    assert any(
        r.startswith("velocity class A: 0 m from the dock")
        for r in putaway.suggest(Receipt("x", "S0", 1)).allocations[0].reasons
    )
    putaway.add_sku(PutawaySku("NEW"))  # never picked at a site with history: class C, far
    assert putaway.suggest(Receipt("r3", "NEW", 10)).allocations[0].location == "A-19"


def test_consolidation_with_the_same_sku_and_lot() -> None:
    slots = [
        StorageLocation(f"A-{i}", "AMB", "ambient", max_units=100, mixed_lots=i != 3, travel_m=float(i))
        for i in range(6)
    ]
    putaway = Putaway(slots, [BOLTS])
    putaway.add_stock("A-4", "BOLTS", "LOT-7", 10)
    putaway.add_stock("A-3", "BOLTS", "LOT-1", 10)
    s = putaway.suggest(Receipt("r", "BOLTS", 20, "LOT-7"))
    assert s.allocations[0].location == "A-4"
    assert "consolidates: BOLTS lot LOT-7 already here or on its way" in s.allocations[0].reasons
    assert "A-3" not in [
        c.location for c in putaway.suggest(Receipt("r", "BOLTS", 20, "LOT-7"), alternatives=10).alternatives
    ]
    assert putaway.check(Receipt("r", "BOLTS", 1, "LOT-7"), "A-3") == [
        "mixing: A-3 holds another SKU or lot and does not allow mixing"
    ]


def test_one_sku_per_location_unless_mixing_is_allowed() -> None:
    slots = [StorageLocation("A-0", "AMB", "ambient", travel_m=0), StorageLocation("A-1", "AMB", "ambient", travel_m=9)]
    putaway = Putaway(slots, [BOLTS, PutawaySku("NUTS")])
    putaway.add_stock("A-0", "BOLTS", "", 5)
    assert putaway.suggest(Receipt("r", "NUTS", 5)).allocations[0].location == "A-1"
    putaway.add_stock("A-0", "BOLTS", "", -5)  # picked empty: free for anything again
    assert putaway.suggest(Receipt("r", "NUTS", 5)).allocations[0].location == "A-0"
    putaway.add_sku(PutawaySku("NUTS", hazmat_class="8"))  # reclassified: now goes nowhere here
    assert putaway.suggest(Receipt("r", "NUTS", 5)).allocations == ()


def test_nothing_fits() -> None:
    putaway = Putaway(chilled_row(1, units=5), [MILK, BOLTS])
    s = putaway.suggest(Receipt("r", "BOLTS", 5))
    assert s.allocations == () and s.unplaced == 5 and s.alternatives == ()
    with pytest.raises(KeyError, match="unknown SKU 'GHOST'"):
        putaway.suggest(Receipt("r", "GHOST", 1))
    with pytest.raises(ValueError, match="qty must be positive"):
        Receipt("r", "MILK", 0)


def test_storage_locations_from_the_site_config() -> None:
    cfg = parse_config(
        {
            "site": {"gateway_id": "gw", "warehouse": "WH"},
            "zones": [{"code": "AMB"}, {"code": "CHILL", "temperature_class": "chilled"}],
            "locations": [
                {"code": "DOCK-IN", "zone": "AMB", "type": "dock", "x": 0, "y": 0},
                {"code": "P01-01L", "zone": "AMB", "capacity": 40},
                {"code": "FAR", "zone": "CHILL", "type": "floor", "x": 30, "y": 40},
                {"code": "STAGE", "zone": "AMB", "type": "staging"},
            ],
            "skus": [
                {
                    "code": "MILK",
                    "gtin": gtin14(1),
                    "temperature_class": "chilled",
                    "length_mm": 100,
                    "width_mm": 100,
                    "height_mm": 100,
                    "weight_g": 1050,
                }
            ],
        }
    )
    grid = PickGrid(
        parse_layout(
            {
                "grid": {
                    "aisles": 2,
                    "aisle_spacing_m": 3,
                    "blocks": [10],
                    "location_format": "P{aisle:02d}-{slot:02d}{side}",
                }
            }
        )
    )
    locs = storage_locations(
        cfg.zones,
        cfg.locations,
        grid=grid,
        limits={"FAR": LocationLimits(max_volume_l=500, hazmat_classes=frozenset({"8"}))},
    )
    assert [loc.code for loc in locs] == ["P01-01L", "FAR"]
    assert locs[0].max_units == 40 and locs[0].travel_m == 1.5  # from the layout's depot
    assert locs[1].temperature_class == "chilled" and locs[1].travel_m == 50.0  # straight line to the dock
    assert locs[1].max_volume_cm3 == 500_000 and locs[1].hazmat_classes == {"8"}
    assert PutawaySku.from_sku(cfg.skus[0]) == PutawaySku("MILK", "chilled", None, 1_000.0, 1_050.0)


def test_velocity_classes_split_by_visits() -> None:
    assert velocity_classes([]) == {}
    assert velocity_classes(["a"] * 5 + ["b"] * 3 + ["c"] * 2, a_share=0.5, b_share=0.8) == {
        "a": "A",
        "b": "B",
        "c": "C",
    }
    with pytest.raises(ValueError):
        velocity_classes(["a"], a_share=0.9, b_share=0.5)
