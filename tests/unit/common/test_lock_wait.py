"""common/lock_wait: the lock-retry policy shared by the conductor and the API."""
from __future__ import annotations

import time

import pytest
import tenacity
from oslo_config import cfg

from ironic_lite.common import exception, lock_wait
from ironic_lite.conf import conductor as conductor_conf


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    conductor_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('node_locked_retry_attempts', 2, group='conductor')
    conf.set_override('node_locked_retry_interval', 0.05, group='conductor')
    return conf


async def test_retries_then_reraises_the_last_exception(conf):
    calls = []

    async def locked():
        calls.append(time.monotonic())
        raise exception.NodeLocked(node='n1', host='c1')

    retrying = lock_wait.retrying(conf, tenacity.retry_if_exception_type(exception.NodeLocked))
    with pytest.raises(exception.NodeLocked):
        await retrying(locked)
    assert len(calls) == 3   # the first try and node_locked_retry_attempts retries
    assert all(b - a >= 0.05 for a, b in zip(calls, calls[1:], strict=False))


async def test_out_of_retries_on_a_result_returns_that_result(conf):
    reads = iter(['busy-1', 'busy-2', 'busy-3', 'free'])

    async def read():
        return next(reads)

    retrying = lock_wait.retrying(conf, tenacity.retry_if_result(lambda r: r != 'free'))
    assert await retrying(read) == 'busy-3'


async def test_patient_waits_past_the_attempts(conf):
    reads = iter(['busy'] * 5 + ['free'])

    async def read():
        return next(reads)

    conf.set_override('node_locked_retry_interval', 0, group='conductor')
    retrying = lock_wait.retrying(conf, tenacity.retry_if_result(lambda r: r != 'free'),
                                  patient=True)
    assert await retrying(read) == 'free'


async def test_other_exceptions_are_not_retried(conf):
    calls = 0

    async def broken():
        nonlocal calls
        calls += 1
        raise exception.NodeNotFound(node='n1')

    retrying = lock_wait.retrying(conf, tenacity.retry_if_exception_type(exception.NodeLocked))
    with pytest.raises(exception.NodeNotFound):
        await retrying(broken)
    assert calls == 1
