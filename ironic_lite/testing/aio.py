"""The all-in-one ``ironic-lite`` daemon as a real subprocess on loopback, set up for ``ipmi``
nodes (``ipmitool`` power and management against fake BMCs such as
:class:`ironic_lite.tools.fakebmc.FakeBmcFleet`) with PXE files, images and SQLite under one
work directory and no DHCP. Used by acceptance tests and benchmarks, which drive it over plain
HTTP and through the real ``openstack baremetal`` CLI (``auth_type none``).
"""
from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ironic_lite.testing import cli, processes, services

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


class AioDaemon:
    """``ironic-lite`` (API + conductor in one process) with the ``ipmi`` hardware type.

    ``options`` adds to or overrides the base configuration, section by section (e.g. the
    enabled boot and deploy interfaces, conductor timings). ``images`` is a directory the
    conductor may read ``file://`` images from.
    """

    def __init__(self, workdir: str, options: Mapping[str, Mapping[str, Any]]) -> None:
        self.workdir = workdir
        self.port = services.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.tftp_root = os.path.join(workdir, 'tftpboot')
        self.images = os.path.join(workdir, 'images')
        os.makedirs(self.images, exist_ok=True)
        config: dict[str, dict[str, Any]] = {
            'DEFAULT': {
                'host': f'aio-{uuid.uuid4().hex[:6]}', 'state_path': workdir,
                'enabled_hardware_types': ['ipmi'],
                'enabled_power_interfaces': ['ipmitool'],
                'enabled_management_interfaces': ['ipmitool'],
            },
            'database': {'connection': f'sqlite:///{workdir}/ironic_lite.sqlite'},
            'api': {'host_ip': '127.0.0.1', 'port': self.port},
            'conductor': {'api_url': self.url, 'node_locked_retry_interval': 0.1,
                          'file_url_allowed_paths': [self.images]},
            'ipmi': {'min_command_interval': 0.05},
            'pxe': {'tftp_root': self.tftp_root,
                    'tftp_master_path': os.path.join(self.tftp_root, 'master_images'),
                    'tftp_server': '127.0.0.1'},
            'dhcp': {'dhcp_provider': 'none'},
        }
        for section, values in options.items():
            config.setdefault(section, {}).update(values)
        self.daemon = processes.Daemon('ironic-lite', config, ready_text='API ready',
                                       workdir=workdir, name='aio')

    def start(self) -> AioDaemon:
        self.daemon.start()
        return self

    def stop(self) -> None:
        self.daemon.stop()

    def cli(self, *args: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """``openstack baremetal *args`` against this daemon, ignoring the caller's cloud
        settings; with ``check``, a failure asserts with the daemon's log tail."""
        proc = cli.openstack_baremetal(self.url, *args, timeout=timeout)
        if check:
            assert proc.returncode == 0, f'{args}: {proc.stderr}\n{self.daemon.log_tail()}'
        return proc

    def node(self, ident: str) -> dict:
        resp = requests.get(f'{self.url}/v1/nodes/{ident}', headers=HEADERS, timeout=30)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return resp.json()

    def wait_node(self, ident: str, predicate: Callable[[dict], bool], what: str,
                  timeout: float = 30) -> dict:
        """The node once ``predicate(node)`` holds; fails with the daemon's log tail after
        ``timeout`` seconds."""
        return wait_node(self.node, ident, predicate, what, timeout=timeout,
                         explain=self.daemon.log_tail)


def wait_node(get_node: Callable[[str], dict], ident: str, predicate: Callable[[dict], bool],
              what: str, *, timeout: float, explain: Callable[[], str],
              interval: float = 0.1) -> dict:
    """Poll ``get_node(ident)`` until ``predicate(node)`` holds and return that node; after
    ``timeout`` seconds fail with what ``explain()`` says (a log tail, a console...)."""
    def check() -> dict | None:
        node = get_node(ident)
        return node if predicate(node) else None

    try:
        return processes.wait_for(check, timeout=timeout, interval=interval,
                                  what=f'node {ident}: {what}')
    except TimeoutError as e:
        raise TimeoutError(f'{e}\n{explain()}') from None
