"""Property tests: any delivery schedule leaves the ledger equal to the ops' deltas, and fuzzed API calls
never produce a 500.

The ledger property is the design's invariant 1 (exactly once in effect, whatever the exchange does):
batches are cut at random, repeated, reordered and overlapped, then the gateway resends from the cloud's
``acked_seq`` until everything is in, as the sync agent does.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.db.engine import make_engine
from cloud.ingest.gateways import add_gateway
from sync.clock import SystemClock
from sync.ledger import effect_of
from sync.ops import (
    AdjustPayload,
    MovePayload,
    Payload,
    QcHoldPayload,
    ReceivePayload,
    ReservePayload,
    TransferOutPayload,
)
from tests.cloud.conftest import Cloud
from tests.cloud.helpers import auth, chain, push

SKUS = ("S1", "S2")
LOCS = ("A", "B")


def payload_strategy() -> st.SearchStrategy[Payload]:
    sku, loc, qty = st.sampled_from(SKUS), st.sampled_from(LOCS), st.integers(1, 9)
    two_locs = st.permutations(LOCS).map(lambda p: (p[0], p[1]))
    return st.one_of(
        st.builds(lambda s, loc, q: ReceivePayload(sku=s, location=loc, qty=q), sku, loc, qty),
        st.builds(
            lambda s, ab, q: MovePayload(sku=s, from_location=ab[0], to_location=ab[1], qty=q), sku, two_locs, qty
        ),
        st.builds(lambda s, loc, q: ReservePayload(sku=s, location=loc, qty=q, order_id="SO"), sku, loc, qty),
        st.builds(lambda s, loc, q: QcHoldPayload(sku=s, location=loc, qty=q, reason="qc"), sku, loc, qty),
        st.builds(lambda s, loc, q: AdjustPayload(sku=s, location=loc, qty_delta=-q, reason="loss"), sku, loc, qty),
        st.builds(
            lambda s, loc, q: TransferOutPayload(sku=s, transfer_id="T1", to_warehouse="X", location=loc, qty=q),
            sku,
            loc,
            qty,
        ),
    )


def expected_stock(payloads: list[Payload], warehouse: str) -> dict[tuple[str, str, str], int]:
    total: Counter[tuple[str, str, str]] = Counter()
    for p in payloads:
        for d in effect_of(p, warehouse).stock:
            total[(d.key.sku, d.key.location, d.key.status.value)] += d.qty
    return {k: v for k, v in total.items() if v}


def cloud_stock(cloud: Cloud, warehouse: str) -> dict[tuple[str, str, str], int]:
    r = cloud.client.get("/v1/stock", params={"warehouse": warehouse, "limit": 1000}, headers=cloud.h("admin"))
    out: dict[tuple[str, str, str], int] = {}
    for i in r.json()["items"]:
        for status in ("available", "reserved", "qc_hold", "damaged"):
            if i[status]:
                out[(i["sku"], i["location"], status)] = i[status]
    return out


def new_gateway(cloud: Cloud) -> tuple[str, str, str]:
    gw = f"GW-{uuid.uuid4().hex[:8]}"
    engine = make_engine(cloud.url, pool_size=1)
    token = add_gateway(engine, gw, f"WH-{gw}", now=SystemClock().now(), actor="test")
    engine.dispose()
    return gw, f"WH-{gw}", token


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(payload_strategy(), min_size=1, max_size=25),
    cuts=st.lists(st.tuples(st.integers(0, 24), st.integers(1, 10)), max_size=8),
)
def test_any_delivery_schedule_applies_each_op_once(
    cloud: Cloud, payloads: list[Payload], cuts: list[tuple[int, int]]
) -> None:
    gw, warehouse, token = new_gateway(cloud)
    bodies = chain(gw, payloads)
    for start, size in cuts:  # arbitrary slices: early, late, repeated, overlapping
        push(cloud.client, gw, token, bodies[start % len(bodies) : start % len(bodies) + size])
    for _ in range(len(bodies) + 1):  # the agent resends from acked_seq + 1 until done
        acked = cloud.client.get(f"/v1/gateways/{gw}/head", headers=auth(token)).json()["acked_seq"]
        if acked == len(bodies):
            break
        push(cloud.client, gw, token, bodies[acked : acked + 7])
    assert cloud_stock(cloud, warehouse) == expected_stock(payloads, warehouse)


def test_concurrent_pushes_of_the_same_batch_apply_once(cloud: Cloud) -> None:
    gw, warehouse, token = new_gateway(cloud)
    payloads: list[Payload] = [ReceivePayload(sku="S1", location="A", qty=1) for _ in range(200)]
    bodies = chain(gw, payloads)
    results: list[dict[str, Any]] = []

    def go() -> None:
        results.append(push(cloud.client, gw, token, bodies))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["accepted"] for r in results) == [0, 0, 0, 200]
    assert all(r["acked_seq"] == 200 and not r["quarantined"] for r in results)
    assert cloud_stock(cloud, warehouse) == {("S1", "A", "available"): 200}


# ---- API fuzz: every route, random parameters and bodies, several identities: never a 500 -------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
PARAM = st.one_of(st.text(max_size=70), st.integers(-(2**70), 2**70).map(str), st.sampled_from(["GW-A", "W-1", "0"]))


def _routes(cloud: Cloud) -> list[tuple[str, str]]:
    doc = cloud.client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if path != "/v1/events"  # a stream that never ends by itself; fuzzed below with bad params only
    ]


@pytest.fixture
def routes(cloud: Cloud) -> list[tuple[str, str]]:
    return _routes(cloud)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_requests_never_500(cloud: Cloud, routes: list[tuple[str, str]], data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(routes))
    who = data.draw(st.sampled_from(["admin", "operator", "planner", "GW-A", None]))
    for name in ("gateway_id", "code"):
        if "{" + name + "}" in path:
            value = quote(data.draw(PARAM), safe="") or "x"
            path = path.replace("{" + name + "}", value)
    params = data.draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "limit",
                    "offset",
                    "after",
                    "wait",
                    "warehouse",
                    "sku",
                    "lot",
                    "status",
                    "kind",
                    "after_id",
                    "open_only",
                    "transfer_id",
                    "include_resolved",
                ]
            ),
            PARAM,
            max_size=3,
        )
    )
    if params.get("wait"):
        params["wait"] = "0"  # a real wait only slows the fuzz down
    body = data.draw(st.one_of(JSON, st.fixed_dictionaries({"ops": st.lists(JSON, max_size=3)})))
    headers = {**(cloud.h(who) if who else {}), "content-type": "application/json"}
    # NaN and Infinity tokens on purpose: Python's JSON (and so many clients) emit them
    r = cloud.client.request(method, path, params=params, content=json.dumps(body).encode(), headers=headers)
    assert r.status_code < 500, (method, path, params, body, r.text)


def test_events_rejects_bad_identities_and_params(cloud: Cloud) -> None:
    for headers, params, code in itertools.chain(
        [({}, {}, 401), (cloud.h("GW-A"), {}, 403)],
        [(cloud.h("admin"), {"warehouse": ""}, 422), (cloud.h("admin"), {"warehouse": "x" * 65}, 422)],
    ):
        assert cloud.client.get("/v1/events", params=params, headers=headers).status_code == code


def test_non_finite_numbers_are_a_422_not_a_500(cloud: Cloud) -> None:
    """Found by the fuzz: Python's JSON accepts NaN/Infinity, and echoing them back must not crash."""
    headers = {**cloud.h("admin"), "content-type": "application/json"}
    r = cloud.client.post("/v1/gateways", content=b"Infinity", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["input"] == "inf"
    telemetry = b'{"aggregates": [{"sensor_id": "t1", "minute": 5, "n": 1, "vmin": NaN, "vmax": 1, "vsum": 1}]}'
    r = cloud.client.post(
        "/v1/gateways/GW-A/telemetry",
        content=telemetry,
        headers={**cloud.h("GW-A"), "content-type": "application/json"},
    )
    assert r.status_code == 422
    r = cloud.client.post("/v1/gateways/GW-A/ops", content=b'{"ops": [{"seq": NaN}]}', headers=cloud.h("GW-A"))
    assert r.status_code == 422  # the ops decoder refuses non-standard JSON outright


def test_nul_byte_in_a_filter_is_a_422_not_a_500(cloud: Any) -> None:
    """Found by the fuzz on PostgreSQL: text with NUL cannot reach the database; the caller hears why."""
    r = cloud.client.get(
        "/v1/stock", params={"warehouse": "\x00"}, headers={"Authorization": f"Bearer {cloud.user['planner']}"}
    )
    assert r.status_code in (200, 422), r.text
