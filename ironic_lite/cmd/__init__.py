"""Process entry points. ``prepare`` parses configuration and sets up logging for all of them."""
from __future__ import annotations

from ironic_lite.cmd import bootstrap  # noqa: F401 - first: blocks eventlet

# isort: split

import asyncio
import logging
import os
import signal
import sys

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log

from ironic_lite.conf import CONF

DEFAULT_DB_NAME = 'ironic_lite.sqlite'


def prepare(argv: list[str] | None = None) -> cfg.ConfigOpts:
    log.register_options(CONF)
    db_options.set_defaults(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='ironic_lite')
    if CONF.database.connection is None:
        os.makedirs(CONF.state_path, exist_ok=True)
        CONF.set_default('connection',
                         f'sqlite:///{os.path.join(CONF.state_path, DEFAULT_DB_NAME)}',
                         group='database')
    log.setup(CONF, 'ironic_lite')
    if not CONF.debug:
        for noisy in ('oslo.messaging', 'amqp', 'kombu', 'stevedore', 'alembic'):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    return CONF


async def wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
