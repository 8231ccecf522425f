"""Putaway never breaks a hard constraint, with any number of receipts in flight at once.

A state machine receives goods (each suggestion held, not done), completes some (at the suggested
place or part of it), cancels others, picks stock away, and records moves on their way; after every
step an independent recount of what each location holds and expects checks temperature, hazmat,
mixing and capacity in units, volume and weight.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from edge.floor.putaway import Putaway, Receipt
from edge.floor.storage import TEMPERATURE_FITS, PutawaySku, StorageLocation

CLASSES = ["ambient", "chilled", "frozen", "controlled"]
HAZMAT = [None, None, None, "3", "8"]


@st.composite
def sites(draw: st.DrawFn) -> tuple[list[StorageLocation], list[PutawaySku]]:
    n = draw(st.integers(1, 25))
    locations = [
        StorageLocation(
            code=f"L{i}",
            zone=f"Z-{i % 3}",
            temperature_class=draw(st.sampled_from(CLASSES)),
            max_units=draw(st.sampled_from([0, 5, 20, 100])),
            max_volume_cm3=draw(st.sampled_from([0.0, 10_000.0, 60_000.0])),
            max_weight_g=draw(st.sampled_from([0.0, 8_000.0, 50_000.0])),
            hazmat_classes=draw(st.sampled_from([frozenset(), frozenset({"3"}), frozenset({"3", "8"})])),
            mixed_skus=draw(st.booleans()),
            mixed_lots=draw(st.booleans()),
            travel_m=draw(st.floats(0, 200)),
        )
        for i in range(n)
    ]
    skus = [
        PutawaySku(
            code=f"S{j}",
            temperature_class=draw(st.sampled_from(CLASSES)),
            hazmat_class=draw(st.sampled_from(HAZMAT)),
            unit_volume_cm3=draw(st.sampled_from([0.0, 500.0, 2_500.0])),
            unit_weight_g=draw(st.sampled_from([0.0, 300.0, 1_200.0])),
        )
        for j in range(draw(st.integers(1, 8)))
    ]
    return locations, skus


class PutawayMachine(RuleBasedStateMachine):
    held = Bundle("held")

    @initialize(site=sites(), velocity=st.booleans())
    def build(self, site: tuple[list[StorageLocation], list[PutawaySku]], velocity: bool) -> None:
        self.locations = {loc.code: loc for loc in site[0]}
        self.skus = {s.code: s for s in site[1]}
        classes: Any = {s: "ABC"[n % 3] for n, s in enumerate(self.skus)} if velocity else None
        self.putaway = Putaway(site[0], site[1], velocity=classes)
        self.on_hand: Counter[tuple[str, str, str]] = Counter()  # (location, sku, lot)
        self.coming: dict[str, list[tuple[str, str, str, int]]] = {}  # key -> (location, sku, lot, qty)
        self.n = 0

    def _key(self) -> str:
        self.n += 1
        return f"k{self.n}"

    @rule(target=held, sku=st.integers(0, 7), qty=st.integers(1, 60), lot=st.sampled_from(["", "L1", "L2"]))
    def receive(self, sku: int, qty: int, lot: str) -> str:
        code = sorted(self.skus)[sku % len(self.skus)]
        key = self._key()
        s = self.putaway.suggest_and_hold(Receipt(key, code, qty, lot))
        assert sum(a.qty for a in s.allocations) + s.unplaced == qty
        assert len({a.location for a in s.allocations}) == len(s.allocations)
        assert all(a.qty > 0 and a.reasons for a in s.allocations)
        self.coming[key] = [(a.location, code, lot, a.qty) for a in s.allocations]
        return key

    @rule(key=consumes(held), part=st.booleans())
    def complete(self, key: str, part: bool) -> None:
        lines = self.coming.pop(key)
        if not lines:
            return
        location, sku, lot, qty = lines[0]
        qty = max(1, qty // 2) if part else qty
        self.putaway.done(key, location, qty)
        self.on_hand[(location, sku, lot)] += qty
        rest = [(location, sku, lot, lines[0][3] - qty)] if lines[0][3] > qty else []
        rest += lines[1:]
        if rest:
            self.coming[key] = rest
            assert sorted(self.putaway.held(key)) == sorted((loc, q) for loc, _, _, q in rest)

    @rule(key=consumes(held))
    def cancel(self, key: str) -> None:
        self.coming.pop(key, None)
        self.putaway.release(key)

    @rule(data=st.data())
    def pick(self, data: st.DataObject) -> None:
        stock = sorted(k for k, q in self.on_hand.items() if q > 0)
        if not stock:
            return
        location, sku, lot = data.draw(st.sampled_from(stock))
        qty = data.draw(st.integers(1, self.on_hand[(location, sku, lot)]))
        self.putaway.add_stock(location, sku, lot, -qty)
        self.on_hand[(location, sku, lot)] -= qty

    @rule(target=held, data=st.data())
    def move_on_its_way(self, data: st.DataObject) -> str:
        """An open move towards a location the putaway allows (the floor checks moves the same way)."""
        key = self._key()
        sku = data.draw(st.sampled_from(sorted(self.skus)))
        location = data.draw(st.sampled_from(sorted(self.locations)))
        qty = data.draw(st.integers(1, 10))
        if self.putaway.check(Receipt(key, sku, qty), location):
            self.coming[key] = []
            return key
        self.putaway.expect(key, location, sku, "", qty)
        self.coming[key] = [(location, sku, "", qty)]
        return key

    @invariant()
    def no_hard_constraint_broken(self) -> None:
        if not hasattr(self, "putaway"):
            return
        at: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        for (location, sku, lot), q in self.on_hand.items():
            if q > 0:
                at[location][(sku, lot)] += q
        for lines in self.coming.values():
            for location, sku, lot, q in lines:
                at[location][(sku, lot)] += q
        for code, content in at.items():
            loc = self.locations[code]
            skus = [self.skus[s] for s, _ in content]
            units = sum(content.values())
            volume = sum(q * self.skus[s].unit_volume_cm3 for (s, _), q in content.items())
            weight = sum(q * self.skus[s].unit_weight_g for (s, _), q in content.items())
            assert not loc.max_units or units <= loc.max_units, (code, units, loc.max_units)
            assert not loc.max_volume_cm3 or volume <= loc.max_volume_cm3 + 1e-6, (code, volume)
            assert not loc.max_weight_g or weight <= loc.max_weight_g + 1e-6, (code, weight)
            for s in skus:
                assert loc.temperature_class in TEMPERATURE_FITS[s.temperature_class], (code, s)
                assert s.hazmat_class is None or s.hazmat_class in loc.hazmat_classes, (code, s)
            hazmat = {s.hazmat_class for s in skus}
            assert len(hazmat) <= 1, (code, hazmat)  # one hazmat class, and never beside non-hazmat goods
            if not loc.mixed_skus:
                assert len({s.code for s in skus}) <= 1, (code, content)
            if not loc.mixed_lots:
                lots: dict[str, set[str]] = defaultdict(set)
                for s, lot in content:
                    lots[s].add(lot)
                assert all(len(v) <= 1 for v in lots.values()), (code, content)
            assert (
                self.putaway.units[0, self.putaway.index[code]] + self.putaway.units[1, self.putaway.index[code]]
                == units
            )


TestPutawayNeverBreaksAHardConstraint = PutawayMachine.TestCase
TestPutawayNeverBreaksAHardConstraint.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
