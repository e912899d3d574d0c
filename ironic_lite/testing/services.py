"""Backing services on loopback: a fresh RabbitMQ vhost, fresh PostgreSQL / MariaDB databases.

Each ``*_available()`` answers whether the service can be reached; ``fresh_*`` creates an
isolated vhost or database for one test run and returns its URL plus a clean-up callable.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable

RABBIT_HOST = os.environ.get('IRONIC_LITE_TEST_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('IRONIC_LITE_TEST_RABBIT_PORT', '5672'))
PG_URL = os.environ.get('IRONIC_LITE_TEST_PG_URL', 'postgresql+psycopg2://postgres@127.0.0.1:5432')
MYSQL_URL = os.environ.get('IRONIC_LITE_TEST_MYSQL_URL', 'mysql+pymysql://root@127.0.0.1:3306')


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def unique_name(prefix: str) -> str:
    return f'{prefix}_{uuid.uuid4().hex[:12]}'


# -- RabbitMQ -----------------------------------------------------------------------------
def rabbit_available() -> bool:
    return port_open(RABBIT_HOST, RABBIT_PORT) and shutil.which('rabbitmqctl') is not None


def fresh_rabbit_vhost() -> tuple[str, Callable[[], None]]:
    """A new vhost (guest has all permissions); returns its transport_url and a deleter."""
    vhost = unique_name('ironic_lite_test')
    subprocess.run(['rabbitmqctl', '-q', 'add_vhost', vhost], check=True, capture_output=True)
    subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p', vhost, 'guest', '.*', '.*',
                    '.*'], check=True, capture_output=True)

    def delete() -> None:
        subprocess.run(['rabbitmqctl', '-q', 'delete_vhost', vhost], capture_output=True)

    return f'rabbit://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}', delete


# -- relational databases -----------------------------------------------------------------
def _admin_engine(url: str):
    import sqlalchemy
    return sqlalchemy.create_engine(url, isolation_level='AUTOCOMMIT', poolclass=None)


def postgresql_available() -> bool:
    return port_open('127.0.0.1', 5432)


def mysql_available() -> bool:
    return port_open('127.0.0.1', 3306)


def fresh_database(backend: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on ``postgresql`` or ``mysql``; returns (url, dropper)."""
    import sqlalchemy
    name = unique_name('ironic_lite_test')
    if backend == 'postgresql':
        admin_url, db_url = f'{PG_URL}/postgres', f'{PG_URL}/{name}'
    elif backend == 'mysql':
        admin_url, db_url = f'{MYSQL_URL}/', f'{MYSQL_URL}/{name}?charset=utf8mb4'
    else:
        raise ValueError(backend)
    engine = sqlalchemy.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE {name}')
    engine.dispose()

    def drop() -> None:
        eng = sqlalchemy.create_engine(admin_url, isolation_level='AUTOCOMMIT')
        with eng.connect() as conn:
            if backend == 'postgresql':
                conn.exec_driver_sql(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS {name}')
        eng.dispose()

    return db_url, drop
