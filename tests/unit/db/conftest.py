"""Fixtures of the database-layer tests."""
from __future__ import annotations

import pytest

from ironic_lite.db import migration
from ironic_lite.db.api import Connection


@pytest.fixture
def conn(db_url):
    """A :class:`Connection` to a fresh database of each backend, migrated to head."""
    c = Connection(db_url)
    migration.upgrade(c)
    yield c
    c.dispose()
