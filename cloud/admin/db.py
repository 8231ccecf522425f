"""The database of an admin command: from ``WIMS_DATABASE_URL`` only, and its problems as one clear line.

An admin command writing a gateway or a user into a stray default SQLite file would be a silent error, so
the variable must be set. A database that cannot be reached, or has no WIMS schema yet, is said in one
line (exit 2), not a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine, make_url

from cloud.db.engine import make_engine
from cloud.settings import CloudSettings
from sync.i18n.console import LocalConsole

err = LocalConsole(stderr=True, soft_wrap=True)  # one line, whatever the terminal width


def settings_or_exit() -> CloudSettings:
    if not os.environ.get("WIMS_DATABASE_URL"):
        err.print(
            "[red]WIMS_DATABASE_URL is not set[/red]: export WIMS_DATABASE_URL=postgresql://user@host:5432/wims "
            "(or sqlite:///path/to/wims.sqlite)"
        )
        raise typer.Exit(2)
    return CloudSettings()


def shown(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable URL)"


@contextlib.contextmanager
def database() -> Iterator[tuple[Engine, CloudSettings]]:
    """The engine of ``WIMS_DATABASE_URL``; any database failure inside becomes one line and exit 2."""
    cfg = settings_or_exit()
    try:
        engine = make_engine(cfg.database_url, pool_size=1)
    except (sa.exc.ArgumentError, ValueError) as exc:
        err.print(f"[red]WIMS_DATABASE_URL is not a database URL[/red] ({shown(cfg.database_url)}): {exc}")
        raise typer.Exit(2) from None
    try:
        yield engine, cfg
    except sa.exc.OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        if "no such table" in first or "does not exist" in first:
            err.print(
                f"[red]the database at {shown(cfg.database_url)} has no WIMS tables[/red]: run `wims cloud migrate`"
            )
        else:
            err.print(f"[red]cannot reach the database at {shown(cfg.database_url)}[/red]: {first}")
        raise typer.Exit(2) from None
    except sa.exc.ProgrammingError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        err.print(
            f"[red]the database at {shown(cfg.database_url)} is not a WIMS database[/red] ({first}): "
            "run `wims cloud migrate`"
        )
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
