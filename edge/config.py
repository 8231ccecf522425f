"""Site configuration: one TOML file per warehouse, validated at the edge of the system.

Everything a gateway needs to start is here: who it is, where its journal lives, its master data
(zones, locations, SKUs, operators, inbound and outbound orders) and its devices. A bad file is
refused at start with the file name and the dotted path of the bad key.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.fleet.config import FleetConfig
from edge.floor.layout import LayoutError, parse_layout
from edge.floor.settings import FloorSettings, HandoffSettings
from sync.codes import Code
from sync.masterdata import InboundOrder, Location, Operator, OutboundOrder, Sku, Zone

__all__ = [
    "ApiSection",
    "ConfigError",
    "Device",
    "InboundOrder",
    "Location",
    "LogSection",
    "Operator",
    "OutboundOrder",
    "SiteConfig",
    "SiteSection",
    "Sku",
    "StoreSection",
    "SyncSection",
    "Zone",
    "load_config",
    "parse_config",
]


class ConfigError(ValueError):
    """A site config that cannot be used; the message names the file and the key."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSection(_Strict):
    gateway_id: Code
    warehouse: Code = Field(description="Warehouse code, the same in the cloud.")
    name: str = ""
    timezone: str = "UTC"
    allow_negative_stock: bool = Field(
        default=False,
        description="Keep (and flag) an op that takes stock below zero instead of refusing it.",
    )


class StoreSection(_Strict):
    path: Path = Path("var/wims-edge.sqlite")
    synchronous: Literal["FULL", "EXTRA"] = Field(
        default="FULL",
        description="SQLite synchronous level. FULL fsyncs the WAL on every commit, so an acknowledged "
        "op survives power loss; NORMAL would not, and is not offered.",
    )
    max_batch: int = Field(default=2000, ge=1, le=100_000, description="Most ops in one group commit.")
    queue_limit: int = Field(
        default=20_000, ge=1, description="Appends waiting for the writer before callers are held back."
    )
    inline_commit_below_ms: float = Field(
        default=1.0,
        ge=0,
        le=1000,
        description="While recent commits (fsyncs) take less than this, the journal commits on its event "
        "loop (a hand-off to its writer thread costs more than a fast fsync); slower ones run on the "
        "thread, so a slow disk never stalls the gateway. 0 always uses the thread.",
    )
    telemetry_max_raw: int = Field(default=200_000, ge=100, description="Raw readings kept before thinning.")
    telemetry_max_aggregates: int = Field(default=500_000, ge=100, description="1-minute aggregates kept.")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


class ApiSection(_Strict):
    """The local HTTP API. Reachable from the network only with a token: whoever can post an op can
    move stock."""

    host: str = Field(default="127.0.0.1", description="Listen address; anything but loopback needs a token.")
    port: int = Field(default=8470, ge=0, le=65535)
    token: str | None = Field(
        default=None,
        min_length=16,
        description="Callers of /v1/* send `Authorization: Bearer <token>`; /healthz and /metrics stay open.",
    )
    token_file: Path | None = Field(default=None, description="Read the token from this file instead.")
    max_body_bytes: int = Field(
        default=8 << 20,
        ge=1024,
        le=1 << 30,
        description="Largest request body (a handheld's photo is up to 8 MiB); a larger one gets 413 naming it.",
    )

    operator_sessions: Literal["optional", "required"] = Field(
        default="optional",
        description="`required`: every /v1 call but GETs and the login itself needs an operator session"
        " (X-WIMS-Session header); `optional`: without one the API token admits the caller, and the body's"
        " actor is taken as before.",
    )
    session_minutes: int = Field(
        default=600, ge=1, le=7 * 24 * 60, description="How long an operator session lasts (a shift, by default)."
    )

    @model_validator(mode="after")
    def _network_needs_a_token(self) -> ApiSection:
        if self.token is None and self.token_file is None and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from the network, so the API needs a token: set api.token_file"
                " (or api.token), or listen on 127.0.0.1"
            )
        return self

    def resolved_token(self) -> str | None:
        """The token callers must send; ``None`` when the API is open (loopback, no token set)."""
        if self.token:
            return self.token
        if self.token_file is None:
            return None
        try:
            token = self.token_file.read_text().strip()
        except OSError as exc:
            raise ValueError(f"api.token_file {str(self.token_file)!r}: cannot read: {exc.strerror}") from None
        if len(token) < 16:
            raise ValueError(f"api.token_file {str(self.token_file)!r}: the token must have at least 16 characters")
        return token


class SyncSection(_Strict):
    """How this gateway reaches the cloud. Without ``url`` the gateway runs on its own."""

    url: str | None = Field(default=None, pattern=r"^https?://", description="Cloud base URL.")
    token: str | None = Field(default=None, description="The gateway token printed by `wims cloud gateway add`.")
    token_file: Path | None = Field(default=None, description="Read the token from this file instead.")
    ca_file: Path | None = Field(default=None, description="Verify the cloud against this CA (PEM).")
    batch_max_ops: int = Field(default=500, ge=1, le=10_000)
    batch_max_bytes: int = Field(default=1 << 20, ge=1024)
    gzip: bool = True
    poll_wait_seconds: float = Field(default=25.0, gt=0, le=300, description="Long-poll wait for commands.")
    timeout_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    head_check_seconds: float = Field(
        default=60.0, gt=0, description="When idle, how often to ask the cloud whether its high-water mark went back."
    )
    retention_days: float = Field(
        default=30.0, ge=0, description="Acknowledged ops older than this are compacted (the chain checkpoint stays)."
    )
    compact_every_seconds: float = Field(default=3600.0, gt=0)
    status_seconds: float = Field(
        default=15.0, gt=0, description="How often the gateway tells the cloud its backlog and parts' health."
    )

    def resolved_token(self) -> str:
        if self.token:
            return self.token
        if self.token_file is not None:
            return self.token_file.read_text().strip()
        raise ValueError("sync.url is set but neither sync.token nor sync.token_file is")


