"""SIGTERM stops a real cloud process (uvicorn) within 10 s, whatever is connected: an SSE client and a
command long-poll end at once, and the port is released (a gateway then gets a refusal, not a timeout)."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import pytest

from cloud.devserver import CloudProcess
from tests.cloud.conftest import PASSWORD


def test_sigterm_with_an_sse_client_and_a_long_poll_connected_stops_in_under_10_s(db_url: str) -> None:
    postgres = db_url.startswith("postgresql")
    cloud = CloudProcess(db_url, workers=2 if postgres else 1)
    gw_token = cloud.register("GW-S", "WH-S")
    cloud.add_user("boss", "admin", PASSWORD)
    cloud.start()
    got: dict[str, Any] = {"sse": []}
    connected = threading.Event()
    try:
        user = {"Authorization": f"Bearer {cloud.login('boss', PASSWORD)}"}

        def sse() -> None:
            with httpx.stream("GET", f"{cloud.url}/v1/events", headers=user, timeout=60) as r:
                for line in r.iter_lines():
                    got["sse"].append(line)
                    connected.set()
            got["sse_ended"] = time.monotonic()

        def long_poll() -> None:
            r = httpx.get(
                f"{cloud.url}/v1/gateways/GW-S/commands",
                params={"wait": 60},
                headers={"Authorization": f"Bearer {gw_token}"},
                timeout=90,
            )
            got["poll"] = (r.status_code, r.json(), time.monotonic())

        threads = [threading.Thread(target=sse), threading.Thread(target=long_poll)]
        for t in threads:
            t.start()
        assert connected.wait(10)
        time.sleep(1.0)  # the long-poll is in and waiting
        assert cloud.proc is not None
        t0 = time.monotonic()
        cloud.proc.send_signal(signal.SIGTERM)
        cloud.proc.wait(30)
        stopped = time.monotonic() - t0
        for t in threads:
            t.join(30)
    finally:
        cloud.stop()
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert got["sse"][0] == ": connected" and "event: shutdown" in got["sse"]
    assert got["sse_ended"] - t0 < 5
    status, page, at = got["poll"]
    assert status == 200 and page["items"] == [] and at - t0 < 5
    with pytest.raises(httpx.ConnectError):  # the port is free: a refusal, not a read timeout
        httpx.get(f"{cloud.url}/healthz", timeout=2)
