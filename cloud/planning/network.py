"""The network as data: warehouses, the lanes between them, and the carrier lanes out to customers.

Planning reads the network and never changes it, so every record is a frozen pydantic model: it is
validated once where it enters (an admin's TOML or API body) and can then be shared by the forecast,
the router and the rebalancer without copies. A ``Network`` checks what a single record cannot: codes
are unique and every lane joins known warehouses. Errors name the item and the key, as the site
config does, so ``lanes[3].destination: unknown warehouse 'SZ'`` tells an admin exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from functools import cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync.codes import Code

Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
"""A non-negative amount in the network's planning currency."""


class NetworkError(ValueError):
    """A network definition that cannot be planned on; ``where`` is the dotted path of the bad key."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Warehouse(_Record):
    """A site of the network.

    ``country`` and ``region`` pick its holiday calendar (ISO 3166-1 alpha-2 and the ISO 3166-2
    subdivision without the country prefix, e.g. ``US`` / ``CA``); ``events`` names the promotion
    events it takes part in (``None``: the country's defaults, see ``calendar.default_events``).
    """

    code: Code
    name: str = Field(default="", max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    region: str = Field(default="", max_length=8, pattern=r"^[A-Z0-9]{0,8}$")
    timezone: str = "UTC"
    latitude: float = Field(default=0.0, ge=-90, le=90)
    longitude: float = Field(default=0.0, ge=-180, le=180)
    events: tuple[str, ...] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Lane(_Record):
    """A transfer lane from one warehouse to another.

    ``capacity`` is the most units one dispatch on the lane carries (``None``: no limit) and
    ``min_shipment`` the fewest worth sending: the rebalancer never plans a dispatch outside them.
    The per-shipment cost is charged once per dispatch, whatever it carries.
    """

    origin: Code
    destination: Code
    transit_days: int = Field(ge=0, le=365)
    cost_per_unit: Money = 0.0
    cost_per_shipment: Money = 0.0
    capacity: int | None = Field(default=None, gt=0)
    min_shipment: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _sane(self) -> Lane:
        if self.origin == self.destination:
            raise ValueError("a lane joins two different warehouses")
        if self.capacity is not None and self.min_shipment > self.capacity:
            raise ValueError(f"min_shipment {self.min_shipment} is above capacity {self.capacity}")
        return self


class ServiceLane(_Record):
    """A carrier service from a warehouse to a customer delivery region.

    ``cutoff`` is the carrier's last pick-up in the warehouse's local time: an order routed after it
    ships the next day. ``ship_days`` are the ISO weekdays (1 = Monday) the carrier collects.
    """

    warehouse: Code
    region: Code
    carrier: str = Field(default="", max_length=64)
    transit_days: int = Field(ge=0, le=90)
    cutoff: time = time(17, 0)
    ship_days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    cost_per_unit: Money = 0.0
    cost_per_shipment: Money = 0.0

    @field_validator("ship_days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d < 1 or d > 7 for d in value):
            raise ValueError("ship_days are ISO weekdays 1..7, at least one")
        return tuple(sorted(set(value)))


class Network(_Record):
    """Warehouses, transfer lanes and customer service lanes, checked against each other."""

    warehouses: tuple[Warehouse, ...]
    lanes: tuple[Lane, ...] = ()
    service_lanes: tuple[ServiceLane, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Network:
        seen: set[str] = set()
        for i, w in enumerate(self.warehouses):
            if w.code in seen:
                raise NetworkError(f"warehouses[{i}].code", f"duplicate warehouse {w.code!r}")
            seen.add(w.code)
        pairs: set[tuple[str, str]] = set()
        for i, lane in enumerate(self.lanes):
            for key in ("origin", "destination"):
                if getattr(lane, key) not in seen:
                    raise NetworkError(f"lanes[{i}].{key}", f"unknown warehouse {getattr(lane, key)!r}")
            if (lane.origin, lane.destination) in pairs:
                raise NetworkError(f"lanes[{i}]", f"a second lane {lane.origin} -> {lane.destination}")
            pairs.add((lane.origin, lane.destination))
        for i, s in enumerate(self.service_lanes):
            if s.warehouse not in seen:
                raise NetworkError(f"service_lanes[{i}].warehouse", f"unknown warehouse {s.warehouse!r}")
        return self

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Network:
        """Validate a mapping (a TOML table, a JSON body) into a network; any error as one ``NetworkError``."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            inner = first.get("ctx", {}).get("error")
            if isinstance(inner, NetworkError):
                raise inner from None
            where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"]).replace(".[", "[")
            raise NetworkError(where or "network", first["msg"]) from None

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warehouses)

    @cached_property
    def by_code(self) -> dict[str, Warehouse]:
        return {w.code: w for w in self.warehouses}

    def lane(self, origin: str, destination: str) -> Lane | None:
        return self._lanes_by_pair.get((origin, destination))

    @cached_property
    def _lanes_by_pair(self) -> dict[tuple[str, str], Lane]:
        return {(lane.origin, lane.destination): lane for lane in self.lanes}

    def service_to(self, region: str) -> tuple[ServiceLane, ...]:
        """Every carrier service that delivers to ``region``, in network order."""
        return tuple(s for s in self.service_lanes if s.region == region)


def network_of(
    warehouses: Iterable[Warehouse], lanes: Iterable[Lane] = (), service_lanes: Iterable[ServiceLane] = ()
) -> Network:
    """A network from records already validated one by one (the cloud's tables)."""
    return Network(warehouses=tuple(warehouses), lanes=tuple(lanes), service_lanes=tuple(service_lanes))
