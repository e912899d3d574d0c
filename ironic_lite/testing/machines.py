"""A lab of qemu machines deployed by a real ironic_lite, all inside one network namespace.

:class:`MachineLab` starts, inside a :class:`~ironic_lite.testing.netns.ProvisioningNetwork`:
dnsmasq (DHCP + TFTP + IPv6 RAs, hosts and options from the directories the conductor's
``dnsmasq`` DHCP provider writes), a plain HTTP server for ``[deploy]http_root`` (what an
operator's web server does for upstream Ironic's iPXE boot), ``ironic-lite-vbmc`` with one qemu
machine per tap (its BMCs on the namespace's loopback) and the all-in-one ``ironic-lite``
(``ipmi`` + ``ipxe``, API on the bridge address). Machines PXE-boot through qemu's iPXE ROM:
DHCP → ``boot.ipxe`` over HTTP → the per-node script → kernel and ramdisk over HTTP.
``close()`` stops every process and removes the namespace.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from ironic_lite.testing import aio, cli, processes, services
from ironic_lite.testing.netns import ProvisioningNetwork, dnsmasq_argv

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused',
           'Content-Type': 'application/json'}
BMC_USER, BMC_PASSWORD = 'admin', 'password'
GiB = 1024 ** 3
# What a lab needs on the host (Debian: qemu-system-x86, ipxe-qemu, dnsmasq-base, iproute2).
TOOLS = ('qemu-system-x86_64', 'dnsmasq', 'ip')


def tools_ok() -> bool:
    return (all(shutil.which(t) for t in TOOLS) and os.geteuid() == 0
            and os.path.exists('/usr/lib/ipxe/qemu/pxe-virtio.rom'))


@dataclasses.dataclass
class Machine:
    name: str
    mac: str
    disk: str
    tap: str
    memory: int = 512
    port: int = 0          # its BMC's UDP port (inside the namespace), known once started
    console_log: str = ''


class MachineLab:
    def __init__(self, workdir: str, machines: Sequence[tuple[str, str]], *,
                 memory: int = 512, disk_size: int = 2 * GiB,
                 options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """``machines``: (name, MAC) pairs; each gets a sparse raw disk of ``disk_size``."""
        self.workdir = workdir
        self.machines = {
            name: Machine(name, mac, os.path.join(workdir, f'{name}.img'), f'tap{i}', memory,
                          console_log=os.path.join(workdir, f'{name}.console.log'))
            for i, (name, mac) in enumerate(machines)}
        self.disk_size = disk_size
        self.net = ProvisioningNetwork(taps=[m.tap for m in self.machines.values()])
        self.dirs = {name: os.path.join(workdir, name) for name in (
            'httpboot', 'tftpboot', 'hostsdir', 'optsdir', 'images', 'vbmc')}
        self.api_port = services.free_port()
        self.http_port = services.free_port()
        self.url = f'http://{self.net.address}:{self.api_port}'
        self.http_url = f'http://{self.net.address}:{self.http_port}'
        self.options = options or {}
        self.aio: processes.Daemon | None = None
        self._vbmc: subprocess.Popen | None = None

    # -- life -------------------------------------------------------------------------------
    def start(self) -> MachineLab:
        for path in self.dirs.values():
            os.makedirs(path, exist_ok=True)
        for machine in self.machines.values():
            with open(machine.disk, 'wb') as f:
                f.truncate(self.disk_size)
        self.net.create()
        try:
            self._start_services()
        except BaseException:
            self.close()
            raise
        return self

    def _start_services(self) -> None:
        d = self.dirs
        leases = os.path.join(self.workdir, 'dnsmasq.leases')
        self.net.spawn(dnsmasq_argv(self.net, self.workdir, d['hostsdir'], d['optsdir'],
                                    leases, d['tftpboot']),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Its access log (stderr) tells tests which files machines and the conductor fetched.
        self.http_log = os.path.join(self.workdir, 'http.log')
        with open(self.http_log, 'w') as log:
            self.net.spawn([sys.executable, '-m', 'http.server', '--bind', self.net.address,
                            '--directory', d['httpboot'], str(self.http_port)],
                           stdout=subprocess.DEVNULL, stderr=log)
        self._start_vbmc()
        processes.wait_for(lambda: self.net.port_open(self.http_port), timeout=30,
                           what='the HTTP server for [deploy]http_root')
        self.aio = processes.Daemon('ironic-lite', self._config(leases), ready_text='API ready',
                                    workdir=self.workdir, name='aio',
                                    prefix=self.net.command([])).start()

    def _start_vbmc(self) -> None:
        config = os.path.join(self.workdir, 'vbmc.json')
        with open(config, 'w') as f:
            json.dump({'workdir': self.dirs['vbmc'], 'machines': [
                {'name': m.name, 'disk': m.disk, 'mac': m.mac, 'tap': m.tap,
                 'memory': m.memory, 'console_log': m.console_log,
                 'username': BMC_USER, 'password': BMC_PASSWORD}
                for m in self.machines.values()]}, f)
        log = open(os.path.join(self.workdir, 'vbmc.log'), 'w')  # noqa: SIM115
        self._vbmc = self.net.spawn(
            [processes.console_script('ironic-lite-vbmc'), '--config', config, '-v'],
            stdout=subprocess.PIPE, stderr=log, text=True)
        line = self._vbmc.stdout.readline()
        if not line.startswith('READY'):
            raise RuntimeError(f'ironic-lite-vbmc did not start: {line!r}, see {log.name}')
        for pair in line.split()[2:]:
            name, _, port = pair.partition('=')
            self.machines[name].port = int(port)

    def _config(self, leases: str) -> dict[str, dict[str, Any]]:
        d, w = self.dirs, self.workdir
        config: dict[str, dict[str, Any]] = {
            'DEFAULT': {
                'host': f'lab-{uuid.uuid4().hex[:6]}', 'state_path': w, 'tempdir': w,
                'enabled_hardware_types': ['ipmi'],
                'enabled_power_interfaces': ['ipmitool'],
                'enabled_management_interfaces': ['ipmitool'],
                'enabled_boot_interfaces': ['ipxe'],
                'enabled_deploy_interfaces': ['iscsi', 'direct'],
                'enabled_vendor_interfaces': ['no-vendor'],
            },
            'database': {'connection': f'sqlite:///{w}/ironic_lite.sqlite'},
            'api': {'host_ip': self.net.address, 'port': self.api_port},
            'conductor': {'api_url': self.url, 'file_url_allowed_paths': [d['images']],
                          'automated_clean': False, 'sync_power_state_interval': 0,
                          'power_state_change_timeout': 60, 'deploy_callback_timeout': 300,
                          'check_provision_state_interval': 2,
                          'node_locked_retry_attempts': 50, 'node_locked_retry_interval': 0.2},
            'ipmi': {'min_command_interval': 0.1, 'command_retry_timeout': 20},
            'pxe': {'tftp_root': d['tftpboot'], 'tftp_server': self.net.address,
                    'tftp_master_path': os.path.join(d['tftpboot'], 'master_images'),
                    'instance_master_path': os.path.join(w, 'master_images'),
                    'images_path': os.path.join(w, 'node_images'),
                    'kernel_append_params': 'console=ttyS0'},
            'deploy': {'http_root': d['httpboot'], 'http_url': self.http_url},
            'dhcp': {'dhcp_provider': 'dnsmasq'},
            'dnsmasq': {'dhcp_hostsdir': d['hostsdir'], 'dhcp_optsdir': d['optsdir'],
                        'dhcp_leasefile': leases},
        }
        for section, values in self.options.items():
            config.setdefault(section, {}).update(values)
        return config

    def close(self) -> None:
        if self.aio is not None:
            self.aio.stop()
        self.net.close()      # SIGTERM to vbmc (machines off), dnsmasq, the HTTP server

    def __enter__(self) -> MachineLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------------
    def http_gets(self, path: str) -> int:
        """How many times ``GET <path>`` was served by the HTTP root."""
        with open(self.http_log, errors='replace') as f:
            return sum(f'"GET {path} ' in line for line in f)

    def image(self, src: str, name: str | None = None) -> str:
        """Copy ``src`` into the images folder the conductor may read; its file:// URL."""
        dest = os.path.join(self.dirs['images'], name or os.path.basename(src))
        shutil.copyfile(src, dest)
        return f'file://{dest}'

    def api(self, method: str, path: str, body: Any = None,
            status: int | None = None) -> requests.Response:
        resp = self.net.call(requests.request, method, self.url + path, headers=HEADERS,
                             data=None if body is None else json.dumps(body), timeout=30)
        if status is not None:
            assert resp.status_code == status, (method, path, resp.status_code, resp.text)
        return resp

    def node(self, ident: str) -> dict:
        return self.api('GET', f'/v1/nodes/{ident}', status=200).json()

    def wait_node(self, ident: str, predicate: Callable[[dict], bool], what: str,
                  timeout: float = 300) -> dict:
        return aio.wait_node(self.node, ident, predicate, what, timeout=timeout, interval=0.5,
                             explain=lambda: self.diagnostics(ident))

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        proc = cli.openstack_baremetal(self.url, *args, timeout=timeout,
                                       prefix=tuple(self.net.command([])))
        assert proc.returncode == 0, f'{args}: {proc.stderr}\n{self.diagnostics()}'
        return proc

    def console(self, name: str) -> str:
        try:
            with open(self.machines[name].console_log, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def wait_console(self, name: str, text: str, timeout: float = 300,
                     after: int = 0) -> str:
        """The console line holding ``text`` (searched from offset ``after``)."""
        def find() -> str | None:
            out = self.console(name)[after:]
            for line in out.splitlines():
                if text in line:
                    return line.strip()
            return None
        try:
            return processes.wait_for(find, timeout=timeout, interval=0.5,
                                      what=f'{text!r} on the console of {name}')
        except TimeoutError as e:
            raise TimeoutError(f'{e}\n{self.diagnostics()}') from None

    def enroll(self, name: str, *, deploy_interface: str, deploy_kernel: str,
               deploy_ramdisk: str, **properties: Any) -> dict:
        """Create the machine's node (as an operator does) and make it ``available``."""
        machine = self.machines[name]
        node = self.api('POST', '/v1/nodes', {
            'name': name, 'driver': 'ipmi', 'boot_interface': 'ipxe',
            'deploy_interface': deploy_interface,
            'properties': {'local_gb': self.disk_size // GiB, 'memory_mb': machine.memory,
                           'cpus': 1, 'cpu_arch': 'x86_64', **properties},
            'driver_info': {'ipmi_address': '127.0.0.1', 'ipmi_port': machine.port,
                            'ipmi_username': BMC_USER, 'ipmi_password': BMC_PASSWORD,
                            'deploy_kernel': deploy_kernel,
                            'deploy_ramdisk': deploy_ramdisk}}, status=201).json()
        self.api('POST', '/v1/ports', {'node_uuid': node['uuid'], 'address': machine.mac},
                 status=201)
        for target, state in (('manage', 'manageable'), ('provide', 'available')):
            self.api('PUT', f'/v1/nodes/{name}/states/provision', {'target': target},
                     status=202)
            self.wait_node(name, lambda n, s=state: n['provision_state'] == s
                           and n['reservation'] is None, f'{state}', timeout=120)
        return node

    def diagnostics(self, ident: str | None = None) -> str:
        parts = []
        if ident:
            try:
                node = self.node(ident)
                parts.append(f"node: {node['provision_state']} {node['power_state']} "
                             f"last_error={node['last_error']}")
            except Exception as e:  # the API may be what failed
                parts.append(f'node: {e}')
        if self.aio is not None:
            parts.append('--- ironic-lite log tail ---\n' + self.aio.log_tail(40))
        for name in self.machines:
            parts.append(f'--- console of {name} (tail) ---\n' + self.console(name)[-2500:])
        dnsmasq_log = os.path.join(self.workdir, 'dnsmasq.log')
        if os.path.exists(dnsmasq_log):
            with open(dnsmasq_log, errors='replace') as f:
                parts.append('--- dnsmasq log tail ---\n' + ''.join(f.readlines()[-15:]))
        return '\n'.join(parts)
