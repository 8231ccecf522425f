"""A TCP proxy for fault tests, on the real path between a gateway and the cloud.

It forwards bytes both ways and, on command, misbehaves the way networks do: refuse or drop
connections, cut a response after the server has answered (so the server committed and the client
never heard), duplicate a request (replay the client's bytes on a second connection), and add latency.
Faults are drawn per connection from a seeded RNG, so a failing run can be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field


@dataclass
class Faults:
    drop_connect: float = 0.0  # close the client's connection at once
    cut_response: float = 0.0  # forward the request, then close before the whole response is back
    duplicate_request: float = 0.0  # also send the request bytes to the server on a second connection
    latency: float = 0.0  # seconds added before forwarding each chunk to the server


@dataclass
class ProxyStats:
    connections: int = 0
    dropped: int = 0
    cut: int = 0
    duplicated: int = 0


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    stats: ProxyStats = field(default_factory=ProxyStats)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> FaultProxy:
        self._rng = random.Random(self.seed)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        """One client connection carries one exchange: faults are drawn per request, keep-alive or not."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        f = self.faults
        try:
            if self._rng.random() < f.drop_connect:
                self.stats.dropped += 1
                return
            cut = self._rng.random() < f.cut_response
            dup = self._rng.random() < f.duplicate_request
            try:
                sr, sw = await asyncio.open_connection(self.upstream_host, self.upstream_port)
            except OSError:
                return
            copy = bytearray()
            up = asyncio.create_task(self._pump_up(cr, sw, f.latency, copy))
            try:
                await self._pump_down(sr, cw, cut)
            finally:
                up.cancel()
                await asyncio.gather(up, return_exceptions=True)
                sw.close()
            cw.close()
            if dup and copy:
                self.stats.duplicated += 1
                await self._replay(bytes(copy))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a test utility: a cut or a shutdown simply ends this connection
        finally:
            cw.close()
            self._tasks.discard(task)

    async def _pump_up(self, r: asyncio.StreamReader, w: asyncio.StreamWriter, latency: float, copy: bytearray) -> None:
        while data := await r.read(65536):
            if latency:
                await asyncio.sleep(latency)
            copy += data
            w.write(data)
            await w.drain()

    async def _pump_down(self, r: asyncio.StreamReader, w: asyncio.StreamWriter, cut: bool) -> None:
        """Forward the response; end the exchange once it has gone quiet (or cut it at once)."""
        got_any = False
        while True:
            try:
                data = await asyncio.wait_for(r.read(65536), 0.2 if got_any else None)
            except TimeoutError:
                return  # the response is complete: close, so the next request takes a new connection
            if not data:
                return
            if cut or self.faults.cut_response >= 1.0:  # certain cuts apply at once, on open connections too
                self.stats.cut += 1
                w.transport.abort()  # the server has answered: the client never hears it
                return
            got_any = True
            w.write(data)
            await w.drain()

    async def _replay(self, request: bytes) -> None:
        with contextlib.suppress(OSError):
            sr, sw = await asyncio.open_connection(self.upstream_host, self.upstream_port)
            sw.write(request)
            await sw.drain()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sr.read(65536), 10)
            sw.close()
