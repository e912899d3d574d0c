"""The alembic migrations build exactly the schema the models describe, on every backend.

Models and migrations are edited by several people; a column, index or constraint in one and
not the other would only show up as a failing query on one database. This runs every
migration on a fresh SQLite, PostgreSQL and MariaDB database and compares the result with the
models (alembic's autogenerate comparison).
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ironic_lite.db import models


def _metadata():
    # modules that add their models to Base.metadata when imported (db/api.py imports them)
    import ironic_lite.db.api  # noqa: F401
    return models.Base.metadata


def test_migrations_match_models(conn):
    with conn.engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={'compare_type': False})
        diff = compare_metadata(ctx, _metadata())
    # alembic's own bookkeeping table is not a model
    diff = [d for d in diff if not (d[0] == 'remove_table' and d[1].name == 'alembic_version')]
    assert diff == []


def test_node_filter_indexes_exist(conn):
    from sqlalchemy import inspect
    names = {ix['name'] for ix in inspect(conn.engine).get_indexes('nodes')}
    assert {'driver_idx', 'owner_idx', 'lessee_idx', 'resource_class_idx',
            'provision_state_idx', 'conductor_group_idx'} <= names
