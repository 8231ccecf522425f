"""A seeded multi-warehouse demand history, for tests, benchmarks and demos: no real data ships with WIMS.

The history is built to have what real warehouse demand has and a forecast must cope with: weekly
patterns that differ by country (a US B2B site hardly ships on Sunday, a Chinese e-commerce site ships
every day), yearly seasonality, trends, the public holidays of China, the US and Germany, promotions
(Spring Festival, 618, 11.11, Black Friday and one site's own anniversary sale), SKUs launched or
phased out during the history, and slow movers whose daily series are mostly zeros (intermittent).

``generate`` returns the expected daily demand (``rates``, the truth) and one seeded draw of it
(``demand``, what was shipped). ``draw`` makes further draws and ``spike`` raises demand at one site,
so a simulation can replay the same demand with and without a policy. Everything is a pure function
of the spec and its seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from math import asin, cos, radians, sin, sqrt

import numpy as np

from cloud.planning.calendar import DateWindow, DayTags, PromotionEvent, build_tags
from cloud.planning.network import Lane, Network, ServiceLane, Warehouse

# code, name, country, region, time zone, latitude, longitude, delivery region, size
_SITES = (
    ("SH", "Shanghai DC", "CN", "", "Asia/Shanghai", 31.23, 121.47, "CN-East", 1.4),
    ("LA", "Los Angeles FC", "US", "CA", "America/Los_Angeles", 34.05, -118.24, "US-West", 1.3),
    ("SZ", "Shenzhen DC", "CN", "", "Asia/Shanghai", 22.54, 114.06, "CN-South", 1.2),
    ("NJ", "Newark FC", "US", "NJ", "America/New_York", 40.74, -74.17, "US-East", 1.0),
    ("BJ", "Beijing DC", "CN", "", "Asia/Shanghai", 39.90, 116.40, "CN-North", 1.0),
    ("DFW", "Dallas FC", "US", "TX", "America/Chicago", 32.78, -96.80, "US-South", 0.8),
    ("CD", "Chengdu DC", "CN", "", "Asia/Shanghai", 30.57, 104.07, "CN-West", 0.7),
    ("CHI", "Chicago FC", "US", "IL", "America/Chicago", 41.88, -87.63, "US-Midwest", 0.7),
    ("WH", "Wuhan DC", "CN", "", "Asia/Shanghai", 30.59, 114.31, "CN-Central", 0.6),
    ("FRA", "Frankfurt DC", "DE", "HE", "Europe/Berlin", 50.11, 8.68, "EU-Central", 0.6),
)

SITE_EVENT = PromotionEvent(
    name="la-anniversary",
    windows=(DateWindow(start=date(2024, 8, 8), end=date(2024, 8, 10)),),
    annual=True,
    post_days=2,
)
"""The Los Angeles site's own yearly sale: an example of a promotion only one warehouse runs."""

_WEEKLY = {  # Monday .. Sunday
    "CN": np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.98, 0.97]),
    "US": np.array([1.2, 1.15, 1.15, 1.1, 1.05, 0.25, 0.1]),
    "DE": np.array([1.25, 1.2, 1.15, 1.15, 1.05, 0.2, 0.0]),
}

_EVENT_EFFECT = {
    "spring_festival:pre": 1.35,
    "spring_festival": 0.25,
    "spring_festival:post": 0.7,
    "618:pre": 1.25,
    "618": 3.0,
    "618:post": 0.8,
    "11.11:pre": 1.3,
    "11.11": 4.0,
    "11.11:post": 0.75,
    "black_friday:pre": 1.15,
    "black_friday": 2.6,
    "black_friday:post": 0.85,
    "la-anniversary": 2.0,
    "la-anniversary:post": 0.8,
    "holiday:National Day": 0.55,
    "holiday:Labor Day": 0.7,
    "holiday:Thanksgiving Day": 0.3,
    "holiday:Christmas Day": 0.15,
    "holiday:New Year's Day": 0.5,
    "holiday:Independence Day": 0.6,
}
_HOLIDAY_DEFAULT = {"CN": 0.75, "US": 0.85, "DE": 0.3}


