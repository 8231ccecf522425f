"""Alembic, configured in code: the scripts live in ``cloud/migrations`` and ship inside the package.

No ``alembic.ini`` is needed (the CLI runs ``wims cloud migrate``); the URL is handed over through
``Config.attributes`` so a password with ``%`` in it survives configparser.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from cloud.db.engine import normalise_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = normalise_url(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating the SQLite file's folder if needed)."""
    url = normalise_url(url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
