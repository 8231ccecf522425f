"""A real webhook receiver for the hand-off tests: uvicorn on a free port, verifying each message with the
``standardwebhooks`` package (the reference implementation), as a carrier's TMS would.

It can be down (not listening at all: connection refused), answer an error status, or accept. It keeps
every request and, per ``webhook-id``, how many times it accepted the message: "delivered exactly once"
is one accepted request per id.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Seen:
    msg_id: str
    status: int
    verified: bool
    body: dict[str, Any] | None
    error: str = ""


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    secret: str = SECRET
    answer: int = 204
    fail_next: int = 0
    """Answer 503 to this many requests first (a receiver up but not ready)."""
    seen: list[Seen] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tms"

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            raw = await request.body()
            msg_id = request.headers.get("webhook-id", "")
            try:
                body = Webhook(self.secret).verify(raw, dict(request.headers))
            except WebhookVerificationError as exc:
                self.seen.append(Seen(msg_id, 401, False, None, str(exc)))
                return JSONResponse({"error": str(exc)}, status_code=401)
            answer = self.answer
            if self.fail_next > 0:
                self.fail_next -= 1
                answer = 503
            self.seen.append(Seen(msg_id, answer, True, body))
            if 200 <= answer < 300:
                self.accepted[msg_id] += 1
            return Response(status_code=answer)

        return Starlette(routes=[Route("/hooks/tms", hook, methods=["POST"])])

    async def start(self) -> None:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("receiver did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._server = self._task = None

    def start_in_thread(self) -> None:
        """Serve from a thread of its own (for tests that block on a gateway process meanwhile)."""
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)

    def stop_thread(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = None
        self._thread = None


async def wait_until(check: Any, timeout: float = 20.0) -> None:
    """Poll ``check()`` on real time: the sender's HTTP exchanges take real time even on a manual clock."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)
