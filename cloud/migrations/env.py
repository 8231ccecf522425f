"""Alembic environment: runs migrations online against the URL given in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from cloud.db.engine import make_engine
from cloud.db.schema import metadata

config = context.config


def run() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to Alembic")
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
