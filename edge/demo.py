"""``wims demo``: a gateway on an example site doing a shift's floor work, shown as it happens.

The gateway is the real daemon (journal, API, metrics) on a temporary store. The floor work goes in
through the local HTTP API the way a handheld would send it: receiving against the site's inbound
orders, putaway, reservations, picking, packing and shipping the outbound orders, a QC hold and its
release by a supervisor, cycle counts, and one over-pick that the journal refuses. At the end the demo
prints the journal, the stock and a verification of the hash chain and the projection.

Device simulators join the demo as their drivers land; until then the demo runs without devices and
says so.
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
        lines = (await floor.http.get("/v1/stock", params={"status": "available"})).json()
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


async def _demo(cfg: SiteConfig, ops: int, store_dir: Path, console: Console) -> None:
    devices = [d.id for d in cfg.devices]
    cfg = cfg.model_copy(
        update={
            "store": cfg.store.model_copy(update={"path": store_dir / "edge.sqlite"}),
            "api": cfg.api.model_copy(update={"port": 0}),
            "devices": [],
        }
    )
    console.rule(f"[bold]WIMS demo: {cfg.site.name or cfg.site.warehouse}")
    if devices:
        console.print(
            f"[yellow]Device simulators are not wired into the demo yet; running without "
            f"{', '.join(devices)}. Floor work goes in through the handheld API.[/yellow]"
        )
    console.print(f"journal: {cfg.store.path}")
    async with Gateway(cfg) as gw:
        stop = asyncio.Event()
        runner = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        base = f"http://127.0.0.1:{gw.api_port}"
        console.print(f"gateway {cfg.site.gateway_id} API on {base}  (try {base}/v1/stock, /healthz, /metrics)")
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            floor = _Floor(http, cfg, random.Random(20261124))
            with Progress(console=console, transient=True) as progress:
                await _shift(floor, cfg, ops, progress)
            health = (await http.get("/healthz")).json()
            recent = (
                await http.get("/v1/ops", params={"after": max(0, health["journal"]["head_seq"] - 12), "limit": 12})
            ).json()["ops"]
            stock = (await http.get("/v1/stock")).json()
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


def run_demo(cfg: SiteConfig, *, ops: int, keep: bool, console: Console) -> None:
    configure_logging("WARNING", "console")
    if keep:
        store = Path("var/demo") / cfg.site.warehouse
        store.mkdir(parents=True, exist_ok=True)
        asyncio.run(_demo(cfg, ops, store, console))
        return
    with tempfile.TemporaryDirectory(prefix="wims-demo-") as tmp:
        asyncio.run(_demo(cfg, ops, Path(tmp), console))
