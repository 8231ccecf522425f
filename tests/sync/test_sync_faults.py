"""Store-and-forward under faults: every op reaches the cloud exactly once, and stock agrees."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloud.devserver import free_port
from edge.config import SiteConfig
from sync.ops import OpDraft, utc_now
from tests.support.faultproxy import FaultProxy, Faults
from tests.sync.harness import LOCS, SKUS, CloudProcess, edge_stock, running, site, wait_synced
from wims.cli import app


async def _workload(gw: object, n: int, seed: int, concurrency: int = 20) -> None:
    rng = random.Random(seed)
    journal = gw.journal  # type: ignore[attr-defined]

    async def worker(k: int) -> None:
        for _ in range(n // concurrency):
            payload = {
                "kind": "receive",
                "sku": rng.choice(SKUS),
                "location": rng.choice(LOCS),
                "qty": rng.randint(1, 5),
            }
            await journal.append(
                OpDraft.model_validate({"payload": payload, "actor": f"w{k}", "occurred_at": utc_now()})
            )

    await asyncio.gather(*(worker(k) for k in range(concurrency)))


async def test_agent_pushes_and_resumes(tmp_path: Path) -> None:
    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
    token = cloud.register("gw-a", "WH-A")
    cloud.start()
    try:
        cfg = site(tmp_path, "gw-a", "WH-A", cloud.url, token, batch_max_ops=200)
        async with running(cfg) as gw:
            await _workload(gw, 1000, 1)
            await wait_synced(gw, 60)
            assert cloud.verify_chain("gw-a") == 1000
            assert cloud.stock("WH-A") == edge_stock(gw)
        async with running(cfg) as gw:  # a restart resumes from the journal: nothing is sent twice
            await _workload(gw, 200, 2)
            await wait_synced(gw, 60)
            assert gw.sync is not None and gw.sync.agent.status.duplicate_ops == 0
            assert cloud.verify_chain("gw-a") == 1200
        await asyncio.to_thread(_check_reconcile_and_status, tmp_path, cloud, cfg)  # the CLI runs its own loop
    finally:
        cloud.stop()


def _check_reconcile_and_status(tmp_path: Path, cloud: CloudProcess, cfg: SiteConfig) -> None:
    """`wims reconcile check` and `wims edge sync status` on the synced gateway, then with a backlog."""
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(tomli_w_minimal(cfg))
    cloud.add_user("plan", "planner", "pw-plan-123")
    runner = CliRunner()
    args = ["reconcile", "check", "-c", str(site_toml), "--user", "plan", "--password", "pw-plan-123"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "no difference" in r.output, r.output
    draft = {"payload": {"kind": "receive", "sku": "SKU-0", "location": "L-0", "qty": 3}, "actor": "cli"}
    assert runner.invoke(app, ["edge", "append", "-c", str(site_toml)], input=json.dumps(draft)).exit_code == 0
    r = runner.invoke(app, args)
    assert r.exit_code == 1 and "1 differences at WH-A" in r.output and "SKU-0" in r.output
    r = runner.invoke(app, ["edge", "sync", "status", "-c", str(site_toml), "--json"])
    status = json.loads(r.stdout)
    assert status["backlog_ops"] == 1 and status["acked_seq"] == 1200 and status["head_seq"] == 1201


def tomli_w_minimal(cfg: SiteConfig) -> str:
    """The harness site as TOML (only what the CLI needs to find the journal and the cloud)."""
    return (
        f'[site]\ngateway_id = "{cfg.site.gateway_id}"\nwarehouse = "{cfg.site.warehouse}"\n'
        f'[store]\npath = "{cfg.store.path}"\n[api]\nport = {free_port()}\n'
        f'[sync]\nurl = "{cfg.sync.url}"\ntoken = "{cfg.sync.token}"\n'
        + "".join(f'[[zones]]\ncode = "{z.code}"\n' for z in cfg.zones)
        + "".join(f'[[locations]]\ncode = "{loc.code}"\nzone = "{loc.zone}"\n' for loc in cfg.locations)
        + "".join(f'[[skus]]\ncode = "{s.code}"\ngtin = "{s.gtin}"\n' for s in cfg.skus)
    )


async def _lost_acknowledgements(cloud: CloudProcess, faults: Faults, proxy: FaultProxy, gw: object) -> None:
    """Every response cut until the cloud has committed a fresh batch: the gateway must resend it.

    The random faults above are drawn per connection, and a keep-alive connection carries many
    exchanges, so whether one of them cut a push (rather than a long-poll) varies from run to run. This
    phase makes the case the exactly-once check needs certain: the cloud holds ops whose acknowledgement
    the gateway never heard, and a connection is also dropped and a request replayed.
    """
    gateway_id = gw.config.site.gateway_id  # type: ignore[attr-defined]
    saved = (faults.drop_connect, faults.cut_response, faults.duplicate_request)
    faults.drop_connect, faults.cut_response, faults.duplicate_request = 0.3, 1.0, 0.5
    try:
        await _workload(gw, 300, 99)
        head = gw.journal.head()[0]  # type: ignore[attr-defined]
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            stats = proxy.stats
            in_cloud = cloud.query("SELECT max(seq) FROM ops WHERE gateway_id = :g", g=gateway_id)[0][0] or 0
            if in_cloud >= head and stats.cut and stats.dropped and stats.duplicated:
                break
            assert asyncio.get_running_loop().time() < deadline, f"cloud at {in_cloud} of {head}, {stats}"
            await asyncio.sleep(0.1)
    finally:
        faults.drop_connect, faults.cut_response, faults.duplicate_request = saved


@pytest.mark.slow
async def test_three_gateways_through_faults_and_cloud_restarts(tmp_path: Path) -> None:
    cloud = CloudProcess(f"sqlite:///{tmp_path / 'cloud.sqlite'}")
    names = [("gw-1", "WH-1"), ("gw-2", "WH-2"), ("gw-3", "WH-3")]
    tokens = {g: cloud.register(g, w) for g, w in names}
    cloud.start()
    faults = Faults(drop_connect=0.1, cut_response=0.15, duplicate_request=0.1, latency=0.0)
    per_gateway = 16_680  # 50,040 ops in all
    try:
        async with FaultProxy("127.0.0.1", cloud.port, faults=faults, seed=7) as proxy:
            url = f"http://127.0.0.1:{proxy.port}"
            cfgs = [
                site(tmp_path, g, w, url, tokens[g], batch_max_ops=300, backoff_max_seconds=1.0, timeout_seconds=10)
                for g, w in names
            ]
            async with running(cfgs[0]) as g1, running(cfgs[1]) as g2, running(cfgs[2]) as g3:
                gws = [g1, g2, g3]
                load = asyncio.gather(*(_workload(gw, per_gateway, i) for i, gw in enumerate(gws)))
                for _ in range(2):  # the cloud dies twice mid-stream
                    await asyncio.sleep(1.0)
                    cloud.kill()
                    await asyncio.sleep(0.5)
                    cloud.start()
                faults.latency = 2.0  # a slow link for a while: 2 s on every request
                await asyncio.sleep(6)
                faults.latency = 0.0
                await load
                for gw in gws:
                    await wait_synced(gw, 120)
                await _lost_acknowledgements(cloud, faults, proxy, g1)
                for gw in gws:
                    await wait_synced(gw, 120)
                for (g, w), gw in zip(names, gws, strict=True):
                    # every op once, chain intact (the workload, and the command_applied ops of the master
                    # data the other sites seeded the cloud with)
                    assert cloud.verify_chain(g) == gw.journal.head()[0] >= per_gateway
                    assert cloud.stock(w) == edge_stock(gw)  # invariant 2: idle sync, equal stock
                print(f"proxy: {proxy.stats}")
                assert proxy.stats.cut > 0 and proxy.stats.dropped > 0 and proxy.stats.duplicated > 0
                dup_total = sum(gw.sync.agent.status.duplicate_ops for gw in gws if gw.sync)
                assert dup_total > 0  # resends happened and the cloud deduplicated them
        assert not cloud.query("SELECT count(*) FROM quarantine WHERE NOT resolved")[0][0]
    finally:
        cloud.stop()
