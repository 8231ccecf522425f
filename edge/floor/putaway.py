"""Putaway suggestions: where a receipt should go, with the reasons, never breaking a hard limit.

Every storage location is scored for a receipt (SKU, lot, quantity). Hard constraints first; a
location failing one is never suggested:

- temperature: the SKU's class must match the zone's (ambient goods may also go to a ``controlled``
  room, at a penalty: that space is dearer);
- hazmat: a hazmat SKU only where its class is allowed, and never beside another class or beside
  non-hazmat goods; non-hazmat goods never beside hazmat goods;
- capacity in units, volume and weight, counting what is there **plus everything on its way**: open
  moves into the location and putaways suggested but not yet done (``hold``). Forgetting the second
  is the known failure of other systems: two receipts suggested in the same minute fill one slot twice;
- one SKU per location unless it allows mixing, and one lot per SKU unless it allows mixing lots.

Then a score ranks the rest: the velocity class from the site's own pick history against the
location's distance from the dock (A near, C far, B between; ranked within the temperature class, so
the nearest chilled slots are the chilled fast movers'), consolidation with the same SKU and lot,
whether the whole receipt fits, how full the slot ends up (fill slots rather than spread thin), and
small penalties for taking hazmat-approved or controlled space without need. A receipt too big for
the best slot overflows to the next best, and so on: ``allocations`` can be several.

Speed: a site of 20,000 locations and 5,000 SKUs must answer in milliseconds on the appliance, so the
per-location state lives in numpy arrays (limits, what is there, what is coming, distance rank,
hazmat bits) indexed once by temperature class, and a suggestion is a handful of vector operations
over the locations of one temperature class; reasons are written only for the few results returned.
``bench/putaway.py`` measures it. The core is pure and single-threaded: the caller (the gateway's floor
runner) feeds it stock changes and serialises calls.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.floor.storage import TEMPERATURE_FITS, CapacityError, PutawaySku, StorageLocation
from edge.floor.suggestion import Allocation, Candidate, PutawaySuggestion, Receipt, ScoreWeights
from edge.floor.velocity import VelocityClass

_TARGET_RANK = {"A": 0.0, "B": 0.5, "C": 1.0}
NON_HAZMAT, MIXED_HAZMAT = -1, -2  # hz_present besides 0 (empty) and a hazmat class id


@dataclass(slots=True)
class _Content:
    """What one location holds and expects: quantities per (sku, lot), on hand and on its way."""

    on_hand: Counter[tuple[str, str]] = field(default_factory=Counter)
    coming: Counter[tuple[str, str]] = field(default_factory=Counter)
    skus: dict[str, set[str]] = field(default_factory=dict)  # sku -> lots, as last counted


class Putaway:
    """Scores locations for receipts; knows stock on hand, stock on its way and suggestions held."""

    def __init__(
        self,
        locations: Sequence[StorageLocation],
        skus: Iterable[PutawaySku],
        *,
        velocity: Mapping[str, VelocityClass] | None = None,
        weights: ScoreWeights | None = None,
    ) -> None:
        self.locations = list(locations)
        self.index = {loc.code: i for i, loc in enumerate(self.locations)}
        if len(self.index) != len(self.locations):
            raise ValueError("duplicate location codes")
        self.skus = {s.code: s for s in skus}
        self.velocity: Mapping[str, VelocityClass] = velocity or {}
        self.weights = weights or ScoreWeights()
        n = len(self.locations)
        classes = sorted(
            {h for loc in self.locations for h in loc.hazmat_classes}
            | {s.hazmat_class for s in self.skus.values() if s.hazmat_class}
        )
        if len(classes) > 62:
            raise ValueError("more than 62 hazmat classes")
        self._hz_bit = {h: 1 << i for i, h in enumerate(classes)}
        self._hz_id = {h: i + 1 for i, h in enumerate(classes)}
        inf = np.inf
        self.max_units = np.array([loc.max_units or inf for loc in self.locations], dtype=float)
        self.max_volume = np.array([loc.max_volume_cm3 or inf for loc in self.locations], dtype=float)
        self.max_weight = np.array([loc.max_weight_g or inf for loc in self.locations], dtype=float)
        self.hz_allowed = np.array(
            [sum(self._hz_bit[h] for h in loc.hazmat_classes) for loc in self.locations], dtype=np.int64
        )
        self.mixed_skus = np.array([loc.mixed_skus for loc in self.locations], dtype=bool)
        self.mixed_lots = np.array([loc.mixed_lots for loc in self.locations], dtype=bool)
        self.travel = np.array([loc.travel_m for loc in self.locations], dtype=float)
        self._temp_ids = {tc: n for n, tc in enumerate(TEMPERATURE_FITS)}
        self.temp_id = np.array([self._temp_ids[loc.temperature_class] for loc in self.locations], dtype=np.int8)
        self._by_fit: dict[str, np.ndarray] = {}
        self.rank = np.zeros(n)
        self.by_temperature: dict[str, np.ndarray] = {}
        for tc in {loc.temperature_class for loc in self.locations}:
            idx = np.array([i for i, loc in enumerate(self.locations) if loc.temperature_class == tc], dtype=np.int64)
            self.by_temperature[tc] = idx
            order = np.argsort(self.travel[idx], kind="stable")
            self.rank[idx[order]] = np.arange(len(idx)) / max(1, len(idx) - 1)
        # what is there and what is coming, per location (sums kept in arrays for the vector scoring)
        self.units = np.zeros((2, n))  # [0] on hand, [1] on its way
        self.volume = np.zeros(n)
        self.weight = np.zeros(n)
        self.sku_count = np.zeros(n, dtype=np.int32)
        self.hz_present = np.zeros(n, dtype=np.int32)  # 0 none, else a hazmat class id; -1 non-hazmat goods
        self._content: dict[int, _Content] = {}
        self._sku_at: dict[str, dict[int, set[str]]] = defaultdict(dict)  # sku -> location -> lots
        self._held: dict[str, list[tuple[int, str, str, int]]] = {}

    def add_sku(self, sku: PutawaySku) -> None:
        """A new or changed SKU (master data from the cloud); locations holding it are recounted."""
        if sku.hazmat_class and sku.hazmat_class not in self._hz_bit:
            if len(self._hz_bit) >= 62:
                raise ValueError("more than 62 hazmat classes")
            self._hz_bit[sku.hazmat_class] = 1 << len(self._hz_bit)
            self._hz_id[sku.hazmat_class] = len(self._hz_id) + 1
        self.skus[sku.code] = sku
        for i in list(self._sku_at.get(sku.code, {})):
            self._recount(i, self._content[i])

    # -- what is there -------------------------------------------------------------------------

    def add_stock(self, location: str, sku: str, lot: str, qty: int) -> None:
        """Stock on hand changed (a receipt or putaway done, a pick, a move, a count): ``qty`` signed."""
        i = self._loc(location)
        self._change(i, sku, lot, qty, coming=False)

    def set_stock(self, lines: Iterable[tuple[str, str, str, int]]) -> None:
        """Replace everything on hand with ``(location, sku, lot, qty)`` lines (at start, from the journal)."""
        for i, content in list(self._content.items()):
            for (sku, lot), qty in list(content.on_hand.items()):
                self._change(i, sku, lot, -qty, coming=False)
        for location, sku, lot, qty in lines:
            self.add_stock(location, sku, lot, qty)

    def expect(self, key: str, location: str, sku: str, lot: str, qty: int) -> None:
        """Stock on its way to ``location`` under ``key`` (an open move, transfer or putaway task)."""
        if key in self._held:
            raise ValueError(f"{key!r} is already on its way")
        i = self._loc(location)
        self._held[key] = [(i, sku, lot, qty)]
        self._change(i, sku, lot, qty, coming=True)

    def hold(self, suggestion: PutawaySuggestion) -> None:
        """Count a suggestion's allocations as on their way until ``done`` or ``release``.

        Raises ``CapacityError`` if an allocation no longer fits (something else was held since the
        suggestion was made): suggest again. ``suggest_and_hold`` does both at once.
        """
        if suggestion.key in self._held:
            raise ValueError(f"{suggestion.key!r} is already held")
        receipt = Receipt(suggestion.key, suggestion.sku, suggestion.qty, suggestion.lot)
        for a in suggestion.allocations:
            problems = self.check(receipt, a.location, qty=a.qty)
            if problems:
                raise CapacityError(f"{a.location}: {'; '.join(problems)}")
        held = [(self.index[a.location], suggestion.sku, suggestion.lot, a.qty) for a in suggestion.allocations]
        self._held[suggestion.key] = held
        for i, sku, lot, qty in held:
            self._change(i, sku, lot, qty, coming=True)

    def release(self, key: str) -> None:
        """The suggestion or move was cancelled: its space is free again (unknown keys are ignored)."""
        for i, sku, lot, qty in self._held.pop(key, []):
            self._change(i, sku, lot, -qty, coming=True)

    def done(self, key: str, location: str, qty: int) -> None:
        """Part or all of ``key`` was put away: ``qty`` units at ``location`` (suggested, or an override).

        The hold shrinks by ``qty``, first at ``location``, then from the other allocations in order;
        the units are on hand at ``location``. Once nothing is left held, the key is forgotten.
        """
        held = self._held.get(key)
        if not held:
            raise KeyError(f"nothing held under {key!r}")
        at = self._loc(location)
        _, sku, lot, _ = held[0]
        left, rest = qty, []
        for i, s, lt, q in sorted(held, key=lambda h: h[0] != at):
            take = min(left, q)
            left -= take
            if take:
                self._change(i, s, lt, -take, coming=True)
            if q > take:
                rest.append((i, s, lt, q - take))
        if rest:
            self._held[key] = rest
        else:
            del self._held[key]
        self.add_stock(location, sku, lot, qty)

    def held(self, key: str) -> list[tuple[str, int]]:
        """What is still held under ``key``: (location, units) pairs."""
        return [(self.locations[i].code, q) for i, _, _, q in self._held.get(key, [])]

    # -- scoring -------------------------------------------------------------------------------

    def suggest(self, receipt: Receipt, *, alternatives: int = 5, max_split: int = 20) -> PutawaySuggestion:
        """Ranked locations for ``receipt``; ``allocations`` place as much as fits (overflow to the next)."""
        sku = self._sku(receipt.sku)
        idx, fits, score = self._score(sku, receipt)
        k = min(len(idx), max(alternatives, max_split))
        best = np.argpartition(-score, k - 1)[:k] if 0 < k < len(idx) else np.arange(len(idx))
        best = best[np.argsort(-score[best], kind="stable")]
        ranked = [(int(idx[n]), int(fits[n]), round(float(score[n]), 3)) for n in best.tolist()]
        allocations, left = [], receipt.qty
        for i, fit, sc in ranked[:max_split]:
            if left <= 0:
                break
            take = min(left, fit)
            allocations.append(Allocation(self.locations[i].code, take, sc, self._reasons(i, sku, receipt, fit)))
            left -= take
        cands = [
            Candidate(self.locations[i].code, fit, sc, self._reasons(i, sku, receipt, fit))
            for i, fit, sc in ranked[:alternatives]
        ]
        return PutawaySuggestion(
            receipt.key, receipt.sku, receipt.lot, receipt.qty, tuple(allocations), left, tuple(cands)
        )

    def suggest_and_hold(self, receipt: Receipt, *, alternatives: int = 5, max_split: int = 20) -> PutawaySuggestion:
        """``suggest`` then ``hold``: what a putaway task is created with."""
        suggestion = self.suggest(receipt, alternatives=alternatives, max_split=max_split)
        self.hold(suggestion)
        return suggestion

    def check(self, receipt: Receipt, location: str, *, qty: int | None = None) -> list[str]:
        """Why ``location`` cannot take the receipt (empty: it can); for an operator's override scan."""
        sku = self._sku(receipt.sku)
        i = self._loc(location)
        at = np.array([i])
        loc = self.locations[i]
        problems = []
        if loc.temperature_class not in TEMPERATURE_FITS[sku.temperature_class]:
            problems.append(
                f"temperature: {sku.code} is {sku.temperature_class}, {loc.zone} is {loc.temperature_class}"
            )
        if not self._hazmat_ok(sku, at)[0]:
            what = f"hazmat class {sku.hazmat_class}" if sku.hazmat_class else "non-hazmat goods"
            problems.append(f"hazmat: {what} may not go to {loc.code}{self._hz_note(i)}")
        fit = int(self._fits(sku, at)[0])
        want = receipt.qty if qty is None else qty
        if fit < want:
            problems.append(f"capacity: {fit} of {want} fit ({self._load_note(i)})")
        if not self._mix_ok(sku, receipt.lot, at)[0]:
            problems.append(f"mixing: {loc.code} holds another SKU or lot and does not allow mixing")
        return problems

    def _candidates(self, temperature_class: str) -> np.ndarray:
        """Sorted indexes of the locations goods of this temperature class may go to (cached)."""
        idx = self._by_fit.get(temperature_class)
        if idx is None:
            parts = [self.by_temperature[tc] for tc in TEMPERATURE_FITS[temperature_class] if tc in self.by_temperature]
            idx = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            self._by_fit[temperature_class] = idx
        return idx

    def _score(self, sku: PutawaySku, receipt: Receipt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Feasible locations, the units that fit at each, and their scores (higher is better)."""
        w = self.weights
        idx = self._candidates(sku.temperature_class)
        idx = idx[self._hazmat_ok(sku, idx) & self._mix_ok(sku, receipt.lot, idx)]
        fits = self._fits(sku, idx)
        ok = fits >= 1
        idx, fits = idx[ok], fits[ok]
        cls = self._class(sku.code)
        if cls is None:  # no pick history yet: nearer is better, gently
            score = w.velocity * 0.5 * (1 - self.rank[idx])
        else:
            score = w.velocity * (1 - np.abs(self.rank[idx] - _TARGET_RANK[cls]))
        score += w.fit * np.minimum(fits / receipt.qty, 1.0)
        after = self.units[0, idx] + self.units[1, idx] + np.minimum(fits, receipt.qty)
        bounded = np.isfinite(self.max_units[idx])
        score += w.fill * np.where(bounded, after / np.where(bounded, self.max_units[idx], 1.0), 0.0)
        for i, lots in self._sku_at.get(sku.code, {}).items():
            n = int(np.searchsorted(idx, i))
            if n < len(idx) and idx[n] == i:
                score[n] += w.consolidation * (1.0 if receipt.lot in lots else 0.4)
        if not sku.hazmat_class:
            score -= w.hazmat_space * (self.hz_allowed[idx] != 0)
        score -= w.temperature_upgrade * (self.temp_id[idx] != self._temp_ids[sku.temperature_class])
        return idx, fits, score

    def _class(self, sku: str) -> VelocityClass | None:
        """The SKU's velocity class; C if never picked at a site with history; None without history."""
        if not self.velocity:
            return None
        return self.velocity.get(sku, "C")

    def _fits(self, sku: PutawaySku, idx: np.ndarray) -> np.ndarray:
        """Units of ``sku`` that still fit at each location, on hand and on its way both counted."""
        used = self.units[0, idx] + self.units[1, idx]
        free = self.max_units[idx] - used
        if sku.unit_volume_cm3 > 0:
            free = np.minimum(free, (self.max_volume[idx] - self.volume[idx]) / sku.unit_volume_cm3 + 1e-9)
        if sku.unit_weight_g > 0:
            free = np.minimum(free, (self.max_weight[idx] - self.weight[idx]) / sku.unit_weight_g + 1e-9)
        free = np.where(np.isfinite(free), np.floor(np.maximum(free, 0.0)), 10**12)
        return free.astype(np.int64)

    def _hazmat_ok(self, sku: PutawaySku, idx: np.ndarray) -> np.ndarray:
        present = self.hz_present[idx]
        if sku.hazmat_class:
            bit, cls = self._hz_bit[sku.hazmat_class], self._hz_id[sku.hazmat_class]
            ok: np.ndarray = ((self.hz_allowed[idx] & bit) != 0) & ((present == 0) | (present == cls))
        else:
            ok = (present == 0) | (present == NON_HAZMAT)
        return ok

    def _mix_ok(self, sku: PutawaySku, lot: str, idx: np.ndarray) -> np.ndarray:
        """Locations that would not mix SKUs or lots where that is not allowed (``idx`` sorted)."""
        others = self.sku_count[idx].copy()
        lot_clash = np.zeros(len(idx), dtype=bool)
        for i, lots in self._sku_at.get(sku.code, {}).items():
            n = int(np.searchsorted(idx, i))
            if n < len(idx) and idx[n] == i:
                others[n] -= 1
                lot_clash[n] = bool(lots - {lot})
        ok: np.ndarray = (self.mixed_skus[idx] | (others == 0)) & (self.mixed_lots[idx] | ~lot_clash)
        return ok

    # -- bookkeeping ---------------------------------------------------------------------------

    def _change(self, i: int, sku: str, lot: str, qty: int, *, coming: bool) -> None:
        self._sku(sku)
        content = self._content.setdefault(i, _Content())
        bucket = content.coming if coming else content.on_hand
        bucket[(sku, lot)] += qty
        if bucket[(sku, lot)] == 0:
            del bucket[(sku, lot)]
        self._recount(i, content)

    def _recount(self, i: int, content: _Content) -> None:
        """Sums and flags of one location from its content (a few lines: cheap, and never drifts).

        A negative quantity on hand (a site allowing negative stock) counts as nothing there.
        """
        qty: Counter[tuple[str, str]] = Counter()
        for bucket, row in ((content.on_hand, 0), (content.coming, 1)):
            total = 0
            for key, q in bucket.items():
                if q > 0:
                    qty[key] += q
                    total += q
            self.units[row, i] = total
        skus: dict[str, set[str]] = defaultdict(set)
        volume = weight = 0.0
        for (code, lot), q in qty.items():
            s = self.skus[code]
            volume += q * s.unit_volume_cm3
            weight += q * s.unit_weight_g
            skus[code].add(lot)
        self.volume[i], self.weight[i] = volume, weight
        self.sku_count[i] = len(skus)
        classes = {self.skus[c].hazmat_class for c in skus}
        if not classes:
            self.hz_present[i] = 0
        elif len(classes) > 1:
            self.hz_present[i] = MIXED_HAZMAT  # only stock recorded from outside can do this: refuse all
        else:
            only = classes.pop()
            self.hz_present[i] = NON_HAZMAT if only is None else self._hz_id[only]
        for code in content.skus.keys() - skus.keys():
            self._sku_at[code].pop(i, None)
        for code, lots in skus.items():
            self._sku_at[code][i] = lots
        content.skus = dict(skus)
        if not content.on_hand and not content.coming:
            del self._content[i]

    def _loc(self, code: str) -> int:
        try:
            return self.index[code]
        except KeyError:
            raise KeyError(f"unknown storage location {code!r}") from None

    def _sku(self, code: str) -> PutawaySku:
        try:
            return self.skus[code]
        except KeyError:
            raise KeyError(f"unknown SKU {code!r}") from None

    # -- reasons -------------------------------------------------------------------------------

    def _load_note(self, i: int) -> str:
        loc = self.locations[i]
        cap = f"{loc.max_units} units" if loc.max_units else "no unit limit"
        return f"{cap}, {int(self.units[0, i])} on hand, {int(self.units[1, i])} on its way"

    def _hz_note(self, i: int) -> str:
        allowed = ", ".join(sorted(self.locations[i].hazmat_classes)) or "none"
        return f" (allowed: {allowed}; present: {self._present_hazmat(i)})"

    def _present_hazmat(self, i: int) -> str:
        content = self._content.get(i)
        if content is None:
            return "nothing"
        classes = {self.skus[c].hazmat_class or "non-hazmat" for c in content.skus}
        return ", ".join(sorted(classes)) or "nothing"

    def _reasons(self, i: int, sku: PutawaySku, receipt: Receipt, fits: int) -> tuple[str, ...]:
        loc = self.locations[i]
        out = [f"temperature: {sku.temperature_class} goods in {loc.zone} ({loc.temperature_class})"]
        if loc.temperature_class != sku.temperature_class:
            out.append(f"{loc.temperature_class} space used for {sku.temperature_class} goods (scored lower)")
        if sku.hazmat_class:
            out.append(f"hazmat class {sku.hazmat_class} allowed here, no other class present")
        fit_text = "all" if fits >= receipt.qty else f"{fits} of {receipt.qty}"
        out.append(f"capacity: {fit_text} fit ({self._load_note(i)})")
        lots = self._sku_at.get(sku.code, {}).get(i)
        if lots and receipt.lot in lots:
            out.append(f"consolidates: {sku.code} lot {receipt.lot or '-'} already here or on its way")
        elif lots:
            out.append(f"consolidates: {sku.code} (another lot) already here or on its way")
        cls = self._class(sku.code)
        where = f"{loc.travel_m:.0f} m from the dock, nearer than {1 - self.rank[i]:.0%} of its temperature class"
        out.append(f"velocity class {cls}: {where}" if cls else f"no pick history yet: {where}")
        return tuple(out)


__all__ = [
    "Allocation",
    "Candidate",
    "CapacityError",
    "Putaway",
    "PutawaySku",
    "PutawaySuggestion",
    "Receipt",
    "ScoreWeights",
    "StorageLocation",
]
