"""The agent verifies the cloud's certificate: against a site CA when given one, never blindly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import trustme

from sync.ops import OpDraft, utc_now
from tests.sync.harness import CloudProcess, running, site, wait_synced


def _receive() -> OpDraft:
    return OpDraft.model_validate(
        {
            "payload": {"kind": "receive", "sku": "SKU-1", "location": "L-1", "qty": 2},
            "actor": "tls",
            "occurred_at": utc_now(),
        }
    )


async def test_agent_trusts_only_the_configured_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    cloud = CloudProcess(
        f"sqlite:///{tmp_path / 'cloud.sqlite'}", ssl_certfile=tmp_path / "cert.pem", ssl_keyfile=tmp_path / "key.pem"
    )
    token = cloud.register("gw-tls", "WH-TLS")
    cloud.start()
    try:
        assert cloud.url.startswith("https://")
        untrusting = site(tmp_path / "a", "gw-tls", "WH-TLS", cloud.url, token, backoff_max_seconds=0.2)
        async with running(untrusting) as gw:  # the system store does not know the test CA
            await gw.journal.append(_receive())
            for _ in range(100):
                await asyncio.sleep(0.05)
                if gw.sync and gw.sync.agent.status.last_error:
                    break
            assert gw.sync is not None and "CERTIFICATE_VERIFY_FAILED" in (gw.sync.agent.status.last_error or "")
            assert gw.sync.agent.status.acked_seq == 0
        trusting = site(tmp_path / "a", "gw-tls", "WH-TLS", cloud.url, token, ca_file=str(tmp_path / "ca.pem"))
        async with running(trusting) as gw:
            await wait_synced(gw, 30)
            assert cloud.verify_chain("gw-tls") == 1
    finally:
        cloud.stop()
