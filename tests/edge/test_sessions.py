"""Operator identity on the local API: PIN and badge sessions, the actor of every op, role gates,
`[api] operator_sessions = "required"`, gateway-only kinds, and RFID read points naming the operator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from drivers.rfid import decode_epc
from edge.capture.rfid import RfidMapper
from edge.config import SiteConfig, parse_config
from edge.daemon import Gateway
from edge.identity.sessions import SESSION_HEADER, hash_pin
from edge.identity.stations import Session, StationSessions
from sync.clock import ManualClock
from sync.ops import OpKind, ReceivePayload
from tests.rfid.edge_site import case_epc
from tests.rfid.test_mapping import DOCK, MASTER, event
from tests.support.edge import site_dict

PIN_OP1, PIN_SUP1 = "4321", "86420"
HASHES = {"op1": hash_pin(PIN_OP1), "sup1": hash_pin(PIN_SUP1)}


def sessions_site(tmp_path: Path, **api: Any) -> SiteConfig:
    data = site_dict(tmp_path)
    data["api"] = {**data["api"], **api}
    data["operators"] = [
        {"id": "op1", "name": "Wang", "roles": ["operator"], "zones": ["Z"], "pin_hash": HASHES["op1"]},
        {"id": "op2", "roles": ["operator"]},
        {"id": "sup1", "roles": ["supervisor"], "pin_hash": HASHES["sup1"]},
    ]
    return parse_config(data)


@asynccontextmanager
async def running(cfg: SiteConfig, clock: ManualClock) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    async with Gateway(cfg, clock=clock) as gw:
        stop = asyncio.Event()
        task = asyncio.create_task(gw.run(stop))
        await gw.api_ready.wait()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.api_port}") as client:
                yield client, gw
        finally:
            stop.set()
            await task


async def login(api: httpx.AsyncClient, operator: str, pin: str) -> dict[str, str]:
    r = await api.post("/v1/sessions", json={"operator": operator, "pin": pin, "station": "HH-7"})
    assert r.status_code == 201, r.text
    return {SESSION_HEADER: r.json()["token"]}


def receive(actor: str = "op2", **extra: Any) -> dict[str, Any]:
    return {"payload": {"kind": "receive", "sku": "SKU-1", "location": "DOCK", "qty": 4, **extra}, "actor": actor}


async def test_pin_login_the_op_actor_is_the_sessions_operator_and_logout(tmp_path: Path) -> None:
    clock = ManualClock()
    async with running(sessions_site(tmp_path), clock) as (api, gw):
        wrong = await api.post("/v1/sessions", json={"operator": "op1", "pin": "0000"})
        nobody = await api.post("/v1/sessions", json={"operator": "ghost", "pin": "0000"})
        no_pin = await api.post("/v1/sessions", json={"operator": "op2", "pin": "0000"})  # op2 has no PIN set
        assert {r.status_code for r in (wrong, nobody, no_pin)} == {401}
        assert (
            wrong.json()
            == nobody.json()
            == {"detail": "unknown operator or wrong PIN", "code": "login_failed", "errors": []}
        )
        assert (await api.post("/v1/sessions", json={"operator": "op1"})).status_code == 422
        r = await api.post("/v1/sessions", json={"operator": "op1", "pin": PIN_OP1, "station": "HH-7"})
        assert r.status_code == 201
        opened = r.json()
        assert (opened["operator_id"], opened["roles"], opened["zones"], opened["method"]) == (
            "op1",
            ["operator"],
            ["Z"],
            "pin",
        )
        assert opened["header"] == SESSION_HEADER and len(opened["token"]) >= 40
        me = {SESSION_HEADER: opened["token"]}
        assert (await api.get("/v1/sessions/current", headers=me)).json()["name"] == "Wang"
        # the body says op2; the session says op1: the journal says op1
        posted = await api.post("/v1/ops", json=receive(actor="op2"), headers=me)
        assert posted.status_code == 201 and posted.json()["actor"] == "op1"
        stored = (await api.get(f"/v1/ops/{posted.json()['seq']}")).json()
        assert stored["actor"] == "op1"
        # the same goes for every route that records an op
        task = await api.post("/v1/tasks", json={"task_kind": "count", "zone": "Z", "actor": "sup1"}, headers=me)
        assert task.json()["created_by"] == "op1"
        mine = await api.get("/v1/tasks", params={"mine": 1}, headers=me)
        assert [t["task_id"] for t in mine.json()["items"]] == [task.json()["task_id"]]
        assert (await api.post("/v1/tasks/next", json={}, headers=me)).json()["assignee"] == "op1"
        # without a session (optional mode) the body's actor stands, as before
        assert (await api.post("/v1/ops", json=receive(actor="op2"))).json()["actor"] == "op2"
        assert (await api.delete("/v1/sessions/current", headers=me)).status_code == 204
        gone = await api.post("/v1/ops", json=receive(), headers=me)
        assert gone.status_code == 401 and "log in again" in gone.json()["detail"]
        assert (await api.delete("/v1/sessions/current")).status_code == 401
        assert gw.ctx is not None
        sessions = [
            (e.body["payload"]["event"], e.body["payload"]["operator_id"], e.body["payload"]["station"])
            for e in gw.ctx.journal.entries(kind=OpKind.SESSION)
        ]
        assert sessions == [("login", "op1", "HH-7"), ("logout", "op1", "HH-7")]
        refused = gw.ctx.journal.entries(kind=OpKind.EXCEPTION)
        assert [e.body["payload"]["code"] for e in refused] == ["pin_refused"]  # three refusals, one flood window
        journal_text = str([e.body for e in gw.ctx.journal.entries()])
        assert opened["token"] not in journal_text  # the token is never recorded
        assert all("pin" not in e.body["payload"] for e in gw.ctx.journal.entries())


async def test_a_session_expires_on_the_gateways_clock_and_survives_a_restart(tmp_path: Path) -> None:
    cfg = sessions_site(tmp_path, session_minutes=60)
    clock = ManualClock()
    async with running(cfg, clock) as (api, _):
        me = await login(api, "op1", PIN_OP1)
        await clock.advance(30 * 60)
    clock2 = ManualClock(clock.now())
    async with running(cfg, clock2) as (api, _):
        assert (await api.get("/v1/sessions/current", headers=me)).json()["operator_id"] == "op1"
        await clock2.advance(30 * 60 + 1)
        r = await api.get("/v1/sessions/current", headers=me)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


async def test_five_wrong_pins_lock_the_pin_login_for_a_while(tmp_path: Path) -> None:
    clock = ManualClock()
    async with running(sessions_site(tmp_path), clock) as (api, _):
        for _ in range(5):
            assert (await api.post("/v1/sessions", json={"operator": "op1", "pin": "1111"})).status_code == 401
        locked = await api.post("/v1/sessions", json={"operator": "op1", "pin": PIN_OP1})
        assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
        assert (await api.post("/v1/sessions", json={"operator": "sup1", "pin": PIN_SUP1})).status_code == 201
        await clock.advance(15 * 60)
        assert (await api.post("/v1/sessions", json={"operator": "op1", "pin": PIN_OP1})).status_code == 201


async def test_roles_gate_releasing_stock_closing_work_orders_and_overrides(tmp_path: Path) -> None:
    async with running(sessions_site(tmp_path), ManualClock()) as (api, _):
        op1 = await login(api, "op1", PIN_OP1)
        sup = await login(api, "sup1", PIN_SUP1)
        await api.post("/v1/ops", json=receive(status="qc_hold"), headers=op1)
        release = {"payload": {"kind": "qc_release", "sku": "SKU-1", "location": "DOCK", "qty": 4}, "actor": "sup1"}
        refused = await api.post("/v1/ops", json=release, headers=op1)  # naming a supervisor in the body is no use
        assert refused.status_code == 403 and "op1 may not record a qc_release op" in refused.json()["detail"]
        assert (await api.post("/v1/ops", json=release, headers=sup)).json()["actor"] == "sup1"
        no_body_actor = {**release, "actor": "op2"}
        assert (await api.post("/v1/ops", json=no_body_actor)).status_code == 403  # op2 is an operator
        wo = (
            await api.post("/v1/work-orders", json={"wo_type": "damaged_goods", "location": "DOCK"}, headers=op1)
        ).json()
        assert wo["opened_by"] == "op1"
        close = await api.post(
            f"/v1/work-orders/{wo['work_order_id']}/close", json={"reason": "ok", "actor": "sup1"}, headers=op1
        )
        assert close.status_code == 403
        close = await api.post(f"/v1/work-orders/{wo['work_order_id']}/close", json={"reason": "scrapped"}, headers=sup)
        assert close.status_code == 200 and close.json()["updated_by"] == "sup1"
        tid = (
            await api.post("/v1/tasks", json={"task_kind": "pick", "zone": "Z", "role": "supervisor"}, headers=sup)
        ).json()["task_id"]
        over = {"assignee": "op1", "override": True}
        assert (await api.post(f"/v1/tasks/{tid}/assign", json=over, headers=op1)).status_code == 403
        assert (await api.post(f"/v1/tasks/{tid}/assign", json=over, headers=sup)).json()["assignee"] == "op1"


async def test_through_a_session_only_the_assignee_or_a_supervisor_moves_a_task(tmp_path: Path) -> None:
    cfg = sessions_site(tmp_path)
    data = cfg.model_dump(mode="json")
    data["operators"][1]["pin_hash"] = hash_pin("5555")  # op2
    async with running(parse_config(data), ManualClock()) as (api, _):
        op1, op2 = await login(api, "op1", PIN_OP1), await login(api, "op2", "5555")
        sup = await login(api, "sup1", PIN_SUP1)
        tid = (await api.post("/v1/tasks", json={"task_kind": "pick", "assignee": "op1"}, headers=sup)).json()[
            "task_id"
        ]
        r = await api.post(f"/v1/tasks/{tid}/start", json={}, headers=op2)
        assert (
            r.status_code == 403
            and r.json()["detail"] == f"op2 may not start task {tid}: it is assigned to op1 (a supervisor may)"
        )
        assert (await api.post(f"/v1/tasks/{tid}/cancel", json={"reason": "mine now"}, headers=op2)).status_code == 403
        assert (await api.post(f"/v1/tasks/{tid}/start", json={}, headers=op1)).json()["updated_by"] == "op1"
        done = await api.post(f"/v1/tasks/{tid}/done", json={"actor": "op2"}, headers=sup)
        assert done.status_code == 200 and done.json()["updated_by"] == "sup1"


async def test_ops_of_the_floor_flows_carry_the_sessions_operator_too(tmp_path: Path) -> None:
    data = sessions_site(tmp_path).model_dump(mode="json")
    data["inbound_orders"] = [{"id": "ASN-1", "dock": "DOCK", "lines": [{"line": 1, "sku": "SKU-1", "qty": 10}]}]
    async with running(parse_config(data), ManualClock()) as (api, gw):
        me = await login(api, "op1", PIN_OP1)
        scan = {"asn_id": "ASN-1", "line": 1, "qty": 4, "item": "SKU-1", "actor": "sup1"}
        assert (await api.post("/v1/inbound/receipts", json=scan, headers=me)).status_code == 201
        wrong = await api.post("/v1/inbound/receipts", json={**scan, "item": "SKU-2"}, headers=me)
        assert wrong.status_code == 422
        assert (await api.post("/v1/inbound/receipts", json={**scan, "qty": 1})).status_code == 201  # no session
        assert gw.ctx is not None
        actors = [(e.body["kind"], e.body["actor"]) for e in gw.ctx.journal.entries() if e.body["kind"] != "session"]
        assert actors == [("receive", "op1"), ("exception", "op1"), ("receive", "sup1")]


async def test_required_sessions_refuse_anonymous_writes(tmp_path: Path) -> None:
    async with running(sessions_site(tmp_path, operator_sessions="required"), ManualClock()) as (api, _):
        r = await api.post("/v1/ops", json=receive())
        assert r.status_code == 401 and "log in (POST /v1/sessions)" in r.json()["detail"]
        assert (await api.post("/v1/tasks", json={"task_kind": "count"})).status_code == 401
        assert (await api.get("/v1/stock")).status_code == 200  # reads stay open to the API token
        me = await login(api, "op1", PIN_OP1)
        assert (await api.post("/v1/ops", json=receive(), headers=me)).json()["actor"] == "op1"
        bad = await api.post("/v1/ops", json=receive(), headers={SESSION_HEADER: "forged"})
        assert bad.status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "task", "task_id": "T-1", "task_kind": "pick", "transition": "create", "state": "open"},
        {"kind": "work_order", "work_order_id": "WO-1", "action": "close", "wo_type": "short_pick"},
        {"kind": "session", "event": "login", "operator_id": "sup1", "station": "HH-1"},
        {"kind": "command_applied", "command_id": "c1", "cursor": 1, "command_type": "x", "result": "applied"},
    ],
)
async def test_gateway_only_kinds_are_refused_on_post_ops(tmp_path: Path, payload: dict[str, Any]) -> None:
    async with running(sessions_site(tmp_path), ManualClock()) as (api, gw):
        r = await api.post("/v1/ops", json={"payload": payload, "actor": "op1"})
        assert r.status_code == 422 and r.json()["code"] == "kind_not_allowed"
        assert r.json()["detail"].startswith(f"{payload['kind']} ops are written by the gateway itself")
        assert r.json()["errors"][0]["loc"] == ["body", "payload", "kind"]
        assert gw.journal.head()[0] == 0


async def test_a_badge_on_the_stations_reader_opens_a_session_while_it_stays(tmp_path: Path) -> None:
    clock = ManualClock()
    async with running(sessions_site(tmp_path), clock) as (api, gw):
        assert gw.ctx is not None
        r = await api.post("/v1/sessions", json={"badge": True, "station": "DOCK"})
        assert r.status_code == 401 and "tap a badge first" in r.json()["detail"]
        # what BadgeStation does when op2's card lands on the DOCK reader
        gw.ctx.sessions.start("DOCK", Session("op2", "04AABBCCDD", clock.now(), clock.monotonic()))
        r = await api.post("/v1/sessions", json={"badge": True, "station": "DOCK"})
        assert r.status_code == 201 and (r.json()["operator_id"], r.json()["method"]) == ("op2", "badge")
        me = {SESSION_HEADER: r.json()["token"]}
        await clock.advance(120)
        assert (await api.post("/v1/ops", json=receive(actor="sup1"), headers=me)).json()["actor"] == "op2"
        badge = gw.ctx.sessions.get("DOCK")
        assert badge is not None and badge.last_activity == clock.monotonic()  # the badge's idle timer restarts
        gw.ctx.sessions.end("DOCK")  # the card is taken off the reader
        assert (await api.get("/v1/sessions/current", headers=me)).status_code == 401


def test_an_rfid_read_point_records_the_operator_logged_in_at_its_door() -> None:
    stations = StationSessions()
    mapper = RfidMapper(MASTER, {DOCK.name: DOCK}, sessions=stations)
    first = mapper.map_event(event(decode_epc(case_epc(1, 1)), DOCK))
    assert first is not None and first.actor == "device:D1"  # no one at the door: the reader
    stations.start(DOCK.location or "", Session("op-zhang", "04A1", datetime(2026, 3, 2, tzinfo=UTC), 0.0))
    second = mapper.map_event(event(decode_epc(case_epc(1, 2)), DOCK))
    assert second is not None and isinstance(second.payload, ReceivePayload)
    assert (second.actor, second.device_id) == ("op-zhang", "D1")


def test_pin_hash_command_prints_a_hash_that_verifies() -> None:
    from argon2 import PasswordHasher
    from typer.testing import CliRunner

    from wims.cli import app

    out = CliRunner().invoke(app, ["edge", "operator", "pin-hash", "--stdin"], input="24680\n")
    assert out.exit_code == 0, out.output
    hashed = out.output.strip()
    assert hashed.startswith("$argon2id$") and PasswordHasher().verify(hashed, "24680")
    parse_config({**site_dict(Path("/tmp")), "operators": [{"id": "x", "pin_hash": hashed}]})  # the TOML takes it
    bad = CliRunner().invoke(app, ["edge", "operator", "pin-hash", "--stdin"], input="12ab\n")
    assert bad.exit_code == 2 and "4 to 32 digits" in bad.output
