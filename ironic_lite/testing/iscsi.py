"""The all-in-one daemon set up for the ``iscsi`` deploy interface, and what drives it: the
simulated bash ramdisks (:mod:`ironic_lite.tools.bash_ramdisk`) in a background event loop,
sparse disk files. Shared by ``tests/functional/test_iscsi_deploy.py`` and
``bench/bench_iscsi_deploy.py``; needs Debian ``tgt``, ``qemu-utils``, ``qemu-block-extra``,
``fdisk`` (see :func:`tools_ok`).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import requests

from ironic_lite.testing.aio import HEADERS, AioDaemon
from ironic_lite.tools import bash_ramdisk

USER, PASSWORD = 'admin', 'pw'   # of the fake BMCs the nodes point at
MiB = 1024 * 1024
TOOLS = ('tgtd', 'tgtadm', 'qemu-img', 'sfdisk', 'mkswap', 'blkid', 'mkfs.ext4')


def tools_ok() -> bool:
    """Whether the tools an iSCSI deploy on loopback needs are installed (qemu-img with its
    libiscsi driver included)."""
    if not all(shutil.which(t) for t in TOOLS):
        return False
    out = subprocess.run(['qemu-img', '--help'], capture_output=True, text=True).stdout
    return 'iscsi' in out or os.path.exists('/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so')


class IscsiAio(AioDaemon):
    """``ironic-lite`` with ipmi + pxe + iscsi enabled; helpers to drive it over HTTP."""

    def __init__(self, workdir: str, callback_timeout: int = 600) -> None:
        super().__init__(workdir, {
            'DEFAULT': {'enabled_boot_interfaces': ['pxe'],
                        'enabled_deploy_interfaces': ['iscsi'],
                        'enabled_vendor_interfaces': ['no-vendor'],
                        'tempdir': workdir},
            'conductor': {'node_locked_retry_attempts': 50,
                          'sync_power_state_interval': 0, 'power_state_change_timeout': 20,
                          'deploy_callback_timeout': callback_timeout,
                          'check_provision_state_interval': 1, 'automated_clean': False},
            'ipmi': {'command_retry_timeout': 5},
            'pxe': {'instance_master_path': os.path.join(workdir, 'master_images'),
                    'images_path': os.path.join(workdir, 'node_images')},
        })
        for name in ('deploy.kernel', 'deploy.initramfs', 'vmlinuz', 'initrd'):
            self.write_image(name, name.encode() * 100)

    @classmethod
    @contextlib.contextmanager
    def running(cls, workdir: str) -> Iterator[IscsiAio]:
        """The daemon started in ``workdir``, stopped on exit (a module fixture's body)."""
        daemon = cls(workdir)
        daemon.daemon.start()
        try:
            yield daemon
        finally:
            daemon.daemon.stop()

    def write_image(self, name: str, data: bytes) -> str:
        path = os.path.join(self.images, name)
        with open(path, 'wb') as f:
            f.write(data)
        return f'file://{path}'

    # -- HTTP ---------------------------------------------------------------------------
    def req(self, method: str, path: str, json_body=None, status: int | None = None):
        resp = requests.request(method, self.url + path, json=json_body, headers=HEADERS,
                                timeout=30)
        if status is not None:
            assert resp.status_code == status, (resp.status_code, resp.text)
        return resp

    def wait_state(self, ident: str, states: tuple[str, ...], timeout: float = 60) -> dict:
        """The node once in one of ``states`` and unlocked."""
        return self.wait_node(ident, lambda n: n['provision_state'] in states
                              and n['reservation'] is None, f'in {states}', timeout)

    def available_node(self, name: str, bmc_port: int, mac: str, **instance_info) -> dict:
        node = self.req('POST', '/v1/nodes', {
            'name': name, 'driver': 'ipmi', 'boot_interface': 'pxe',
            'deploy_interface': 'iscsi', 'properties': {'local_gb': 4},
            'driver_info': {
                'ipmi_address': '127.0.0.1', 'ipmi_port': bmc_port, 'ipmi_username': USER,
                'ipmi_password': PASSWORD,
                'deploy_kernel': f'file://{self.images}/deploy.kernel',
                'deploy_ramdisk': f'file://{self.images}/deploy.initramfs'},
            'instance_info': instance_info}, status=201).json()
        self.req('POST', '/v1/ports', {'node_uuid': node['uuid'], 'address': mac}, status=201)
        for target, state in (('manage', 'manageable'), ('provide', 'available')):
            self.req('PUT', f'/v1/nodes/{name}/states/provision', {'target': target},
                     status=202)
            self.wait_state(name, (state,))
        return node

    def deploy(self, name: str) -> None:
        self.req('PUT', f'/v1/nodes/{name}/states/provision', {'target': 'active'},
                 status=202)

    def ramdisk(self, mac: str, disk: str, **kwargs) -> bash_ramdisk.BashRamdisk:
        return bash_ramdisk.BashRamdisk(bash_ramdisk.config_path(self.tftp_root, mac), disk,
                                        **kwargs)

    def log(self) -> str:
        with open(self.daemon.log_path) as f:
            return f.read()


class Background:
    """Simulated ramdisks running in their own event loop thread."""

    def __init__(self, ramdisks: list[bash_ramdisk.BashRamdisk]) -> None:
        self.ramdisks, self.results = ramdisks, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.results = asyncio.run(bash_ramdisk.run_many(self.ramdisks))

    def join(self, timeout: float = 120) -> list:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), 'simulated ramdisks did not finish'
        return self.results


def sparse_disk(path: str, size: int) -> str:
    """A sparse file of ``size`` bytes: the disk a simulated ramdisk exposes."""
    with open(path, 'wb') as f:
        f.truncate(size)
    return path


def read(path: str, offset: int = 0, length: int = -1) -> bytes:
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read(length)
