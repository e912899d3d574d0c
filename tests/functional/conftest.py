"""Fixtures shared by the API tests."""
import pytest

from tests.functional.keystone import keystone


@pytest.fixture
async def keystone_harness(sqlite_url):
    """An API harness with ``auth_strategy = keystone`` (see :mod:`tests.functional.keystone`)."""
    async for h in keystone(sqlite_url):
        yield h
