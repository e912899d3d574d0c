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

from ironic_lite.cmd import startup
from ironic_lite.common import request_context
from ironic_lite.conf import CONF

DEFAULT_DB_NAME = 'ironic_lite.sqlite'


def prepare(argv: list[str] | None = None) -> cfg.ConfigOpts:
    """Parse the command line and config files, check every option, set up logging.

    Call it inside :func:`startup.exit_on_startup_error`: a bad option ends the process with
    one line naming it."""
    log.register_options(CONF)
    db_options.set_defaults(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='ironic_lite')
    startup.check_options(CONF)
    if CONF.database.connection is None:
        try:
            os.makedirs(CONF.state_path, exist_ok=True)
        except OSError as e:
            raise startup.StartupError(
                f'[DEFAULT]state_path = {CONF.state_path}: cannot create it for the default '
                f'SQLite database: {e.strerror or e}') from e
        CONF.set_default('connection',
                         f'sqlite:///{os.path.join(CONF.state_path, DEFAULT_DB_NAME)}',
                         group='database')
    log.setup(CONF, 'ironic_lite')
    request_context.install_logging()  # each line shows the request it is part of
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
