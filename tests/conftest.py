"""Shared fixtures: database backends, RabbitMQ vhosts, the in-process harness.

A test that needs a service (RabbitMQ, PostgreSQL, MariaDB) skips when it is missing on a
developer's machine, and FAILS when ``CI=true`` — CI must never skip silently.
"""
from __future__ import annotations

import os

import pytest

from ironic_lite.testing import services
from ironic_lite.testing.harness import Harness

IN_CI = os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f'{what} is required in CI but is not reachable', pytrace=False)
    pytest.skip(f'{what} is not reachable')


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def db_url(request, tmp_path):
    """A fresh, empty database on each supported backend."""
    backend = request.param
    if backend == 'sqlite':
        yield f'sqlite:///{tmp_path}/ironic_lite.sqlite'
        return
    available = (services.postgresql_available() if backend == 'postgresql'
                 else services.mysql_available())
    require(available, backend)
    url, drop = services.fresh_database(backend)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database (tests that cut its connections, for instance)."""
    require(services.postgresql_available(), 'PostgreSQL')
    url, drop = services.fresh_database('postgresql')
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def sqlite_url(tmp_path):
    return f'sqlite:///{tmp_path}/ironic_lite.sqlite'


@pytest.fixture
def rabbit_url():
    """A fresh RabbitMQ vhost for this test."""
    require(services.rabbit_available(), 'RabbitMQ')
    url, delete = services.fresh_rabbit_vhost()
    try:
        yield url
    finally:
        delete()


@pytest.fixture
async def harness(sqlite_url):
    """All-in-one ironic_lite in the test's loop (SQLite, in-process transport)."""
    h = await Harness(sqlite_url, **{'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        yield h
    finally:
        await h.stop()
