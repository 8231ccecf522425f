"""``wims edge ...`` and ``wims reconcile ...``: the gateway's commands (mounted by ``wims.cli``).

Every command that takes a site reads it with ``--config configs/<site>.toml``; a bad file stops with
the file name and the bad key. Read commands (ops, stock, verify) open the journal read-only and can
run beside a live gateway; ``append`` writes through the same group-commit journal, safely beside it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table

from edge.config import ConfigError, SiteConfig, load_config
from sync.i18n.console import LocalConsole, fact_label, label, tr

edge_app = typer.Typer(help="The edge gateway of one warehouse.", no_args_is_help=True)
sync_app = typer.Typer(help="The gateway's link to the cloud.", no_args_is_help=True)
edge_app.add_typer(sync_app, name="sync")
operator_app = typer.Typer(help="Operators of a site: their handheld PINs.", no_args_is_help=True)
edge_app.add_typer(operator_app, name="operator")
rules_app = typer.Typer(help="The site's rules: check and test them offline, reload them on the gateway.")
rules_app.info.no_args_is_help = True
edge_app.add_typer(rules_app, name="rules")
reconcile_app = typer.Typer(help="Compare a gateway's stock with the cloud's.", no_args_is_help=True)

out = LocalConsole()  # messages and headings in WIMS_LANG or the locale's language (sync.i18n)
err = LocalConsole(stderr=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Site config TOML, e.g. configs/shanghai-cold.toml")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")]


def site_config(path: Path) -> SiteConfig:
    """The site config at ``path``; a bad one stops the command (exit 2) with the file and the key."""
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]config error[/red] {exc}")
        raise typer.Exit(2) from None


def _open_readonly(cfg: SiteConfig) -> Any:
    from edge.store.schema import connect

    if not Path(cfg.store.path).exists():
        err.print(f"[red]no journal at {cfg.store.path}[/red] (has `wims edge run` started for this site?)")
        raise typer.Exit(1)
    return connect(str(cfg.store.path), readonly=True)


@edge_app.command("run")
def edge_run(config: ConfigOpt) -> None:
    """Run the gateway daemon until SIGTERM/SIGINT."""
    from edge.daemon import run_gateway
    from edge.logs import configure_logging

    cfg = site_config(config)
    try:  # a token file that cannot be read stops the start here, not later inside the API part
        cfg.api.resolved_token()
        if cfg.handoff is not None:  # likewise the carrier webhook's signing secret
            cfg.handoff.resolved_secret()
    except ValueError as exc:
        err.print(f"[red]config error[/red] {config}: {exc}")
        raise typer.Exit(2) from None
    _site_rules(cfg)  # a rules file with an error stops the start here, naming the file, the rule and the key
    configure_logging(cfg.log.level, cfg.log.format)
    loop = asyncio.new_event_loop()
    abandoned = loop.run_until_complete(run_gateway(cfg))
    if abandoned:
        # a part that would not stop is still running (a wedged driver thread, say); the journal has
        # committed and closed, so leave now rather than wait for it (asyncio.run would, for ever)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


@edge_app.command("ops")
def edge_ops(
    config: ConfigOpt,
    after: Annotated[int, typer.Option(help="Show ops with seq greater than this.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many ops (0 = all).")] = 50,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new ops as they come.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the journal (and follow it)."""
    from edge.store.journal import iter_entries

    cfg = site_config(config)
    conn = _open_readonly(cfg)
    seq = after
    page = limit if limit and not follow else 10_000  # 0 = all: read in pages of 10,000 until the end
    try:
        while True:
            entries = list(iter_entries(conn, after=seq, limit=page))
            if entries:
                seq = entries[-1].seq
                if as_json:
                    for e in entries:
                        out.print_json(data=e.body) if sys.stdout.isatty() else print(json.dumps(e.body))
                else:
                    table = Table("seq", "kind", "actor", "occurred_at", "payload", "hash")
                    for e in entries:
                        b = e.body
                        payload = {k: v for k, v in b["payload"].items() if k != "kind"}
                        flag = f" [yellow]{e.flags}[/yellow]" if e.flags else ""
                        table.add_row(
                            str(e.seq),
                            b["kind"] + flag,
                            b["actor"],
                            b["occurred_at"],
                            json.dumps(payload, ensure_ascii=False)[:80],
                            b["hash"][:12],
                        )
                    out.print(table)
            if not follow:
                if limit or len(entries) < page:
                    break
                continue  # --limit 0: the next page
            if len(entries) < page:
                time.sleep(0.5)  # a reader in another process: polling is all SQLite offers
    except KeyboardInterrupt:
        pass


