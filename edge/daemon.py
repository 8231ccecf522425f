"""The gateway daemon: one asyncio process per warehouse, its parts supervised and stopped together.

Start-up opens the journal (migrating it), loads master data from the site config, then starts the
local API, the telemetry flusher and one task per configured device. A device task that fails is
restarted with backoff and marked in health; it never takes the gateway down. On SIGTERM or SIGINT
the API stops taking requests and finishes those in flight, device tasks are cancelled, telemetry is
flushed and the journal commits what is queued before closing: every op acknowledged to anyone is on
disk, because acknowledgement only ever follows the commit.

The parts are tasks the gateway owns and stops itself (``cancel_until_done`` with a deadline) rather
than a TaskGroup's: a TaskGroup waits for ever for a task that will not end, and a gateway must stop
within seconds whatever a driver does. A part still running at the deadline is abandoned with a log
line (``part.abandoned``), and ``wims edge run`` exits once the journal has closed. A part that cannot
run at all (``PartUnavailable``: a missing optional package) is shown in health at once, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CollectorRegistry, Gauge

from edge.aio import cancel_until_done
from edge.api.app import create_app
from edge.capture.runners import NoRunner, PartUnavailable, runner_for
from edge.config import Device, SiteConfig
from edge.context import EdgeContext
from edge.health import HealthBoard
from edge.logs import get_logger
from edge.rules.engine import RulesError, RuleSet
from edge.rules.runner import FloorTasks, RulesRunner
from edge.store.journal import Journal
from edge.store.masterdata import MasterData
from edge.store.telemetry import TelemetryBuffer
from sync.clock import Clock, SystemClock

if TYPE_CHECKING:
    from edge.fleet.master import FleetMaster
    from edge.floor.transport import TransportService
    from edge.uplink.runner import SyncRunner

log = get_logger("wims.edge.daemon")


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Gateway:
    """A running gateway. ``async with Gateway(cfg) as gw: await gw.run(stop_event)``."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        clock: Clock | None = None,
        serve_api: bool = True,
        telemetry_flush_seconds: float = 1.0,
        stop_timeout_s: float = 6.0,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.registry = CollectorRegistry()
        self.health = HealthBoard()
        self.serve_api = serve_api
        self.telemetry_flush_seconds = telemetry_flush_seconds
        self.api_port: int | None = None
        self.api_ready = asyncio.Event()
        self._server: _EmbeddedServer | None = None
        self.stop_timeout_s = stop_timeout_s
        self.abandoned: set[asyncio.Task[Any]] = set()
        self._journal: Journal | None = None
        self.ctx: EdgeContext | None = None
        self.sync: SyncRunner | None = None
        self.rules: RulesRunner | None = None
        self.transport: TransportService | None = None
        self.fleet_master: FleetMaster | None = None

    async def __aenter__(self) -> Gateway:
        cfg = self.config
        self._journal = Journal(
            cfg.store.path,
            gateway_id=cfg.site.gateway_id,
            warehouse=cfg.site.warehouse,
            master=MasterData.from_config(cfg),
            allow_negative_stock=cfg.site.allow_negative_stock,
            clock=self.clock,
            synchronous=cfg.store.synchronous,
            max_batch=cfg.store.max_batch,
            queue_limit=cfg.store.queue_limit,
            inline_commit_below=cfg.store.inline_commit_below_ms / 1000,
            registry=self.registry,
        )
        await self._journal.__aenter__()
        telemetry = TelemetryBuffer(
            self._journal,
            max_raw=cfg.store.telemetry_max_raw,
            max_aggregates=cfg.store.telemetry_max_aggregates,
            registry=self.registry,
        )
        self.ctx = EdgeContext(
            cfg,
            self._journal,
            telemetry,
            self.clock,
            self.health,
            self.registry,
            get_logger("wims.edge").bind(gateway_id=cfg.site.gateway_id),
        )
        if cfg.fleet is not None:  # AGV transport tasks: the accepted record, and the master it feeds
            from edge.fleet.master import FleetMaster
            from edge.floor.transport import TransportService

            self.transport = TransportService(self.ctx)
            self.fleet_master = FleetMaster(
                cfg.fleet,
                clock=self.clock,
                record=self._journal.append,
                log=self.ctx.log.bind(component="fleet"),
                tap=self.transport.observe,
            )
            self.transport.master = self.fleet_master
            self.ctx.transport = self.transport
            from edge.floor.flow import floor_flow

            floor_flow(self.ctx).transport = self.transport.from_putaway  # goods-to-person putaways
        try:  # a rules file with an error stops the start-up, naming the file, the rule and the key
            self.ctx.open_webhooks()  # a bad [handoff] secret stops the start here, naming the key
            self.rules = RulesRunner(
                self.ctx, floor=FloorTasks(self.ctx), notifier=self.ctx.webhooks, transport=self.transport
            )
        except BaseException:
            await self._journal.close()
            raise
        self.ctx.rules = self.rules
        Gauge("wims_edge_up", "1 while the gateway runs", registry=self.registry).set(1)
        self.health.set("journal", "ok", f"head seq {self._journal.head()[0]}", self.clock.now())
        log.info(
            "gateway.open",
            gateway_id=cfg.site.gateway_id,
            warehouse=cfg.site.warehouse,
            store=str(cfg.store.path),
            head_seq=self._journal.head()[0],
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ctx is not None:
            with contextlib.suppress(Exception):
                await self.ctx.floods.close()  # the counts of open flood windows go into the journal
            with contextlib.suppress(Exception):
                await self.ctx.telemetry.flush()
        if self._journal is not None:
            head_seq = self._journal.head()[0]
            await self._journal.close()
            log.info("gateway.closed", head_seq=head_seq)

    @property
    def journal(self) -> Journal:
        assert self._journal is not None, "gateway is not open"
        return self._journal

    async def run(self, stop: asyncio.Event) -> None:
        """Run every part until ``stop`` is set, then shut down in order, within ``stop_timeout_s``.

        The API stops taking requests and finishes those in flight (their appends commit); then every
        other part is cancelled. A part that will not end (a driver wedged in a blocking call that
        swallows cancellation) is abandoned after ``stop_timeout_s`` with a log line, and listed in
        ``abandoned``: the journal still commits what is queued when the gateway closes, and
        ``wims edge run`` exits without waiting for it.
        """
        assert self.ctx is not None, "gateway is not open"
        parts: list[asyncio.Task[Any]] = []
        api_task: asyncio.Task[None] | None = None
        try:
            if self.serve_api:
                api_task = self._start_part(self._serve_api(), "api")
            parts.append(self._start_part(self._flush_telemetry(), "telemetry-flush"))
            parts.append(self._start_part(self.ctx.floods.run(), "flood-windows"))
            parts.append(
                self._start_part(self._supervise("work-orders", self._work_orders, kind="floor"), "work-orders")
            )
            if self.rules is not None:
                rules = self.rules
                parts.append(self._start_part(self._supervise("rules", rules.run, kind="rules"), "rules"))
            if self.config.fleet is not None:
                from edge.fleet.runner import run_fleet

                ctx, master = self.ctx, self.fleet_master
                parts.append(
                    self._start_part(self._supervise("fleet", lambda: run_fleet(ctx, master), kind="fleet"), "fleet")
                )
            if self.transport is not None:
                transport = self.transport
                parts.append(
                    self._start_part(self._supervise("transport", transport.run, kind="transport"), "transport")
                )
            outbox = self.ctx.webhooks
            if outbox is not None:
                parts.append(
                    self._start_part(self._supervise("handoff", outbox.run, kind="handoff"), "handoff-webhooks")
                )
            if self.config.sync.url:
                from edge.uplink.runner import SyncRunner

                self.sync = SyncRunner(self.ctx)
                parts.append(self._start_part(self.sync.run(), "sync-agent"))
            for device in self.config.devices:
                if device.enabled:
                    parts.append(self._start_part(self._supervise_device(device), f"device:{device.id}"))
            stopping = asyncio.ensure_future(stop.wait())
            watched: set[asyncio.Future[Any]] = {stopping, *([api_task] if api_task else [])}
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if api_task is not None and api_task.done() and not stop.is_set():
                api_task.result()  # the API could not start (port taken): stop the gateway with its error
        finally:
            log.info("gateway.stopping")
            deadline = asyncio.get_running_loop().time() + self.stop_timeout_s
            if api_task is not None and not api_task.done():
                if self._server is not None:
                    self._server.should_exit = True  # finishes in-flight requests (their appends commit)
                parts.append(api_task)
                await asyncio.wait({api_task}, timeout=max(0.0, self.stop_timeout_s - 1.0))
            left = max(0.5, deadline - asyncio.get_running_loop().time())
            self.abandoned = await cancel_until_done(parts, timeout=left)
            for task in self.abandoned:
                log.error(
                    "part.abandoned",
                    part=task.get_name(),
                    reason=f"still running {self.stop_timeout_s:g} s after the stop; the gateway exits without it",
                )

    async def reload_rules(self) -> RuleSet | None:
        """SIGHUP: read the rules file again; a refused file is logged and the rule set in force stays."""
        if self.rules is None:
            return None
        try:
            return await self.rules.reload()
        except RulesError as exc:
            self.health.set("rules", "degraded", f"reload refused, old set in force: {exc}"[:500], self.clock.now())
            return None

    def _start_part(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_exit)
        return task

    async def _serve_api(self) -> None:
        assert self.ctx is not None
        app = create_app(self.ctx)
        config = uvicorn.Config(
            app,
            host=self.config.api.host,
            port=self.config.api.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=max(1, int(self.stop_timeout_s) - 2),
        )
        self._server = _EmbeddedServer(config)
        # Bind first, so the port is known (and connectable) before uvicorn starts accepting.
        family = socket.AF_INET6 if ":" in self.config.api.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.api.host, self.config.api.port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            self.health.set("api", "down", f"cannot listen: {exc}", self.clock.now())
            log.error("api.bind_failed", host=self.config.api.host, port=self.config.api.port, error=str(exc))
            self.api_ready.set()
            raise
        self.api_port = int(sock.getsockname()[1])
        self.health.set("api", "ok", f"listening on {self.config.api.host}:{self.api_port}", self.clock.now())
        log.info("api.listening", host=self.config.api.host, port=self.api_port)
        self.api_ready.set()
        try:
            await self._server.serve(sockets=[sock])
        finally:
            sock.close()

    async def _work_orders(self) -> None:
        """Escalate exception work orders whose SLA ran out (``edge.floor.workorders``)."""
        assert self.ctx is not None
        self.health.set("work-orders", "ok", "escalating work orders on their SLA", self.clock.now(), kind="floor")
        await self.ctx.floor.work_orders.run()

    async def _flush_telemetry(self) -> None:
        assert self.ctx is not None
        while True:
            await self.clock.sleep(self.telemetry_flush_seconds)
            try:
                await self.ctx.telemetry.flush()
            except Exception:
                log.exception("telemetry.flush_failed")

    async def _supervise_device(self, device: Device) -> None:
        """Run one device's runner for ever (see ``_supervise``)."""
        assert self.ctx is not None
        ctx = self.ctx
        name = f"device:{device.id}"
        try:
            runner = runner_for(device.kind)
        except NoRunner as exc:
            self.health.set(name, "down", str(exc), self.clock.now(), kind=device.kind)
            log.warning("device.no_runner", device=device.id, kind=device.kind, reason=str(exc))
            return
        await self._supervise(name, lambda: runner(device, ctx), kind=device.kind)

    async def _supervise(self, name: str, start: Callable[[], Awaitable[None]], *, kind: str) -> None:
        """Run a part for ever: a crash is logged, shown in health and retried with jittered backoff."""
        attempt = 0
        while True:
            self.health.set(name, "starting", "starting", self.clock.now(), kind=kind)
            try:
                await start()
                attempt = 0
                log.warning("part.returned", part=name)
            except asyncio.CancelledError:
                raise
            except PartUnavailable as exc:
                # nothing a retry can fix (a missing optional package): say so at once and stop trying
                self.health.set(name, "down", str(exc), self.clock.now(), kind=kind)
                log.error("part.unavailable", part=name, kind=kind, reason=str(exc))
                return
            except Exception as exc:
                if _being_cancelled():
                    # an exception raised while the part was being cancelled (a driver's cleanup failing)
                    # must not swallow the cancellation: the gateway is stopping
                    raise asyncio.CancelledError from exc
                attempt += 1
                self.health.set(name, "down", f"{type(exc).__name__}: {exc}", self.clock.now(), kind=kind)
                log.exception("part.failed", part=name, kind=kind, attempt=attempt)
            await self.clock.sleep(random.uniform(0, min(60.0, 1.5 ** min(10, attempt))))


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _report_exit(task: asyncio.Task[Any]) -> None:
    """Log a part that ended on its own with an error (parts run until cancelled)."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("part.exited", part=task.get_name(), error=f"{type(exc).__name__}: {exc}")


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT set ``stop``; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def remove() -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

    return remove


async def run_gateway(config: SiteConfig) -> int:
    """The body of ``wims edge run``; returns how many parts had to be abandoned at the stop.

    SIGHUP reloads the rules file (``wims edge rules reload`` does the same through the API)."""
    stop = asyncio.Event()
    remove = install_stop_signals(stop)
    loop = asyncio.get_running_loop()
    try:
        async with Gateway(config) as gw:
            reloads: set[asyncio.Task[Any]] = set()

            def hangup() -> None:
                task = asyncio.ensure_future(gw.reload_rules())
                reloads.add(task)  # held until done (the loop keeps only a weak reference)
                task.add_done_callback(reloads.discard)

            loop.add_signal_handler(signal.SIGHUP, hangup)
            try:
                await gw.run(stop)
            finally:
                loop.remove_signal_handler(signal.SIGHUP)
        return len(gw.abandoned)
    finally:
        remove()
