"""Bounded RPC sends: kombu's reconnection retries fit in rpc_send_timeout, a send waits no
longer than its bound, and a send whose caller already gave up is never made."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from oslo_config import cfg

from ironic_lite.common import rpc


@pytest.fixture
def rabbit_conf():
    from oslo_messaging._drivers import impl_rabbit
    conf = cfg.ConfigOpts()
    conf.register_opts(impl_rabbit.rabbit_opts, group='oslo_messaging_rabbit')
    conf([], default_config_files=[])
    return conf


def test_send_retries_fit_in_the_send_timeout(rabbit_conf):
    # oslo's defaults: 1 s interval growing by 2 s, plus a 1 s reconnect delay per attempt
    # → retries cost 2, 4, 6, … s
    assert rpc.send_retries(rabbit_conf, 1) == 0
    assert rpc.send_retries(rabbit_conf, 2) == 1
    assert rpc.send_retries(rabbit_conf, 10) == 2
    assert rpc.send_retries(rabbit_conf, 12) == 3
    rabbit_conf.set_override('kombu_reconnect_delay', 0, group='oslo_messaging_rabbit')
    rabbit_conf.set_override('rabbit_retry_backoff', 0, group='oslo_messaging_rabbit')
    assert rpc.send_retries(rabbit_conf, 10) == 10


def test_send_retries_other_drivers_keep_their_defaults():
    conf = cfg.ConfigOpts()
    conf([], default_config_files=[])
    assert rpc.send_retries(conf, 10) is None


async def test_a_send_waits_no_longer_than_its_bound_and_is_never_made_late():
    pool = ThreadPoolExecutor(1)
    release, sent = threading.Event(), []
    try:
        stuck = rpc.RPCClient._bounded(pool, 0.2, release.wait, 30)
        with pytest.raises(TimeoutError):
            await stuck  # a send stuck on the broker: the caller is answered anyway
        # this one waits for the pool's only thread, which frees only after its bound
        with pytest.raises(TimeoutError):
            await rpc.RPCClient._bounded(pool, 0.2, sent.append, 'late')
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert sent == []
