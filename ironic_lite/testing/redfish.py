"""A real Redfish service for tests and benchmarks: sushy-tools' emulator with its fake driver.

:class:`RedfishEmulator` runs ``sushy-emulator`` (PyPI ``sushy-tools``, the emulator upstream
Ironic's CI uses) as a subprocess on a free loopback port, with the ``fake`` systems driver (no
libvirt, any number of systems in one process), over http or https (a self-signed certificate
made for the test) and optionally behind HTTP basic auth (a bcrypt htpasswd file). Its state
lives in the test's own directory, never in the emulator's shared default under /tmp.

The fake driver applies a power change 1-11 s after the request (random); the process is
started through :mod:`ironic_lite.testing.redfish_emulator`, which makes that delay
``power_delay`` seconds (0: applied on the next read) so tests do not sleep for nothing.

    with RedfishEmulator(str(tmp_path), count=3, https=True, password='pw') as bmc:
        driver_info = bmc.driver_info(bmc.systems[0])
        bmc.set_power(bmc.systems[0], 'On')        # behind the conductor's back
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid as uuidlib
from typing import Any

import bcrypt
import requests

from ironic_lite.testing import processes, services

READY_PATH = '/redfish/v1/'
SYSTEMS_PATH = '/redfish/v1/Systems'


def fake_system(index: int, power_state: str = 'Off',
                hardware: dict[str, Any] | None = None) -> dict[str, Any]:
    """One system of the fake driver: a stable uuid, a name, one NIC with a stable MAC.

    ``hardware`` (``{'sockets': 2, 'threads_per_cpu': 4, 'memory_gib': 16,
    'disks_gib': [100, 20]}``) gives it processors, memory and disks
    (:mod:`ironic_lite.testing.redfish_emulator`); extra NICs go in ``nics`` afterwards."""
    system = {'uuid': str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f'redfish-fake-{index}')),
              'name': f'fake-{index}', 'power_state': power_state,
              'nics': [{'mac': f'52:54:00:{index >> 16 & 0xff:02x}:{index >> 8 & 0xff:02x}:'
                               f'{index & 0xff:02x}', 'ip': '192.0.2.1'}]}
    if hardware:
        system['hardware'] = hardware
    return system


class RedfishEmulator:
    """sushy-emulator (fake driver) on 127.0.0.1:<free port>; a context manager."""

    def __init__(self, workdir: str, count: int = 1, https: bool = False,
                 username: str = 'admin', password: str | None = None,
                 power_delay: float = 0, systems: list[dict[str, Any]] | None = None):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.fake_systems = systems or [fake_system(i) for i in range(count)]
        self.https = https
        self.username, self.password = username, password
        self.power_delay = power_delay
        self.port = services.free_port()
        self.url = f'{"https" if https else "http"}://127.0.0.1:{self.port}'
        self.cafile: str | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(workdir, f'sushy-emulator-{self.port}.log')

    @property
    def systems(self) -> list[str]:
        return [s['uuid'] for s in self.fake_systems]

    def driver_info(self, system_id: str, **extra: Any) -> dict[str, Any]:
        """The ``redfish`` driver_info reaching ``system_id`` on this emulator."""
        info: dict[str, Any] = {'redfish_address': self.url,
                                'redfish_system_id': f'{SYSTEMS_PATH}/{system_id}'}
        if self.password is not None:
            info.update(redfish_username=self.username, redfish_password=self.password)
        if self.https:
            info['redfish_verify_ca'] = self.cafile
        info.update(extra)
        return info

    # -- process ---------------------------------------------------------------------------
    def _write_config(self) -> str:
        config = {'SUSHY_EMULATOR_FAKE_DRIVER': True,
                  'SUSHY_EMULATOR_FAKE_SYSTEMS': self.fake_systems,
                  'SUSHY_EMULATOR_STATE_DIR': os.path.join(self.workdir, f'state-{self.port}'),
                  'SUSHY_EMULATOR_LISTEN_IP': '127.0.0.1',
                  'SUSHY_EMULATOR_LISTEN_PORT': self.port}
        if self.password is not None:
            digest = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd = os.path.join(self.workdir, f'htpasswd-{self.port}')
            with open(htpasswd, 'w') as f:
                f.write(f'{self.username}:{digest}\n')
            config['SUSHY_EMULATOR_AUTH_FILE'] = htpasswd
        if self.https:
            from ironic_lite.tools.agent_sim_tls import generate_tls_certificate
            cert = os.path.join(self.workdir, f'bmc-{self.port}.crt')
            key = os.path.join(self.workdir, f'bmc-{self.port}.key')
            generate_tls_certificate('127.0.0.1', cert, key)
            self.cafile = cert
            config.update(SUSHY_EMULATOR_SSL_CERT=cert, SUSHY_EMULATOR_SSL_KEY=key)
        path = os.path.join(self.workdir, f'sushy-emulator-{self.port}.conf')
        with open(path, 'w') as f:
            f.writelines(f'{name} = {value!r}\n' for name, value in config.items())
        return path

    def start(self, timeout: float = 30) -> RedfishEmulator:
        config = self._write_config()
        env = dict(os.environ, IRONIC_LITE_REDFISH_POWER_DELAY=str(self.power_delay))
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'ironic_lite.testing.redfish_emulator',
                 '--config', config], stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f'sushy-emulator exited: {self.log_tail()}')
            try:
                return requests.get(self.url + READY_PATH, timeout=1,
                                    verify=self.cafile or True).ok
            except requests.RequestException:
                return False
        processes.wait_for(ready, timeout=timeout, what=f'sushy-emulator at {self.url}')
        return self

    def stop(self) -> None:
        if self.proc is not None:
            processes.terminate(self.proc, grace=10)
            self.proc = None

    def log_tail(self, n: int = 40) -> str:
        with open(self.log_path, errors='replace') as f:
            return ''.join(f.readlines()[-n:])

    def __enter__(self) -> RedfishEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- looking and acting behind the conductor's back -------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        auth = (self.username, self.password) if self.password is not None else None
        resp = requests.request(method, self.url + path, auth=auth, timeout=10,
                                verify=self.cafile or True, **kwargs)
        resp.raise_for_status()
        return resp

    def system(self, system_id: str) -> dict[str, Any]:
        """The system's Redfish resource (``PowerState``, ``Boot``…)."""
        return self._request('GET', f'{SYSTEMS_PATH}/{system_id}').json()

    def virtual_cd(self, system_id: str) -> dict[str, Any]:
        """The system's virtual CD (``Image``, ``Inserted``…)."""
        return self._request('GET', f'{SYSTEMS_PATH}/{system_id}/VirtualMedia/Cd').json()

    def power_state(self, system_id: str) -> str:
        return self.system(system_id)['PowerState']

    def set_power(self, system_id: str, reset_type: str) -> None:
        """``On``, ``ForceOff``, ``GracefulShutdown``, ``ForceRestart``…; as a machine's OS or
        its operator would, not through ironic_lite."""
        self._request('POST', f'{SYSTEMS_PATH}/{system_id}/Actions/ComputerSystem.Reset',
                      json={'ResetType': reset_type})
