"""``ironic-lite``: API and conductor in one event loop, in-process RPC, SQLite by default.

The embedded default for a single machine: no broker, the schema is created or upgraded at
start, fake-hardware enabled (conf/default.py ``embedded_driver_defaults``), the API on
loopback unless ``[api]host_ip`` is set.
"""
from __future__ import annotations

import asyncio
import os
import sys

from oslo_config import cfg

from ironic_lite.cmd import prepare, runtime, startup, wait_for_signal


async def upgrade_schema(conf: cfg.ConfigOpts) -> None:
    """``ironic-lite-dbsync upgrade`` in a child process with the same configuration.

    alembic is needed for a moment at start but would stay in this long-running process's
    memory (~11 MiB) if imported here. The connection string travels in the environment
    (oslo.config's ``OS_DATABASE__CONNECTION``), never on a command line others can read.
    """
    args = []
    for path in conf.config_file or []:
        args += ['--config-file', path]
    for path in conf.config_dir or []:
        args += ['--config-dir', path]
    env = dict(os.environ, OS_DATABASE__CONNECTION=conf.database.connection)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, '-c', 'from ironic_lite.cmd.dbsync import main; main()',
        *args, 'upgrade', env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        lines = output.decode(errors='replace').strip().splitlines() or ['no output']
        # the child says why in one line (see cmd/startup.py); else its last line
        reason = next((line.split('cannot start: ', 1)[1] for line in lines
                       if 'cannot start: ' in line), lines[-1])
        raise startup.StartupError(f'database schema upgrade failed: {reason}')


async def _run(conf) -> None:
    await upgrade_schema(conf)
    db, service = await runtime.start_conductor(conf)
    api = runtime.ApiServer(conf, db)
    api.ring = service.env.ring
    await api.start()
    try:
        await wait_for_signal()
    finally:
        await api.stop()
        await service.stop()
        runtime.shutdown_transport()
        db.close()


def main() -> None:
    from ironic_lite.conf import CONF, default
    CONF.set_default('rpc_transport', 'none')
    CONF.set_default('enabled_hardware_types', ['fake-hardware'])
    # The all-in-one runs noauth by default: on loopback unless the operator says otherwise
    # (ironic-lite-api keeps upstream's 0.0.0.0).
    CONF.set_default('host_ip', '127.0.0.1', group='api')
    with startup.exit_on_startup_error():
        conf = prepare()
        default.set_embedded_driver_defaults(conf)
        asyncio.run(_run(conf))
