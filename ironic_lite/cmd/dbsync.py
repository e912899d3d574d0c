"""``ironic-lite-dbsync``: create or upgrade the database schema (alembic)."""
from __future__ import annotations

import sys

from oslo_config import cfg

from ironic_lite.cmd import prepare, startup
from ironic_lite.conf import CONF
from ironic_lite.db import migration


def _add_commands(subparsers) -> None:
    upgrade = subparsers.add_parser('upgrade', help='Upgrade the schema to a revision.')
    upgrade.add_argument('--revision', default='head')
    subparsers.add_parser('create_schema', help='Create the schema of a new database.')
    subparsers.add_parser('version', help='Print the current schema revision.')


def main() -> None:
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_commands,
                                            title='commands'))
    with startup.exit_on_startup_error():
        conf = prepare()
        conn = startup.check_database(conf, require_schema=False)
    command = conf.command.name
    if command in ('upgrade', 'create_schema'):
        migration.upgrade(conn, getattr(conf.command, 'revision', 'head'))
        print(f'Database at revision {migration.version(conn)}')
    elif command == 'version':
        print(migration.version(conn))
    conn.dispose()
    sys.exit(0)
