"""Schema migrations with alembic: ``upgrade``, ``version``, ``revision`` (for developers)."""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from ironic_lite.db.api import Connection

_INI = os.path.join(os.path.dirname(__file__), 'alembic.ini')


def _config(connection) -> Config:
    config = Config(_INI)
    config.attributes['connection'] = connection
    return config


def upgrade(conn: Connection, revision: str = 'head') -> None:
    with conn.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def version(conn: Connection) -> str | None:
    with conn.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revision(conn: Connection, message: str, autogenerate: bool = True) -> None:
    with conn.engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=autogenerate)
