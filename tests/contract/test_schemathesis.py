"""Schemathesis, an independent tool, fuzzes both running APIs from their own OpenAPI documents.

The cloud runs as a real uvicorn process on PostgreSQL, fuzzed as an admin and, for the gateway's own
routes, as a gateway; the gateway runs as ``wims edge run`` with an API token. Bounded in examples per
operation (``WIMS_FUZZ_EXAMPLES``, default 25) so that it fits CI. The checks: no 5xx, every status
code and content type documented, every response body matching its documented schema, and 405s that
list the methods the path has.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cloud.devserver import CloudProcess
from firmware_sim.ports import free_port
from tests.support.pg import temporary_database

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("WIMS_FUZZ_EXAMPLES", "25")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
    ]
)
PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.postgres


def schemathesis(url: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``schemathesis run`` as a user would type it; the report is printed when it fails."""
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--phases",
        "examples,fuzzing",
        "--seed",
        "20261124",
        "--request-timeout",
        "20",
        "--workers",
        "2",
        "--no-color",
        *extra,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    print(" ".join(cmd[:3]), "...", "\n".join(result.stdout.splitlines()[-25:]))
    return result


def test_schemathesis_finds_nothing_in_the_cloud_api() -> None:
    env = {"WIMS_MAX_LONG_POLL_S": "1", "WIMS_PASSWORD_TIME_COST": "1", "WIMS_PASSWORD_MEMORY_KIB": "1024"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the cloud process reads its settings from the environment
    try:
        with temporary_database() as url:
            cloud = CloudProcess(url)
            gw_token = cloud.register("GW-FUZZ", "WH-FUZZ")
            cloud.add_user("fuzz", "admin", PASSWORD)
            cloud.start()
            try:
                admin = cloud.login("fuzz", PASSWORD)
                as_admin = schemathesis(cloud.url, admin, "--exclude-path", "/v1/events")
                as_gateway = schemathesis(cloud.url, gw_token, "--include-path-regex", "^/v1/gateways/")
            finally:
                cloud.stop()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert as_admin.returncode == 0, as_admin.stdout[-20000:]
    assert as_gateway.returncode == 0, as_gateway.stdout[-20000:]


def test_schemathesis_finds_nothing_in_the_gateway_api(tmp_path: Path) -> None:
    port = free_port()
    token = "fuzzing-token-0123456789"
    cfg = tmp_path / "site.toml"
    cfg.write_text(f"""
[site]
gateway_id = "gw-fuzz"
warehouse = "WH-FUZZ"
[store]
path = "{tmp_path / "edge.sqlite"}"
[api]
port = {port}
token = "{token}"
[[zones]]
code = "Z"
[[locations]]
code = "A"
zone = "Z"
[[skus]]
code = "S"
gtin = "00000000000017"
[[operators]]
id = "sup1"
roles = ["supervisor"]
""")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wims.cli import main; main()", "edge", "run", "--config", str(cfg)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.1)
        result = schemathesis(f"http://127.0.0.1:{port}", token)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert result.returncode == 0, result.stdout[-20000:]
