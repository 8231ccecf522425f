"""``wims cloud warehouse add|list`` and ``wims cloud lane add|list``: the network from the command line.

The records are validated by the same models as the admin endpoints; a bad value is one line naming the
option, exit 2.
"""

from __future__ import annotations

import json
import os
from datetime import time
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from cloud.admin.db import database, err
from cloud.network import store
from cloud.planning.network import Lane, ServiceLane
from sync.clock import SystemClock
from sync.i18n.console import LocalConsole

warehouse_app = typer.Typer(help="Warehouses of the network (planning, routing).", no_args_is_help=True)
lane_app = typer.Typer(help="Transfer lanes between warehouses, and carrier services to regions.", no_args_is_help=True)
out = LocalConsole(soft_wrap=True)  # one line a message, in the command line's language
ACTOR = "cli:" + (os.environ.get("USER") or "unknown")


def _invalid(exc: ValidationError) -> typer.Exit:
    e = exc.errors()[0]
    where = ".".join(str(p) for p in e["loc"]) or "record"
    err.print(f"[red]{escape(where)}: {escape(e['msg'])}[/red]")
    return typer.Exit(2)


@warehouse_app.command("add")
def warehouse_add(
    code: Annotated[str, typer.Argument(help="Warehouse code, as the gateways use it.")],
    country: Annotated[str, typer.Option(help="ISO country code (holiday calendar), e.g. CN, US.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    region: Annotated[str, typer.Option(help="ISO 3166-2 subdivision without the country, e.g. CA.")] = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Shanghai.")] = "UTC",
    lat: Annotated[float, typer.Option(help="Latitude.")] = 0.0,
    lon: Annotated[float, typer.Option(help="Longitude.")] = 0.0,
    lead_time: Annotated[int, typer.Option(help="Supplier lead time, days.")] = 14,
) -> None:
    """Add or change a warehouse."""
    try:
        rec = store.WarehouseRecord(
            code=code,
            name=name,
            country=country,
            region=region,
            timezone=timezone,
            latitude=lat,
            longitude=lon,
            lead_time_days=lead_time,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    with database() as (engine, _), engine.begin() as conn:
        created = store.put_warehouse(conn, rec, now=SystemClock().now(), actor=ACTOR)
    out.print(f"warehouse {code} added" if created else f"warehouse {code} updated")


@warehouse_app.command("list")
def warehouse_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Every warehouse of the network."""
    with database() as (engine, _), engine.connect() as conn:
        rows = store.list_warehouses(conn)
    if as_json:
        for w in rows:
            print(json.dumps(w.model_dump(mode="json")))
        return
    table = Table("code", "name", "country", "region", "time zone", "lat", "lon", "lead time")
    for w in rows:
        table.add_row(
            w.code,
            w.name,
            w.country,
            w.region,
            w.timezone,
            f"{w.latitude:g}",
            f"{w.longitude:g}",
            str(w.lead_time_days),
        )
    out.print(table)


@lane_app.command("add")
def lane_add(
    origin: Annotated[str, typer.Argument(help="Source warehouse.")],
    destination: Annotated[
        str | None, typer.Argument(help="Destination warehouse (a transfer lane); leave out with --region.")
    ] = None,
    transit_days: Annotated[int, typer.Option(help="Days on the road.")] = 1,
    cost_per_unit: Annotated[float, typer.Option(help="Cost a unit.")] = 0.0,
    cost_per_shipment: Annotated[float, typer.Option(help="Cost a shipment (dispatch).")] = 0.0,
    capacity: Annotated[int | None, typer.Option(help="Most units a dispatch carries (transfer lanes).")] = None,
    min_shipment: Annotated[int, typer.Option(help="Fewest units worth a dispatch (transfer lanes).")] = 0,
    region: Annotated[
        str | None, typer.Option(help="A carrier service to this customer region instead of a transfer lane.")
    ] = None,
    carrier: Annotated[str, typer.Option(help="Carrier of a service lane.")] = "",
    cutoff: Annotated[str, typer.Option(help="Carrier cut-off, local HH:MM (service lanes).")] = "17:00",
    ship_days: Annotated[str, typer.Option(help="ISO weekdays the carrier collects, e.g. 12345.")] = "1234567",
) -> None:
    """Add or change a transfer lane ORIGIN -> DESTINATION, or with --region a carrier service lane."""
    try:
        with database() as (engine, _), engine.begin() as conn:
            now = SystemClock().now()
            if region is not None:
                hh, _, mm = cutoff.partition(":")
                try:
                    cut = time(int(hh), int(mm))
                except ValueError:
                    err.print(f"[red]cutoff: {escape(repr(cutoff))} is not HH:MM[/red]")
                    raise typer.Exit(2) from None
                s = ServiceLane(
                    warehouse=origin,
                    region=region,
                    carrier=carrier,
                    transit_days=transit_days,
                    cutoff=cut,
                    ship_days=tuple(int(d) for d in ship_days if d.isdigit()),
                    cost_per_unit=cost_per_unit,
                    cost_per_shipment=cost_per_shipment,
                )
                created = store.put_service_lane(conn, s, now=now, actor=ACTOR)
                done = "added" if created else "updated"
                what = f"service lane {origin} -> region {region} ({carrier or '-'}) {done}"
            else:
                if destination is None:
                    err.print("[red]destination: give a destination warehouse, or --region for a service lane[/red]")
                    raise typer.Exit(2)
                lane = Lane(
                    origin=origin,
                    destination=destination,
                    transit_days=transit_days,
                    cost_per_unit=cost_per_unit,
                    cost_per_shipment=cost_per_shipment,
                    capacity=capacity,
                    min_shipment=min_shipment,
                )
                created = store.put_lane(conn, lane, now=now, actor=ACTOR)
                what = f"lane {origin} -> {destination} {'added' if created else 'updated'}"
    except ValidationError as exc:
        raise _invalid(exc) from None
    except store.NetworkWriteError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    out.print(what)


@lane_app.command("list")
def lane_list(as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False) -> None:
    """Transfer lanes, then carrier service lanes."""
    with database() as (engine, _), engine.connect() as conn:
        lanes = store.list_lanes(conn)
        services = store.list_service_lanes(conn)
    if as_json:
        for lane in lanes:
            print(json.dumps({"kind": "transfer", **lane.model_dump(mode="json")}))
        for s in services:
            print(json.dumps({"kind": "service", **s.model_dump(mode="json")}))
        return
    table = Table("origin", "destination", "transit days", "cost/unit", "cost/shipment", "capacity", "min shipment")
    for x in lanes:
        table.add_row(
            x.origin,
            x.destination,
            str(x.transit_days),
            f"{x.cost_per_unit:g}",
            f"{x.cost_per_shipment:g}",
            "" if x.capacity is None else str(x.capacity),
            str(x.min_shipment),
        )
    out.print(table)
    if services:
        st = Table("warehouse", "region", "carrier", "transit days", "cut-off", "days", "cost/unit", "cost/shipment")
        for s in services:
            st.add_row(
                s.warehouse,
                s.region,
                s.carrier,
                str(s.transit_days),
                s.cutoff.strftime("%H:%M"),
                "".join(map(str, s.ship_days)),
                f"{s.cost_per_unit:g}",
                f"{s.cost_per_shipment:g}",
            )
        out.print(st)