@edge_app.command("stock")
def edge_stock(
    config: ConfigOpt,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    status: Annotated[str | None, typer.Option(help="available, reserved, qc_hold or damaged.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the gateway's local stock (non-zero lines)."""
    from edge.store.journal import query_stock

    cfg = site_config(config)
    lines = query_stock(_open_readonly(cfg), sku=sku, location=location, status=status)
    if as_json:
        for line in lines:
            print(json.dumps(asdict(line), ensure_ascii=False))
        return
    table = Table("sku", "lot", "location", "status", "qty", title=f"stock at {cfg.site.warehouse}")
    for line in lines:
        table.add_row(line.sku, line.lot, line.location, line.status, str(line.qty))
    out.print(table)


@edge_app.command("verify")
def edge_verify(config: ConfigOpt) -> None:
    """Walk the hash chain and recompute the stock and task projections; exit 1 on any difference."""
    from edge.store.verify import verify_database

    cfg = site_config(config)
    conn = _open_readonly(cfg)
    with out.status("verifying journal...") as status:
        report = verify_database(
            conn, warehouse=cfg.site.warehouse, progress=lambda n: status.update(tr(f"verifying journal... {n} ops"))
        )
    if report.chain_error:
        err.print(f"[red]chain broken[/red] at {report.chain_error}")
        raise typer.Exit(1)
    for key, stored, computed in report.projection_diffs[:50]:
        err.print(
            f"[red]projection differs[/red] {key.sku} {key.lot!r} {key.location} {key.status.value}: "
            f"stored {stored}, journal says {computed}"
        )
    for diff in report.task_diffs[:50]:
        err.print(f"[red]task projection differs[/red] {diff}")
    if report.projection_diffs or report.task_diffs:
        raise typer.Exit(1)
    out.print(
        f"[green]ok[/green] {report.ops} ops, chain verifies to seq {report.head_seq} "
        f"({report.head_hash[:16]}), projection matches"
    )


@edge_app.command("append")
def edge_append(
    config: ConfigOpt,
    source: Annotated[
        str, typer.Argument(help="JSON file with one op draft, a list, or JSON lines; - for stdin.")
    ] = "-",
) -> None:
    """Append ops from JSON (for scripts and tests); prints each stored op as a JSON line."""
    from edge.api.schemas import OpIn
    from sync.clock import SystemClock

    cfg = site_config(config)
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    try:
        stripped = text.strip()
        if stripped.startswith("["):
            raw = json.loads(stripped)
        elif "\n" in stripped and not stripped.startswith("{\n"):
            raw = [json.loads(line) for line in stripped.splitlines() if line.strip()]
        else:
            raw = [json.loads(stripped)]
        now = SystemClock().now()
        drafts = [op.draft(now) for op in TypeAdapter(list[OpIn]).validate_python(raw)]
    except json.JSONDecodeError as exc:
        err.print(f"[red]not JSON[/red]: {exc}")
        raise typer.Exit(2) from None
    except ValidationError as exc:
        for e in exc.errors()[:20]:
            err.print(f"[red]invalid op[/red] {'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        raise typer.Exit(2) from None
    failed = asyncio.run(_append(cfg, drafts))
    raise typer.Exit(1 if failed else 0)


async def _append(cfg: SiteConfig, drafts: list[Any]) -> int:
    from edge.api.schemas import op_body
    from edge.store.errors import OpRejected
    from edge.store.journal import Journal
    from edge.store.masterdata import MasterData

    failed = 0
    async with Journal(
        cfg.store.path,
        gateway_id=cfg.site.gateway_id,
        warehouse=cfg.site.warehouse,
        master=MasterData.from_config(cfg),
        allow_negative_stock=cfg.site.allow_negative_stock,
        synchronous=cfg.store.synchronous,
    ) as journal:
        results = await asyncio.gather(*(journal.append(d) for d in drafts), return_exceptions=True)
    for res in results:
        if isinstance(res, OpRejected):
            failed += 1
            err.print(f"[red]rejected[/red] {res.code}: {res.message}")
        elif isinstance(res, BaseException):
            raise res
        else:
            print(json.dumps(op_body(res), ensure_ascii=False))
    return failed


@operator_app.command("pin-hash")
def operator_pin_hash(
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the PIN from standard input instead of asking.")] = False,
) -> None:
    """Print the argon2 hash of a handheld PIN (asked twice without echo, or read with --stdin) for
    `pin_hash` of an operator in the site TOML; the PIN itself is never kept."""
    from edge.identity.sessions import hash_pin

    pin = sys.stdin.readline().strip() if stdin else typer.prompt("PIN", hide_input=True, confirmation_prompt=True)
    try:
        print(hash_pin(pin))
    except ValueError as exc:
        err.print(f"[red]bad PIN[/red]: {exc}")
        raise typer.Exit(2) from None


@sync_app.command("status")
def sync_status(config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Backlog, oldest unacknowledged op, last success and errors (from the running gateway if it is up)."""
    import httpx

    from sync.clock import SystemClock

    cfg = site_config(config)
    facts: dict[str, Any] = {}
    source = label("journal")
    try:
        r = httpx.get(f"http://{cfg.api.host}:{cfg.api.port}/healthz", timeout=3)
        facts = dict(r.json().get("components", {}).get("sync", {}))
        source = label("running gateway")
    except (httpx.HTTPError, ValueError):
        pass
    if not facts:  # the gateway is not running: what the journal alone says
        from edge.uplink.status import backlog_facts, stored_backlog

        backlog = stored_backlog(_open_readonly(cfg))
        facts = {
            "status": "not running" if cfg.sync.url else "sync not configured",  # --json keeps the English
            **backlog_facts(backlog, SystemClock().now()),
        }
    if as_json:
        print(json.dumps(facts, default=str))
        return
    table = Table(
        "", "", title=f"sync of {cfg.site.gateway_id} -> {cfg.sync.url or label('(no cloud configured)')} ({source})"
    )
    for key, value in facts.items():
        table.add_row(fact_label(key), label(str(value)) if key == "status" else str(value))
    out.print(table)


@reconcile_app.command("check")
def reconcile_check(
    config: ConfigOpt,
    warehouse: Annotated[str | None, typer.Option(help="Warehouse code (default: the site's).")] = None,
    cloud: Annotated[str | None, typer.Option(help="Cloud URL (default: [sync] url).", envvar="WIMS_CLOUD_URL")] = None,
    token: Annotated[str | None, typer.Option(help="A user token for the cloud.", envvar="WIMS_CLOUD_TOKEN")] = None,
    user: Annotated[str | None, typer.Option(help="Log in as this cloud user.", envvar="WIMS_CLOUD_USER")] = None,
    password: Annotated[str | None, typer.Option(help="Its password.", envvar="WIMS_CLOUD_PASSWORD")] = None,
) -> None:
    """Compare the gateway's stock with the cloud's, line by line; exit 1 on any difference."""
    import httpx

    from edge.store.journal import query_stock
    from edge.uplink.reconcile import compare, fetch_cloud_stock, pivot_cloud, pivot_edge

    cfg = site_config(config)
    wh = warehouse or cfg.site.warehouse
    url = cloud or cfg.sync.url
    if not url:
        err.print("[red]no cloud URL[/red]: pass --cloud or set [sync] url in the site config")
        raise typer.Exit(2)
    edge_lines = query_stock(_open_readonly(cfg), warehouse=wh)
    try:
        cloud_items = fetch_cloud_stock(
            url,
            wh,
            token=token,
            user=user,
            password=password,
            verify=str(cfg.sync.ca_file) if cfg.sync.ca_file else True,
        )
    except (httpx.HTTPError, ValueError) as exc:
        err.print(f"[red]cannot read the cloud's stock[/red]: {exc}")
        raise typer.Exit(2) from None
    diffs = compare(pivot_edge(edge_lines), pivot_cloud(cloud_items))
    if not diffs:
        out.print(f"[green]no difference[/green]: {len(edge_lines)} stock lines of {wh} agree with the cloud")
        return
    table = Table("sku", "lot", "location", "status", "edge", "cloud", title=f"{len(diffs)} differences at {wh}")
    for d in diffs:
        table.add_row(d.sku, d.lot, d.location, d.status, str(d.edge), str(d.cloud))
    out.print(table)
    raise typer.Exit(1)


def _site_rules(cfg: SiteConfig) -> Any:
    """The site's rule set; a file with an error stops the command (exit 2) naming file, rule and key."""
    from edge.rules.engine import RulesError, load_rules
    from edge.rules.runner import DEFAULT_RULES

    path = cfg.rules.file or DEFAULT_RULES
    try:
        return load_rules(path)
    except RulesError as exc:
        err.print(f"[red]rules refused[/red] {exc.source}:", soft_wrap=True)
        for problem in exc.problems:
            err.print(f"  {problem}", soft_wrap=True, markup=False)
        raise typer.Exit(2) from None


@rules_app.command("check")
def rules_check(config: ConfigOpt, as_json: JsonOpt = False) -> None:
    """Validate the site's rules file (every problem, naming the rule and the key); no gateway needed."""
    cfg = site_config(config)
    ruleset = _site_rules(cfg)
    if as_json:
        print(json.dumps({"file": ruleset.source, "hash": ruleset.hash, "rules": [r.id for r in ruleset.rules]}))
        return
    table = Table("id", "on", "when", "actions", "enabled", title=f"{ruleset.source}: {len(ruleset.rules)} rules ok")
    for r in ruleset.rules:
        table.add_row(r.id, r.on, r.when, ", ".join(a.action for a in r.then), "yes" if r.enabled else "no")
    out.print(table)
    out.print(f"rule set hash {ruleset.hash}")


@rules_app.command("test")
def rules_test(
    config: ConfigOpt,
    source: Annotated[
        Path,
        typer.Argument(help='An op as `wims edge append` takes it, or a floor event: {"event": "short_pick", ...}.'),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Which rules fire on an op or event and what they would do (stock read from the site's journal if
    there is one, without changing it); no gateway needed."""
    from edge.api.schemas import OpIn
    from edge.rules.events import EVENTS
    from edge.rules.runner import SiteStock, describe, preview
    from edge.store.journal import query_stock
    from edge.store.masterdata import MasterData
    from sync.clock import SystemClock

    cfg = site_config(config)
    ruleset = _site_rules(cfg)
    now = SystemClock().now()
    try:
        raw = json.loads(source.read_text())
        if not isinstance(raw, dict):
            raise ValueError("expected one JSON object (an op or an event)")
        if "event" in raw:
            name = raw.pop("event")
            if name not in EVENTS:
                err.print(f"[red]unknown event[/red] {name!r}; known: {', '.join(EVENTS)}")
                raise typer.Exit(2)
            subject: Any = EVENTS[name].model_validate(raw)
        else:
            subject = OpIn.model_validate(raw).draft(now)
    except OSError as exc:
        err.print(f"[red]cannot read[/red] {source}: {exc.strerror}")
        raise typer.Exit(2) from None
    except (ValueError, ValidationError) as exc:
        err.print(f"[red]invalid op or event[/red] {source}: {exc}")
        raise typer.Exit(2) from None
    conn = _open_readonly(cfg) if Path(cfg.store.path).exists() else None
    warehouse = cfg.site.warehouse

    def read(location: str, status: str) -> list[Any]:
        return [] if conn is None else query_stock(conn, warehouse=warehouse, location=location, status=status)

    previews = preview(ruleset, subject, SiteStock(MasterData.from_config(cfg), read), now)
    if as_json:
        for p in previews:
            row = {
                "rule_id": p.firing.rule_id,
                "ruleset_hash": p.firing.ruleset_hash,
                "actions": [describe(a) for a in p.firing.actions],
                "ops": [
                    json.loads(d.model_dump_json(include={"op_id", "payload", "actor", "device_id"})) for d in p.effects
                ],
                "notes": p.notes,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    kind = getattr(subject, "name", None) or subject.kind.value
    if not previews:
        out.print(f"no rule fires on this {kind} ({len(ruleset.rules)} rules, hash {ruleset.hash[:12]})")
        return
    if conn is None:
        out.print(f"[yellow]no journal at {cfg.store.path}[/yellow]: stock read as empty")
    for p in previews:
        out.print(f"[bold]rule {p.firing.rule_id}[/bold] fires on this {kind} (rule set {ruleset.hash[:12]}):")
        for d in p.effects:
            body = d.payload.model_dump(mode="json", exclude_none=True, exclude={"kind"})
            out.print(f"  records {d.kind.value} {json.dumps(body, ensure_ascii=False)}", markup=False, soft_wrap=True)
        for note in p.notes:
            out.print(f"  would {note}", markup=False, soft_wrap=True)


@rules_app.command("reload")
def rules_reload(config: ConfigOpt) -> None:
    """Ask the running gateway to read its rules file again (as SIGHUP does); a file with an error is
    refused whole and the rules in force stay."""
    import httpx

    cfg = site_config(config)
    host = "127.0.0.1" if cfg.api.host in ("0.0.0.0", "::", "") else cfg.api.host
    headers = {}
    try:
        token = cfg.api.resolved_token()
    except ValueError as exc:
        err.print(f"[red]config error[/red] {config}: {exc}")
        raise typer.Exit(2) from None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"http://{host if ':' not in host else f'[{host}]'}:{cfg.api.port}/v1/rules/reload"
    try:
        r = httpx.post(url, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        err.print(f"[red]the gateway does not answer[/red] at {url}: {exc}")
        raise typer.Exit(1) from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code == 422:
        err.print(f"[red]rules refused[/red] {body.get('detail', '')}", soft_wrap=True)
        for e in body.get("errors", []):
            err.print(f"  {e.get('msg')}", soft_wrap=True, markup=False)
        raise typer.Exit(2)
    if r.status_code != 200:
        err.print(f"[red]reload failed[/red] HTTP {r.status_code}: {body.get('detail', r.text[:300])}")
        raise typer.Exit(1)
    out.print(
        f"{'reloaded' if body['changed'] else 'unchanged'}: {len(body['rules'])} rules, hash {body['hash']}"
        f" (was {body['previous_hash'][:12]})"
    )
