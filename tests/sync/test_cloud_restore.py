"""The cloud restored from a backup older than what it acknowledged: gateways notice and resend."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sync.ops import OpDraft, utc_now
from tests.sync.harness import CloudProcess, edge_stock, running, site, wait_synced


async def _receive(gw: object, n: int) -> None:
    journal = gw.journal  # type: ignore[attr-defined]
    await asyncio.gather(
        *(
            journal.append(
                OpDraft.model_validate(
                    {
                        "payload": {"kind": "receive", "sku": "SKU-1", "location": "L-1", "qty": 1},
                        "actor": "t",
                        "occurred_at": utc_now(),
                    }
                )
            )
            for _ in range(n)
        )
    )


def _backup(db: Path, to: Path) -> None:
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    src.backup(dst)
    src.close()
    dst.close()


def _restore(backup: Path, db: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, db)


async def test_gateway_resends_what_a_restored_cloud_lost(tmp_path: Path) -> None:
    db = tmp_path / "cloud.sqlite"
    cloud = CloudProcess(f"sqlite:///{db}")
    token = cloud.register("gw-r", "WH-R")
    cloud.start()
    try:
        cfg = site(tmp_path, "gw-r", "WH-R", cloud.url, token, head_check_seconds=0.3, backoff_max_seconds=0.5)
        async with running(cfg) as gw:
            await _receive(gw, 300)
            await wait_synced(gw, 60)
            _backup(db, tmp_path / "backup.sqlite")
            await _receive(gw, 300)
            await wait_synced(gw, 60)
            cloud.kill()
            _restore(tmp_path / "backup.sqlite", db)
            cloud.start()
            assert cloud.verify_chain("gw-r") == 300  # the cloud forgot 301..600
            for _ in range(100):  # idle: the periodic head check notices the high-water mark went back
                await asyncio.sleep(0.1)
                if gw.sync and gw.sync.agent.status.regressions:
                    break
            await wait_synced(gw, 60)
            assert gw.sync is not None and gw.sync.agent.status.regressions >= 1
            assert cloud.verify_chain("gw-r") == 600
            assert cloud.stock("WH-R") == edge_stock(gw)
    finally:
        cloud.stop()


async def test_what_the_gateway_no_longer_holds_is_reported_not_skipped(tmp_path: Path) -> None:
    db = tmp_path / "cloud.sqlite"
    cloud = CloudProcess(f"sqlite:///{db}")
    token = cloud.register("gw-l", "WH-L")
    cloud.start()
    try:
        cfg = site(
            tmp_path,
            "gw-l",
            "WH-L",
            cloud.url,
            token,
            head_check_seconds=0.3,
            backoff_max_seconds=0.5,
            retention_days=0,
        )
        async with running(cfg) as gw:
            await _receive(gw, 200)
            await wait_synced(gw, 60)
            _backup(db, tmp_path / "backup.sqlite")
            await _receive(gw, 200)
            await wait_synced(gw, 60)
            assert gw.sync is not None
            assert await gw.sync.compact_now() == 400  # acknowledged and past retention
            cloud.kill()
            _restore(tmp_path / "backup.sqlite", db)
            cloud.start()
            for _ in range(100):
                await asyncio.sleep(0.1)
                if gw.sync.agent.status.lost_ranges:
                    break
            assert gw.sync.agent.status.lost_ranges == [(201, 400)]
            health = gw.health.get("sync")
            assert health is not None and health.status == "down" and "(201, 400)" in health.detail
            await _receive(gw, 10)  # the gateway keeps working; sync holds at the hole instead of skipping it
            await asyncio.sleep(1.0)
            assert cloud.verify_chain("gw-l") == 200
            assert gw.sync.agent.status.acked_seq == 200
        from edge.store.schema import connect
        from edge.store.verify import verify_database

        report = verify_database(connect(str(cfg.store.path), readonly=True))
        assert report.ok and report.head_seq == 410  # the edge chain still verifies across compaction
    finally:
        cloud.stop()
