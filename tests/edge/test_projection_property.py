"""After any random workload, the stock table equals a recomputation from the journal alone."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.config import parse_config
from edge.store.errors import OpRejected
from edge.store.schema import connect
from edge.store.verify import verify_database
from sync.ops import OpDraft, utc_now
from tests.support.edge import LOCATIONS, SKUS, open_journal, site_dict

sku = st.sampled_from(SKUS[:3])
loc = st.sampled_from(LOCATIONS)
lot = st.sampled_from(["", "L1"])
qty = st.integers(1, 20)
status = st.sampled_from(["available", "reserved", "qc_hold", "damaged"])

payloads = st.one_of(
    st.fixed_dictionaries(
        {
            "kind": st.just("receive"),
            "sku": sku,
            "lot": lot,
            "location": loc,
            "qty": qty,
            "status": st.sampled_from(["available", "qc_hold"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["move", "putaway"]),
            "sku": sku,
            "lot": lot,
            "from_location": loc,
            "to_location": loc,
            "qty": qty,
            "status": status,
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["reserve", "unreserve"]),
            "sku": sku,
            "lot": lot,
            "location": loc,
            "qty": qty,
            "order_id": st.just("O1"),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("pick"),
            "sku": sku,
            "lot": lot,
            "from_location": loc,
            "to_location": st.just("STAGE"),
            "qty": qty,
            "order_id": st.just("O1"),
            "from_status": st.sampled_from(["available", "reserved"]),
        }
    ),
    st.fixed_dictionaries(
        {"kind": st.just("ship"), "sku": sku, "lot": lot, "location": loc, "qty": qty, "order_id": st.just("O1")}
    ),
    st.fixed_dictionaries(
        {"kind": st.just("qc_hold"), "sku": sku, "lot": lot, "location": loc, "qty": qty, "reason": st.just("check")}
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("qc_release"),
            "sku": sku,
            "lot": lot,
            "location": loc,
            "qty": qty,
            "to_status": st.sampled_from(["available", "damaged"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("adjust"),
            "sku": sku,
            "lot": lot,
            "location": loc,
            "qty_delta": st.integers(-15, 15).filter(bool),
            "status": status,
            "reason": st.just("fix"),
        }
    ),
    st.builds(
        lambda s, lt, lc, c: {
            "kind": "count",
            "sku": s,
            "lot": lt,
            "location": lc,
            "counted_qty": c,
            "book_qty": 0,
            "delta": c,
        },
        sku,
        lot,
        loc,
        st.integers(0, 30),
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("transfer_out"),
            "sku": sku,
            "lot": lot,
            "location": loc,
            "qty": qty,
            "transfer_id": st.just("T1"),
            "to_warehouse": st.just("WH-2"),
        }
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(payloads, min_size=1, max_size=12), min_size=1, max_size=8), st.booleans())
def test_projection_equals_recomputation(batches: list[list[dict[str, object]]], negative_ok: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(site_dict(Path(tmp), allow_negative_stock=negative_ok))

        async def run() -> int:
            accepted = 0
            async with open_journal(cfg) as j:
                for batch in batches:  # each inner list is appended concurrently (one group commit)
                    drafts = []
                    for p in batch:
                        try:
                            drafts.append(
                                OpDraft.model_validate({"payload": p, "actor": "prop", "occurred_at": utc_now()})
                            )
                        except ValueError:
                            continue  # e.g. a move to the same location: the model refuses it
                    results = await asyncio.gather(*(j.append(x) for x in drafts), return_exceptions=True)
                    for r in results:
                        if isinstance(r, BaseException):
                            assert isinstance(r, OpRejected), r
                            assert r.code == "insufficient_stock" and not negative_ok
                        else:
                            accepted += 1
                stock = j.stock()
            if not negative_ok:
                assert all(line.qty >= 0 for line in stock)
            return accepted

        accepted = asyncio.run(run())
        report = verify_database(connect(str(cfg.store.path), readonly=True))
        assert report.chain_error is None
        assert report.projection_diffs == []
        assert report.ops == accepted


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payloads, min_size=1, max_size=60), st.booleans())
def test_projection_holds_with_groups_planned_during_fsyncs(ops: list[dict[str, object]], negative_ok: bool) -> None:
    """Every COMMIT on the writer thread and small groups: most groups are planned ahead, on a book that
    the group in flight has not reached yet."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(site_dict(Path(tmp), allow_negative_stock=negative_ok))
        drafts = []
        for p in ops:
            try:
                drafts.append(OpDraft.model_validate({"payload": p, "actor": "prop", "occurred_at": utc_now()}))
            except ValueError:
                continue

        async def run() -> int:
            async with open_journal(cfg, inline_commit_below=0.0, max_batch=4) as j:
                results = await asyncio.gather(*(j.append(x) for x in drafts), return_exceptions=True)
                for r in results:
                    if isinstance(r, BaseException):
                        assert isinstance(r, OpRejected) and r.code == "insufficient_stock" and not negative_ok, r
                if not negative_ok:
                    assert all(line.qty >= 0 for line in j.stock())
            return sum(not isinstance(r, BaseException) for r in results)

        accepted = asyncio.run(run())
        report = verify_database(connect(str(cfg.store.path), readonly=True))
        assert report.chain_error is None and report.projection_diffs == [] and report.ops == accepted