def _km(a: Warehouse, b: Warehouse) -> float:
    la1, lo1, la2, lo2 = map(radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = sin((la2 - la1) / 2) ** 2 + cos(la1) * cos(la2) * sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371 * asin(sqrt(h))


def example_network(n_warehouses: int = 10) -> Network:
    """Up to ten warehouses (China, the US, Germany) with truck lanes inside a country and air lanes between."""
    if not 1 <= n_warehouses <= len(_SITES):
        raise ValueError(f"n_warehouses must be 1..{len(_SITES)}")
    sites = _SITES[:n_warehouses]
    whs = [
        Warehouse(
            code=c,
            name=n,
            country=co,
            region=r,
            timezone=tz,
            latitude=la,
            longitude=lo,
            events=("black_friday", SITE_EVENT.name) if c == "LA" else None,
        )
        for c, n, co, r, tz, la, lo, *_ in sites
    ]
    lanes = []
    for a in whs:
        for b in whs:
            if a is b:
                continue
            km = _km(a, b)
            if a.country == b.country:  # truck: about 700 km a day
                lanes.append(
                    Lane(
                        origin=a.code,
                        destination=b.code,
                        transit_days=max(1, round(km / 700)),
                        cost_per_unit=round(0.05 + km / 4000, 3),
                        cost_per_shipment=150.0,
                        capacity=20_000,
                        min_shipment=20,
                    )
                )
            else:  # air freight: fast and dear
                lanes.append(
                    Lane(
                        origin=a.code,
                        destination=b.code,
                        transit_days=5,
                        cost_per_unit=round(1.5 + km / 5000, 3),
                        cost_per_shipment=600.0,
                        capacity=5_000,
                        min_shipment=100,
                    )
                )
    services = []
    for wh in whs:
        for other, other_site in zip(whs, sites, strict=True):
            if other.country != wh.country:
                continue
            km = _km(wh, other)
            services.append(
                ServiceLane(
                    warehouse=wh.code,
                    region=other_site[7],
                    carrier="SF Express" if wh.country == "CN" else "UPS" if wh.country == "US" else "DHL",
                    transit_days=1 + round(km / 900),
                    cutoff=time(18, 0) if wh.country == "CN" else time(16, 30),
                    ship_days=(1, 2, 3, 4, 5, 6, 7) if wh.country == "CN" else (1, 2, 3, 4, 5),
                    cost_per_unit=round(0.3 + km / 3000, 3),
                    cost_per_shipment=8.0 if wh.country == "CN" else 12.0,
                )
            )
    return Network(warehouses=tuple(whs), lanes=tuple(lanes), service_lanes=tuple(services))


@dataclass(frozen=True)
class SyntheticSpec:
    skus: int = 1000
    warehouses: int = 10
    start: date = date(2023, 9, 1)
    days: int = 850
    seed: int = 14
    slow_share: float = 0.3
    """Share of SKUs that are slow movers (their series are intermittent at most sites)."""
    new_share: float = 0.08
    dying_share: float = 0.06


@dataclass(frozen=True)
class SyntheticHistory:
    """``rates[i, d]`` is the expected demand of series ``keys[i]`` (sku, warehouse) on day ``start + d``."""

    spec: SyntheticSpec
    network: Network
    tags: DayTags
    keys: tuple[tuple[str, str], ...]
    rates: np.ndarray
    demand: np.ndarray
    slow: np.ndarray
    size: np.ndarray
    listed_from: np.ndarray
    site_events: dict[str, PromotionEvent] = field(default_factory=lambda: {SITE_EVENT.name: SITE_EVENT})

    @property
    def start(self) -> date:
        return self.spec.start

    @property
    def days(self) -> int:
        return int(self.rates.shape[1])

    def day(self, d: int) -> date:
        return self.spec.start + timedelta(days=d)

    def warehouse_rows(self, code: str) -> np.ndarray:
        return np.array([i for i, (_, w) in enumerate(self.keys) if w == code], dtype=np.int64)


def _event_factors(tags: DayTags, network: Network) -> np.ndarray:
    """The true multiplier of every (warehouse, day) from its tag."""
    per_tag = np.ones((len(network.warehouses), len(tags.names)))
    for w, wh in enumerate(network.warehouses):
        for t, name in enumerate(tags.names):
            if name in _EVENT_EFFECT:
                per_tag[w, t] = _EVENT_EFFECT[name]
            elif name.startswith("holiday:"):
                per_tag[w, t] = _HOLIDAY_DEFAULT.get(wh.country, 0.8)
    return np.take_along_axis(per_tag, tags.ids.astype(np.int64), axis=1)


def generate(spec: SyntheticSpec | None = None) -> SyntheticHistory:
    """The expected demand of every SKU at every warehouse and one draw of it, from ``spec.seed``."""
    spec = spec or SyntheticSpec()
    rng = np.random.default_rng(spec.seed)
    network = example_network(spec.warehouses)
    whs = network.warehouses
    n_w, n_s, T = len(whs), spec.skus, spec.days
    tags = build_tags(whs, spec.start, T, {SITE_EVENT.name: SITE_EVENT})
    t = np.arange(T)
    doy = np.array([(spec.start + timedelta(days=int(d))).timetuple().tm_yday for d in t])
    dow = (spec.start.weekday() + t) % 7

    slow = rng.random(n_s) < spec.slow_share
    popularity = np.where(slow, rng.lognormal(np.log(0.3), 0.6, n_s), rng.lognormal(np.log(10.0), 1.1, n_s))
    amplitude = rng.uniform(0.0, 0.35, n_s)
    phase = rng.uniform(0.0, 2 * np.pi, n_s)
    growth = rng.normal(0.0, 0.25, n_s)  # log growth a year
    sensitivity = rng.lognormal(0.0, 0.3, n_s)  # how strongly a SKU answers events
    yearly = 1 + amplitude[:, None] * np.sin(2 * np.pi * doy[None, :] / 365.25 + phase[:, None])
    trend = np.exp(growth[:, None] * (t[None, :] - T) / 365.0)
    life = np.ones((n_s, T))
    listed_from = np.zeros(n_s, dtype=np.int64)
    kind = rng.random(n_s)
    new = kind < spec.new_share
    dying = (kind >= spec.new_share) & (kind < spec.new_share + spec.dying_share)
    for s in np.flatnonzero(new):
        launch = int(rng.integers(max(T - 300, 1), max(T - 40, 2)))
        listed_from[s] = launch
        life[s, :launch] = 0.0
        life[s, launch:] = np.minimum(1.0, 0.3 + (t[launch:] - launch) / 30.0)
    for s in np.flatnonzero(dying):
        end = int(rng.integers(max(T - 250, 1), max(T - 20, 2)))
        life[s, end:] = np.exp(-(t[end:] - end) / 20.0)

    events = _event_factors(tags, network)  # (n_w, T)
    size = np.array([_SITES[w][8] for w in range(n_w)])
    keys = tuple((f"SKU-{s:05d}", wh.code) for s in range(n_s) for wh in whs)
    site_mix = rng.lognormal(0.0, 0.4, (n_s, n_w))
    weekly = np.stack([_WEEKLY[wh.country][dow] for wh in whs])  # (n_w, T)
    # rates[s, w, t], laid out series-major as keys are
    rates = (
        (popularity[:, None] * site_mix * size[None, :])[:, :, None]
        * (yearly * trend * life)[:, None, :]
        * weekly[None, :, :]
        * events[None, :, :] ** sensitivity[:, None, None]
    ).reshape(n_s * n_w, T)
    slow_rows = np.repeat(slow, n_w)
    lot_size = np.repeat(rng.uniform(1.0, 4.0, n_s), n_w)
    rates = rates.astype(np.float32)
    demand = draw(rates, slow_rows, lot_size, rng)
    return SyntheticHistory(
        spec=spec,
        network=network,
        tags=tags,
        keys=keys,
        rates=rates,
        demand=demand,
        slow=slow_rows,
        size=lot_size,
        listed_from=np.repeat(listed_from, n_w),
    )


def draw(rates: np.ndarray, slow: np.ndarray, lot_size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One realisation of ``rates``: negative binomial for fast movers, lots of random size for slow ones.

    A slow mover's customer orders arrive on a day with probability ``rate / lot size`` and take a
    lot of ``1 + Poisson(lot size - 1)`` units, so its mean is the rate and its series mostly zeros.
    """
    out = np.empty(rates.shape, dtype=np.float32)
    fast = ~slow
    lam = rates[fast].astype(np.float64)
    k = 5.0  # NB dispersion: variance = mean + mean^2 / 5
    out[fast] = rng.poisson(rng.gamma(k, np.maximum(lam, 1e-9) / k))
    lam_s = rates[slow].astype(np.float64)
    mu = lot_size[slow][:, None]
    hits = rng.random(lam_s.shape) < np.minimum(lam_s / mu, 0.95)
    out[slow] = hits * (1 + rng.poisson(np.broadcast_to(mu - 1, lam_s.shape)))
    return out


def spike(rates: np.ndarray, rows: np.ndarray, first_day: int, last_day: int, factor: float) -> np.ndarray:
    """A copy of ``rates`` with the given series' demand multiplied by ``factor`` on days ``first..last``."""
    out = rates.copy()
    out[np.ix_(rows, np.arange(first_day, last_day + 1))] *= factor
    return out
