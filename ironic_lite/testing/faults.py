"""Faults a test injects into services of its own: a private RabbitMQ node it can take down
and bring back, and a PostgreSQL database whose connections it can cut and refuse.

The machine's shared broker and database server are never stopped: ``PrivateRabbit`` starts a
second RabbitMQ node (its own node name, ports and data directory) and ``pg_outage`` acts on
one database only.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

from ironic_lite.testing import processes, services


def rabbit_server_available() -> bool:
    return bool(shutil.which('rabbitmq-server') and shutil.which('rabbitmqctl'))


class PrivateRabbit:
    """A RabbitMQ node of the test's own on free loopback ports.

    ``pause()`` stops the RabbitMQ application (connections dropped, port closed: an outage);
    ``resume()`` starts it again. Starting the node takes several seconds.
    """

    def __init__(self) -> None:
        # not under pytest's tmp_path: the rabbitmq user must reach it (its parents are 0700)
        self.workdir = tempfile.mkdtemp(prefix='ironic_lite_rabbit_')
        self.node = f'ironic_lite_{uuid.uuid4().hex[:10]}@localhost'
        self.port = services.free_port()
        self.dist_port = services.free_port()
        self.url = f'rabbit://guest:guest@127.0.0.1:{self.port}/'
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        d = self.workdir
        plugins = os.path.join(d, 'enabled_plugins')
        if not os.path.exists(plugins):
            with open(plugins, 'w') as f:
                f.write('[].\n')  # no management plugin: no extra ports
        return {**os.environ,
                'RABBITMQ_NODENAME': self.node,
                'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
                'RABBITMQ_NODE_PORT': str(self.port),
                'RABBITMQ_DIST_PORT': str(self.dist_port),
                'RABBITMQ_MNESIA_BASE': os.path.join(d, 'mnesia'),
                'RABBITMQ_LOG_BASE': os.path.join(d, 'log'),
                'RABBITMQ_PID_FILE': os.path.join(d, 'pid'),
                'RABBITMQ_ENABLED_PLUGINS_FILE': plugins,
                'RABBITMQ_FEATURE_FLAGS_FILE': os.path.join(d, 'feature_flags'),
                'RABBITMQ_CONFIG_FILE': os.path.join(d, 'rabbitmq'),
                'RABBITMQ_ADVANCED_CONFIG_FILE': os.path.join(d, 'advanced.config'),
                'RABBITMQ_CONF_ENV_FILE': os.path.join(d, 'rabbitmq-env.conf')}

    def start(self, timeout: float = 90) -> PrivateRabbit:
        env = self._env()
        for sub in ('mnesia', 'log'):
            os.makedirs(os.path.join(self.workdir, sub), exist_ok=True)
        if os.geteuid() == 0:
            # Debian's rabbitmq-server switches to the rabbitmq user when started as root
            for root, dirs, files in os.walk(self.workdir):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    shutil.chown(name, 'rabbitmq', 'rabbitmq')
        log = open(os.path.join(self.workdir, 'server.log'), 'w')  # noqa: SIM115
        with log:
            self.proc = subprocess.Popen(['rabbitmq-server'], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.workdir)
        try:
            processes.wait_for(lambda: self.proc.poll() is not None or services.port_open(
                '127.0.0.1', self.port), timeout=timeout, interval=0.2,
                what=f'RabbitMQ node {self.node}')
            if self.proc.poll() is not None:
                raise RuntimeError(f'RabbitMQ node {self.node} exited: {self.log_tail()}')
            self._ctl('await_startup')
        except BaseException:
            self.stop()
            raise
        return self

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(['rabbitmqctl', '-q', '-n', self.node, *args], check=True,
                       capture_output=True, timeout=timeout, env=self._env())

    def pause(self) -> None:
        """Outage: stop the RabbitMQ application; its port refuses connections."""
        self._ctl('stop_app')
        processes.wait_for(lambda: not services.port_open('127.0.0.1', self.port),
                           what='RabbitMQ port closed')

    def resume(self) -> None:
        self._ctl('start_app')
        processes.wait_for(lambda: services.port_open('127.0.0.1', self.port),
                           what='RabbitMQ port open')

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(os.path.join(self.workdir, 'server.log')) as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError):
                self._ctl('stop', timeout=30)
        processes.terminate(self.proc, grace=15)
        # the Erlang VM runs in the node's own session: make sure none of it is left
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, 9)
        self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def pg_outage(db_url: str) -> Iterator[None]:
    """While inside: the PostgreSQL database of ``db_url`` refuses new connections and its
    open ones are terminated (the server and other databases keep running)."""
    import sqlalchemy
    name = db_url.rsplit('/', 1)[1].split('?')[0]
    admin = sqlalchemy.create_engine(f'{services.PG_URL}/postgres',
                                     isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE {name} ALLOW_CONNECTIONS false')
            conn.exec_driver_sql(
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        yield
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE {name} ALLOW_CONNECTIONS true')
        admin.dispose()
