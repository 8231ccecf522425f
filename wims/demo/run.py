"""``wims demo``: a gateway on an example site doing a shift's floor work, shown as it happens.

The gateway is the real daemon (journal, API, metrics) on a temporary store. The floor work goes in
through the local HTTP API the way a handheld would send it: receiving against the site's inbound
orders, putaway, reservations, picking, packing and shipping the outbound orders, a QC hold and its
release by a supervisor, cycle counts, and one over-pick that the journal refuses. At the end the demo
prints the journal, the stock and a verification of the hash chain and the projection.

The site's devices are simulated (firmware-sim) and driven by the real drivers over real TCP and pty:
a Modbus sensor per cold zone and a barcode scanner at the receiving dock. Midway, the demo scans the
inbound cases' GS1 labels and fails a compressor, so the cold-chain rules freeze the zone's stock and
open a work order, which a supervisor then releases.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from edge.config import Location, SiteConfig
from edge.daemon import Gateway
from edge.logs import configure_logging
from edge.store.schema import connect
from edge.store.verify import verify_database
from wims.demo.devices import DemoDevices, asn_labels


class _Floor:
    """Sends floor operations to the gateway's API and keeps score."""

    def __init__(self, http: httpx.AsyncClient, cfg: SiteConfig, rng: random.Random) -> None:
        self.http = http
        self.cfg = cfg
        self.rng = rng
        self.accepted = 0
        self.refused: list[str] = []
        ops = [o.id for o in cfg.operators if "operator" in o.roles]
        self.operators = ops or ["system"]
        self.supervisor = next((o.id for o in cfg.operators if "supervisor" in o.roles), "system")

    async def op(self, payload: dict[str, Any], actor: str | None = None) -> dict[str, Any] | None:
        body = {"payload": payload, "actor": actor or self.rng.choice(self.operators), "device_id": "demo-handheld"}
        r = await self.http.post("/v1/ops", json=body)
        if r.status_code == 201:
            self.accepted += 1
            result: dict[str, Any] = r.json()
            return result
        self.refused.append(f"{payload['kind']}: {r.json()['detail']}")
        return None

    def slots_for(self, temperature_class: str) -> list[Location]:
        zones = {z.code for z in self.cfg.zones if z.temperature_class == temperature_class}
        slots = [loc for loc in self.cfg.locations if loc.type in ("rack", "pick_face") and loc.zone in zones]
        return slots or [loc for loc in self.cfg.locations if loc.type in ("rack", "pick_face")]


def _first(cfg: SiteConfig, *types: str) -> str:
    return next(loc.code for loc in cfg.locations if loc.type in types)


