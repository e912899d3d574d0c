"""Split-mode ironic_lite as real processes: ``ironic-lite-api`` + ``ironic-lite-conductor``
over RabbitMQ, sharing one database. Used by acceptance tests and benchmarks.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from typing import Any

from ironic_lite.conf.default import EMBEDDED_DRIVER_DEFAULTS
from ironic_lite.testing import processes, services

API_READY = 'ironic_lite API ready'


class SplitCluster:
    def __init__(self, transport_url: str, db_url: str | None = None,
                 workdir: str | None = None, conductor_options: dict[str, dict] | None = None,
                 api_options: dict[str, dict] | None = None, fake_hardware: bool = True):
        self.workdir = workdir or tempfile.mkdtemp(prefix='ironic_lite_split_')
        self.db_url = db_url or f'sqlite:///{os.path.join(self.workdir, "ironic_lite.sqlite")}'
        self.port = services.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.transport_url = transport_url
        self.conductor_host = f'conductor-{uuid.uuid4().hex[:6]}'
        self._conductor_options = conductor_options or {}
        self._api_options = api_options or {}
        # fake-hardware as in the all-in-one; False: upstream's driver defaults (ipmi)
        self._drivers = dict(EMBEDDED_DRIVER_DEFAULTS) if fake_hardware else {}
        self.api: processes.Daemon | None = None
        self.conductors: list[processes.Daemon] = []

    def _config(self, host: str, extra: dict[str, dict]) -> dict[str, dict[str, Any]]:
        config: dict[str, dict[str, Any]] = {
            'DEFAULT': {'host': host, 'transport_url': self.transport_url,
                        'state_path': self.workdir, **self._drivers},
            'database': {'connection': self.db_url},
            'api': {'host_ip': '127.0.0.1', 'port': self.port},
            'conductor': {'heartbeat_interval': 2, 'heartbeat_timeout': 20,
                          'node_locked_retry_interval': 0.1},
        }
        for section, options in extra.items():
            config.setdefault(section, {}).update(options)
        return config

    def dbsync(self) -> None:
        path = processes.write_config(os.path.join(self.workdir, 'dbsync.conf'),
                                      self._config('dbsync', {}))
        subprocess.run([processes.console_script('ironic-lite-dbsync'), '--config-file', path,
                        'upgrade'], check=True, capture_output=True, text=True)

    def start_conductor(self, host: str | None = None,
                        options: dict[str, dict] | None = None) -> processes.Daemon:
        host = host or self.conductor_host
        config = self._config(host, {**self._conductor_options, **(options or {})})
        daemon = processes.Daemon('ironic-lite-conductor', config,
                                  ready_text=f'conductor {host} ready', workdir=self.workdir,
                                  name=f'conductor-{host}-{len(self.conductors)}')
        daemon.start()
        self.conductors.append(daemon)
        return daemon

    def start(self) -> SplitCluster:
        self.dbsync()
        self.start_conductor()
        self.api = processes.Daemon('ironic-lite-api', self._config('api', self._api_options),
                                    ready_text=API_READY, workdir=self.workdir, name='api')
        self.api.start()
        return self

    def stop(self) -> None:
        for daemon in [self.api, *self.conductors]:
            if daemon is not None:
                daemon.stop()

    def logs(self) -> str:
        return '\n'.join(f'--- {d.name}\n{d.log_tail()}'
                         for d in [self.api, *self.conductors] if d is not None)
