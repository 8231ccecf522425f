"""Storage locations and SKUs as the putaway sees them, built from the site's master data.

The site config (``edge.config`` today, ``sync.masterdata`` after the restructuring) gives zones with a
temperature class, locations with a unit capacity and SKUs with dimensions, weight, temperature class
and hazmat class. The putaway also needs each location's volume and weight limits, the hazmat classes
it may hold, whether it takes several SKUs or lots, and how far it is from the dock: ``LocationLimits``
carries what master data does not have yet, and the walking distance comes from the pick layout when
it knows the location (else the straight-line floor distance to the nearest dock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edge.floor.layout import PickGrid
from sync.masterdata import Location, Sku, TemperatureClass, Zone

STORAGE_TYPES = frozenset({"rack", "floor", "pick_face"})
"""Location types a putaway may fill; docks, staging, QC, pack stations and chargers are not storage."""

TEMPERATURE_FITS: Mapping[str, tuple[str, ...]] = {
    "ambient": ("ambient", "controlled"),  # a controlled room (15-25 C) keeps ambient goods too, at a price
    "chilled": ("chilled",),
    "frozen": ("frozen",),
    "controlled": ("controlled",),
}
"""Where goods of each temperature class may be stored (the first entry is their own class)."""


class CapacityError(ValueError):
    """A held suggestion no longer fits: something else was held there since it was made."""


@dataclass(frozen=True, slots=True)
class StorageLocation:
    code: str
    zone: str
    temperature_class: TemperatureClass
    max_units: int = 0  # 0: no limit
    max_volume_cm3: float = 0.0  # 0: no limit
    max_weight_g: float = 0.0  # 0: no limit
    hazmat_classes: frozenset[str] = frozenset()  # the hazmat classes it may hold (none: no hazmat)
    mixed_skus: bool = False
    mixed_lots: bool = True
    travel_m: float = 0.0  # walking distance from the receiving dock


@dataclass(frozen=True, slots=True)
class PutawaySku:
    code: str
    temperature_class: TemperatureClass = "ambient"
    hazmat_class: str | None = None
    unit_volume_cm3: float = 0.0  # 0: unknown, not limited by volume
    unit_weight_g: float = 0.0  # 0: unknown, not limited by weight

    @classmethod
    def from_sku(cls, sku: Sku) -> PutawaySku:
        volume = sku.length_mm * sku.width_mm * sku.height_mm / 1000
        return cls(sku.code, sku.temperature_class, sku.hazmat_class, volume, float(sku.weight_g))


@dataclass(frozen=True, slots=True)
class LocationLimits:
    """What master data does not say about a location yet (defaults: no volume or weight limit)."""

    max_volume_l: float = 0.0
    max_weight_kg: float = 0.0
    hazmat_classes: frozenset[str] = field(default_factory=frozenset)
    mixed_skus: bool = False
    mixed_lots: bool = True


def storage_locations(
    zones: Iterable[Zone],
    locations: Iterable[Location],
    *,
    grid: PickGrid | None = None,
    limits: Mapping[str, LocationLimits] | None = None,
) -> list[StorageLocation]:
    """Every storage location of the site, with its zone's temperature class and its distance to the dock."""
    zone_class = {z.code: z.temperature_class for z in zones}
    locations = list(locations)
    docks = [(loc.x, loc.y) for loc in locations if loc.type == "dock"]
    limits = limits or {}
    out = []
    for loc in locations:
        if loc.type not in STORAGE_TYPES:
            continue
        lim = limits.get(loc.code, LocationLimits())
        out.append(
            StorageLocation(
                code=loc.code,
                zone=loc.zone,
                temperature_class=zone_class[loc.zone],
                max_units=loc.capacity,
                max_volume_cm3=lim.max_volume_l * 1000,
                max_weight_g=lim.max_weight_kg * 1000,
                hazmat_classes=lim.hazmat_classes,
                mixed_skus=lim.mixed_skus,
                mixed_lots=lim.mixed_lots,
                travel_m=_travel(loc, grid, docks),
            )
        )
    return out


def _travel(loc: Location, grid: PickGrid | None, docks: list[tuple[float, float]]) -> float:
    if grid is not None and loc.code in grid.positions:
        return grid.depot_distance(grid.positions[loc.code])
    return min((math.dist((loc.x, loc.y), d) for d in docks), default=0.0)