class LogSection(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"


class RulesSection(_Strict):
    file: Path | None = Field(
        default=None,
        description="The site's rules file (TOML, see edge/rules/engine.py); relative to the site file. "
        "Default: the built-in edge/rules/default.toml.",
    )


class Device(_Strict):
    """A configured device. Each driver reads its own keys from ``options``; ``kind`` picks the driver."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Code
    kind: Literal["rfid", "scanner", "camera", "modbus", "badge"]
    enabled: bool = True
    zone: Code | None = None
    location: Code | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class SiteConfig(_Strict):
    site: SiteSection
    store: StoreSection = StoreSection()
    api: ApiSection = ApiSection()
    sync: SyncSection = SyncSection()
    log: LogSection = LogSection()
    rules: RulesSection = RulesSection()
    zones: list[Zone] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    skus: list[Sku] = Field(default_factory=list)
    operators: list[Operator] = Field(default_factory=list)
    inbound_orders: list[InboundOrder] = Field(default_factory=list)
    outbound_orders: list[OutboundOrder] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    fleet: FleetConfig | None = Field(
        default=None, description="AGVs (VDA 5050 over MQTT): broker, layout graph, stations, charging rules."
    )
    layout: dict[str, Any] | None = Field(
        default=None, description="The picking layout: aisles, cross-aisles, slots, depot (edge.floor.layout)."
    )
    floor: FloorSettings = FloorSettings()
    handoff: HandoffSettings | None = Field(
        default=None, description="The carrier hand-off webhook: receiver URL, signing secret, retries."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> SiteConfig:
        problems: list[str] = []
        for name, items in (
            ("zones", self.zones),
            ("locations", self.locations),
            ("skus", self.skus),
            ("operators", self.operators),
            ("inbound_orders", self.inbound_orders),
            ("outbound_orders", self.outbound_orders),
            ("devices", self.devices),
        ):
            seen: set[str] = set()
            for i, item in enumerate(items):
                key = str(getattr(item, "code", None) or getattr(item, "id", ""))
                if key in seen:
                    problems.append(f"{name}[{i}]: duplicate {key!r}")
                seen.add(key)
        zones = {z.code for z in self.zones}
        locations = {loc.code for loc in self.locations}
        skus = {s.code for s in self.skus}
        for i, loc in enumerate(self.locations):
            if loc.zone not in zones:
                problems.append(f"locations[{i}].zone: unknown zone {loc.zone!r}")
        order_lines = [("inbound_orders", i, o.lines) for i, o in enumerate(self.inbound_orders)]
        order_lines += [("outbound_orders", i, o.lines) for i, o in enumerate(self.outbound_orders)]
        for kind, i, lines in order_lines:
            for j, line in enumerate(lines):
                if line.sku not in skus:
                    problems.append(f"{kind}[{i}].lines[{j}].sku: unknown sku {line.sku!r}")
        for i, inbound in enumerate(self.inbound_orders):
            if inbound.dock is not None and inbound.dock not in locations:
                problems.append(f"inbound_orders[{i}].dock: unknown location {inbound.dock!r}")
        for i, dev in enumerate(self.devices):
            if dev.zone is not None and dev.zone not in zones:
                problems.append(f"devices[{i}].zone: unknown zone {dev.zone!r}")
            if dev.location is not None and dev.location not in locations:
                problems.append(f"devices[{i}].location: unknown location {dev.location!r}")
        if self.fleet is not None:
            for i, station in enumerate(self.fleet.layout.stations):
                if station.location not in locations and station.kind != "park":  # a park spot holds no stock
                    problems.append(f"fleet.layout.stations[{i}].location: unknown location {station.location!r}")
        problems += self._floor_problems(locations)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _floor_problems(self, locations: set[str]) -> list[str]:
        """The layout parses and names known locations; the floor's locations exist."""
        problems: list[str] = []
        if self.layout is not None:
            try:
                layout = parse_layout(self.layout)
            except LayoutError as exc:
                problems += exc.problems
            else:
                for i, slot in enumerate(layout.slots):
                    if slot.location not in locations:
                        problems.append(f"layout.slots[{i}].location: unknown location {slot.location!r}")
                if layout.depot.location is not None and layout.depot.location not in locations:
                    problems.append(f"layout.depot.location: unknown location {layout.depot.location!r}")
        for key in ("receiving_location", "staging_location"):
            code = getattr(self.floor, key)
            if code is not None and code not in locations:
                problems.append(f"floor.{key}: unknown location {code!r}")
        return problems


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_config(data: dict[str, Any], source: Path | str = "<config>") -> SiteConfig:
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _loc(tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(msg if where == "(top level)" else f"{where}: {msg}")
        raise ConfigError(source, problems) from None


def load_config(path: Path | str) -> SiteConfig:
    """Read and validate a site TOML file; relative store paths are relative to the working directory."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(p, [f"cannot read: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(p, [f"not valid TOML: {exc}"]) from None
    cfg = parse_config(data, p)
    rules_file = cfg.rules.file
    if rules_file is not None and not rules_file.is_absolute():  # next to the site file, wherever it is run from
        cfg = cfg.model_copy(update={"rules": RulesSection(file=p.parent / rules_file)})
    return cfg
