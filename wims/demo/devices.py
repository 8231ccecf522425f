"""Simulated devices for ``wims demo``: the real drivers talk to firmware-sim over real pty and TCP.

The demo site gets a Modbus TCP line with one temperature/humidity sensor per cold zone, and a
serial barcode scanner (a pty) at the receiving dock. ``DemoDevices`` starts the simulators, hands the
gateway the ``[[devices]]`` entries that point at them, and lets the demo act on the floor: scan a
label, fail a compressor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edge.config import Device, SiteConfig

GS = "\x1d"


class DemoDevices:
    """``async with DemoDevices(cfg) as devices: cfg.devices = devices.entries``"""

    def __init__(self, cfg: SiteConfig) -> None:
        self.cfg = cfg
        self.entries: list[Device] = []
        self.sensors: dict[str, Any] = {}  # zone -> SimSensor
        self._line: Any = None
        self._scanner: Any = None

    async def __aenter__(self) -> DemoDevices:
        from firmware_sim.modbus.line import SensorLine
        from firmware_sim.modbus.model import RoomModel
        from firmware_sim.modbus.sensors import SimSensor
        from firmware_sim.scanner.sim import ScannerSim

        cold = [z for z in self.cfg.zones if z.temp_min_c is not None and z.temp_max_c is not None]
        sensors = []
        for unit, zone in enumerate(cold, 1):
            assert zone.temp_min_c is not None and zone.temp_max_c is not None
            mid = float(zone.temp_min_c + zone.temp_max_c) / 2
            sensor = SimSensor(unit=unit, model=RoomModel(setpoint=mid, noise_c=0.1, tau_s=20.0, seed=unit))
            sensors.append(sensor)
            self.sensors[zone.code] = sensor
        if sensors:
            self._line = await SensorLine(sensors).start_tcp()
            self.entries.append(
                Device(
                    id="demo-modbus",
                    kind="modbus",
                    zone=cold[0].code,
                    options={
                        "transport": "tcp",
                        "host": self._line.host,
                        "tcp_port": self._line.port,
                        "poll_interval_s": 1.0,
                        "timeout_s": 1.0,
                        "rules": {"min_duration_s": 3, "hysteresis_c": 0.3, "clear_duration_s": 3, "stale_after_s": 30},
                        "sensors": [{"id": f"T-{z.code}", "unit": u, "zone": z.code} for u, z in enumerate(cold, 1)],
                    },
                )
            )
        dock = next((loc for loc in self.cfg.locations if loc.type == "dock"), None)
        if dock is not None:
            self._scanner = ScannerSim()
            path = self._scanner.plug()
            self.entries.append(
                Device(
                    id="demo-scanner",
                    kind="scanner",
                    zone=dock.zone,
                    location=dock.code,
                    options={"port": path, "baudrate": 9600, "suffix": "CR"},
                )
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._scanner is not None:
            self._scanner.unplug()
        if self._line is not None:
            await self._line.stop()

    def scan_labels(self, labels: Iterable[str]) -> int:
        """Pull the trigger on each GS1-128 label (element string with GS separators)."""
        n = 0
        for label in labels:
            if self._scanner is not None:
                self._scanner.scan(label, "]C1")
                n += 1
        return n

    def fail_compressor(self, zone: str) -> None:
        """The zone's room warms well past its limit, as after a compressor failure."""
        z = next(z for z in self.cfg.zones if z.code == zone)
        assert z.temp_max_c is not None
        self.sensors[zone].force(temperature=float(z.temp_max_c) + 6.0)

    def repair_compressor(self, zone: str) -> None:
        self.sensors[zone].force(temperature=None)


def asn_labels(cfg: SiteConfig, cases_per_line: int = 2) -> list[str]:
    """GS1-128 case labels for the site's inbound orders: GTIN, lot and count per case."""
    skus = {s.code: s for s in cfg.skus}
    labels = []
    for order in cfg.inbound_orders:
        for line in order.lines:
            per_case = max(1, line.qty // (cases_per_line * 4))
            for _ in range(cases_per_line):
                lot = f"10{line.lot}{GS}" if line.lot else ""
                labels.append(f"01{skus[line.sku].gtin}{lot}37{per_case}")
    return labels