async def _shift(floor: _Floor, cfg: SiteConfig, budget: int, progress: Progress) -> None:
    task = progress.add_task("floor work", total=budget)
    rng = floor.rng
    skus = {s.code: s for s in cfg.skus}
    dock = _first(cfg, "dock")
    staging = _first(cfg, "staging", "pack_station", "dock")

    def tick() -> None:
        progress.update(task, completed=min(budget, floor.accepted + len(floor.refused)))

    for order in cfg.inbound_orders:  # receive every ASN line in cases, then put it away
        for line in order.lines:
            case = max(1, line.qty // 4)
            left = line.qty
            while left > 0:
                qty = min(case, left)
                left -= qty
                await floor.op(
                    {
                        "kind": "receive",
                        "sku": line.sku,
                        "lot": line.lot,
                        "location": order.dock or dock,
                        "qty": qty,
                        "asn_id": order.id,
                        "asn_line": line.line,
                    }
                )
                slot = rng.choice(floor.slots_for(skus[line.sku].temperature_class)).code
                await floor.op(
                    {
                        "kind": "putaway",
                        "sku": line.sku,
                        "lot": line.lot,
                        "from_location": order.dock or dock,
                        "to_location": slot,
                        "qty": qty,
                    }
                )
                tick()

    async def available() -> list[dict[str, Any]]:
        lines = (await floor.http.get("/v1/stock", params={"status": "available"})).json()["items"]
        return [ln for ln in lines if ln["qty"] > 0 and ln["location"] in slots]

    slots = {loc.code for loc in cfg.locations if loc.type in ("rack", "pick_face")}
    for outbound in cfg.outbound_orders:  # reserve, pick, pack and ship every outbound order we can fill
        picked: list[dict[str, Any]] = []
        for line in outbound.lines:
            src = next((ln for ln in await available() if ln["sku"] == line.sku and ln["qty"] >= line.qty), None)
            if src is None:
                continue
            common = {"sku": line.sku, "lot": src["lot"], "qty": line.qty, "order_id": outbound.id}
            await floor.op({"kind": "reserve", "location": src["location"], **common})
            await floor.op({"kind": "pick", "from_location": src["location"], "to_location": staging, **common})
            picked.append({"sku": line.sku, "lot": src["lot"], "qty": line.qty})
            tick()
        if picked:
            await floor.op({"kind": "pack", "order_id": outbound.id, "location": staging, "lines": picked})
            for item in picked:
                await floor.op(
                    {"kind": "ship", "location": staging, "order_id": outbound.id, "carrier": outbound.carrier, **item}
                )
            tick()
    if lines := await available():  # a QC hold and its release by a supervisor, then an over-pick
        ln = lines[0]
        ref = {"sku": ln["sku"], "lot": ln["lot"]}
        held = max(1, ln["qty"] // 10)
        await floor.op(
            {
                "kind": "qc_hold",
                **ref,
                "location": ln["location"],
                "qty": held,
                "reason": "damaged outer cases at putaway",
            }
        )
        await floor.op(
            {
                "kind": "qc_release",
                **ref,
                "location": ln["location"],
                "qty": held,
                "to_status": "available",
                "note": "inspected, fit for sale",
            },
            actor=floor.supervisor,
        )
        await floor.op(
            {
                "kind": "pick",
                **ref,
                "from_location": ln["location"],
                "to_location": staging,
                "qty": ln["qty"] + 1,
                "order_id": "OVERPICK",
                "from_status": "available",
            }
        )  # refused
        tick()
    while floor.accepted + len(floor.refused) < budget and (lines := await available()):
        ln = rng.choice(lines)  # moves and cycle counts for the rest of the shift
        ref = {"sku": ln["sku"], "lot": ln["lot"]}
        if rng.random() < 0.3:
            counted = max(0, ln["qty"] + rng.choice([0, 0, 0, -1, 1]))
            await floor.op(
                {
                    "kind": "count",
                    **ref,
                    "location": ln["location"],
                    "counted_qty": counted,
                    "book_qty": ln["qty"],
                    "delta": counted - ln["qty"],
                }
            )
        else:
            dest = rng.choice(floor.slots_for(skus[ln["sku"]].temperature_class)).code
            if dest != ln["location"]:
                await floor.op(
                    {
                        "kind": "move",
                        **ref,
                        "from_location": ln["location"],
                        "to_location": dest,
                        "qty": max(1, ln["qty"] // 2),
                    }
                )
        tick()
    tick()


async def _wait_for(http: httpx.AsyncClient, kind: str, after: int, timeout: float) -> list[dict[str, Any]]:
    """Ops of ``kind`` recorded after seq ``after`` (waiting up to ``timeout`` seconds for the first)."""
    for _ in range(int(timeout * 10)):
        ops = (await http.get("/v1/ops", params={"after": after, "kind": kind, "limit": 500})).json()["items"]
        if ops:
            return list(ops)
        await asyncio.sleep(0.1)
    return []


async def _devices_scene(http: httpx.AsyncClient, devices: DemoDevices, cfg: SiteConfig, console: Console) -> None:
    """The floor's devices at work: labels scanned at the dock, then a compressor fails."""
    head = (await http.get("/healthz")).json()["journal"]["head_seq"]
    sent = devices.scan_labels(asn_labels(cfg))
    received = await _wait_for(http, "receive", head, 10)
    for _ in range(50):
        if len(received) >= sent:
            break
        await asyncio.sleep(0.1)
        received = await _wait_for(http, "receive", head, 1)
    console.print(f"[bold]scanner[/bold] at the dock read {sent} GS1 case labels -> {len(received)} receive ops")
    stocked = {ln["location"] for ln in (await http.get("/v1/stock", params={"status": "available"})).json()["items"]}
    zone_of = {loc.code: loc.zone for loc in cfg.locations}
    lines_in = {z: sum(zone_of.get(loc) == z for loc in stocked) for z in devices.sensors}
    chilled = max(lines_in, key=lambda z: lines_in[z]) if any(lines_in.values()) else None
    if chilled is None:
        return
    head = (await http.get("/healthz")).json()["journal"]["head_seq"]
    devices.fail_compressor(chilled)
    console.print(f"[bold]modbus[/bold]: compressor failure in zone {chilled}; waiting for the cold-chain rules...")
    alarms = await _wait_for(http, "temp_alarm", head, 20)
    holds = await _wait_for(http, "qc_hold", head, 5)
    orders = await _wait_for(http, "work_order", head, 5)
    for a in alarms[:1]:
        p = a["payload"]
        console.print(
            f"  temp_alarm {p['alarm']} {p['state']} in {p['zone']}: {p.get('value')} C (limit {p.get('limit')})"
        )
    console.print(
        f"  {len(holds)} qc_hold ops froze the zone's stock; work order "
        f"{orders[0]['payload']['work_order_id'] if orders else '-'} opened for the zone's supervisor"
    )
    devices.repair_compressor(chilled)
    zone = next(z for z in cfg.zones if z.code == chilled)
    supervisor = zone.supervisor or next((o.id for o in cfg.operators if "supervisor" in o.roles), "system")
    refused = await http.post(
        f"/v1/zones/{chilled}/release",
        json={"actor": next((o.id for o in cfg.operators if o.roles == ["operator"]), "nobody")},
    )
    console.print(f"  release by an operator: refused ({refused.status_code})")
    r = await http.post(
        f"/v1/zones/{chilled}/release",
        json={
            "actor": supervisor,
            "note": "compressor repaired, product core temperature checked",
            "work_order_id": orders[0]["payload"]["work_order_id"] if orders else None,
        },
    )
    console.print(f"  release by supervisor {supervisor}: {len(r.json()) if r.status_code == 200 else r.text} ops")


async def _demo(cfg: SiteConfig, ops: int, store_dir: Path, console: Console) -> None:
    cfg = cfg.model_copy(
        update={
            "store": cfg.store.model_copy(update={"path": store_dir / "edge.sqlite"}),
            "api": cfg.api.model_copy(update={"port": 0}),
            "sync": cfg.sync.model_copy(update={"url": None}),
        }
    )
    console.rule(f"[bold]WIMS demo: {cfg.site.name or cfg.site.warehouse}")
    console.print(f"journal: {cfg.store.path}")
    async with DemoDevices(cfg) as devices:
        cfg = cfg.model_copy(update={"devices": devices.entries})
        console.print("simulated devices: " + ", ".join(f"{d.id} ({d.kind})" for d in devices.entries))
        async with Gateway(cfg) as gw:
            stop = asyncio.Event()
            runner = asyncio.create_task(gw.run(stop))
            await gw.api_ready.wait()
            base = f"http://127.0.0.1:{gw.api_port}"
            console.print(f"gateway {cfg.site.gateway_id} API on {base}  (try {base}/v1/stock, /healthz, /metrics)")
            token = cfg.api.resolved_token()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as http:
                floor = _Floor(http, cfg, random.Random(20261124))
                with Progress(console=console, transient=True) as progress:
                    await _shift(floor, cfg, ops, progress)
                await _devices_scene(http, devices, cfg, console)
                health = (await http.get("/healthz")).json()
                recent = (
                    await http.get("/v1/ops", params={"after": max(0, health["journal"]["head_seq"] - 12), "limit": 12})
                ).json()["items"]
                stock = (await http.get("/v1/stock")).json()["items"]
            stop.set()
            await runner
    _show(console, floor, recent, stock, health)
    report = verify_database(connect(str(cfg.store.path), readonly=True), warehouse=cfg.site.warehouse)
    verdict = "[green]verifies[/green]" if report.ok else f"[red]FAILS[/red] {report.chain_error}"
    console.print(
        f"hash chain of {report.ops} ops {verdict}; projection "
        f"{'matches the journal' if not report.projection_diffs else 'DIFFERS'}"
    )


def _show(
    console: Console, floor: _Floor, recent: list[dict[str, Any]], stock: list[dict[str, Any]], health: dict[str, Any]
) -> None:
    table = Table("seq", "kind", "actor", "what", "hash", title="last ops in the journal")
    for op in recent:
        p = op["payload"]
        what = " ".join(
            str(p[k]) for k in ("sku", "qty", "location", "from_location", "to_location", "order_id") if k in p
        )
        table.add_row(str(op["seq"]), op["kind"], op["actor"], what, op["hash"][:12])
    console.print(table)
    st = Table("sku", "lot", "location", "status", "qty", title="stock")
    for line in stock:
        st.add_row(line["sku"], line["lot"], line["location"], line["status"], str(line["qty"]))
    console.print(st)
    console.print(f"accepted {floor.accepted} ops; refused {len(floor.refused)}:")
    for reason in floor.refused[:5]:
        console.print(f"  [yellow]{reason}[/yellow]")
    console.print(f"health: {health['status']}, journal head seq {health['journal']['head_seq']}")
    for name, part in health["components"].items():
        console.print(f"  {name}: {part['status']} ({part['detail']})")


def run_demo(cfg: SiteConfig, *, ops: int, keep: bool, console: Console) -> None:
    configure_logging("WARNING", "console")
    if keep:
        store = Path("var/demo") / cfg.site.warehouse
        store.mkdir(parents=True, exist_ok=True)
        asyncio.run(_demo(cfg, ops, store, console))
        return
    with tempfile.TemporaryDirectory(prefix="wims-demo-") as tmp:
        asyncio.run(_demo(cfg, ops, Path(tmp), console))
