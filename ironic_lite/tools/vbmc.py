"""Virtual BMCs for qemu machines: what virtualbmc is for libvirt, for plain qemu.

One IPMI BMC (pyghmi's BMC server, a UDP port on loopback) per qemu machine, many machines per
process. IPMI chassis control drives the machine (:mod:`vbmc_machine`): power on starts
``qemu-system-x86_64`` (TCG) with the machine's disk file, NIC MAC, memory and serial console
log; power off, reset and soft off (ACPI) go through QMP; the power state is the machine's
(a guest that powers itself off reads as off). The boot device (network / disk, once or
persistent, as set with ``chassis bootdev``) applies at the next boot — a power on, a reset or
a reboot of the guest — and a one-time override is used by exactly one boot, as IPMI defines.

Run it with a JSON (or YAML) file describing the machines::

    ironic-lite-vbmc --config machines.json

    {"address": "127.0.0.1", "workdir": "/tmp/vbmc",
     "machines": [{"name": "node-0", "port": 6230, "username": "admin",
                   "password": "password", "disk": "/var/tmp/node-0.img",
                   "mac": "52:54:00:12:34:56", "memory": 1024, "tap": "tap0"}]}

or one machine from the command line (``--name --disk --mac --port ...``). It prints
``READY 127.0.0.1 <name>=<port> ...`` once every BMC answers, and on SIGTERM/SIGINT powers every
machine off and exits. The BMC's login quirks (cipher suite 3, unknown users) are the fake BMC's
(:mod:`fakebmc_bmc`); ``ipmitool -I lanplus -C 3`` works against it.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any

from ironic_lite.tools.fakebmc import FakeBmcFleet, load_document, serve
from ironic_lite.tools.fakebmc_bmc import BmcSpec, FakeBmc
from ironic_lite.tools.vbmc_machine import (
    MachineError,
    MachineRunner,
    MachineSpec,
    QemuMachine,
)

__all__ = ['MachineSpec', 'VirtualBmc', 'VirtualBmcFleet', 'main']

LOG = logging.getLogger(__name__)

_NOT_IN_PRESENT_STATE = 0xD5
_ACTIONS = {0: 'off', 1: 'on', 2: 'reset', 3: 'reset', 4: 'nmi', 5: 'soft_off'}


class VirtualBmc(FakeBmc):
    """The fake BMC's IPMI (sessions, boot options) in front of a :class:`QemuMachine`."""

    def __init__(self, sock: socket.socket, spec: MachineSpec, runner: MachineRunner) -> None:
        super().__init__(sock, BmcSpec(port=spec.port, username=spec.username,
                                       password=spec.password), soft_off_delay=None)
        self.machine = QemuMachine(spec, runner, self._next_boot_device)

    def _next_boot_device(self) -> str | None:
        """The device this boot uses; a one-time override is consumed (runner's loop)."""
        with self._lock:
            self._settle()
            self._boot()
            return self._last_boot_device

    def get_power_state(self) -> str:
        return 'on' if self.machine.running else 'off'

    def state(self) -> dict[str, Any]:
        return {**super().state(), 'power': self.get_power_state(),
                'boots': len(self.machine.boots), 'boot_orders': list(self.machine.boots),
                'console_log': self.machine.console_log}

    def control_chassis(self, request: dict[str, Any], session: Any) -> None:
        directive = request['data'][0] if request['data'] else None
        action = _ACTIONS.get(directive)
        running = self.machine.running
        code = 0
        if action is None:
            code = 0xCC                                      # invalid data field
        elif action in ('reset', 'nmi', 'soft_off') and not running:
            code = _NOT_IN_PRESENT_STATE
        elif (action, running) not in (('on', True), ('off', False)):
            self.machine.request(action)
            if action in ('on', 'off', 'reset'):
                self.count('power_changes')
        LOG.info('BMC %s (%s): chassis control %s -> code %#x', self.port,
                 self.machine.spec.name, action, code)
        session.send_ipmi_response(code=code)


class VirtualBmcFleet(FakeBmcFleet):
    """BMCs for qemu machines, served by the fake BMC fleet's loop; machines on a runner."""

    def __init__(self, machines: Sequence[MachineSpec], address: str = '127.0.0.1',
                 workdir: str | None = None, allow_non_loopback: bool = False) -> None:
        super().__init__(address, specs=list(machines), allow_non_loopback=allow_non_loopback)
        self.workdir = workdir
        self.runner: MachineRunner | None = None

    def start(self) -> VirtualBmcFleet:
        self.runner = MachineRunner(self.workdir)
        try:
            super().start()
        except BaseException:
            self.runner.stop()
            raise
        return self

    def _make_bmc(self, sock: socket.socket, spec: Any) -> FakeBmc:
        return VirtualBmc(sock, spec, self.runner)

    def machine(self, name: str) -> QemuMachine:
        for bmc in self._bmcs.values():
            if bmc.machine.spec.name == name:
                return bmc.machine
        raise KeyError(name)

    def port_of(self, name: str) -> int:
        return next(port for port, bmc in self._bmcs.items()
                    if bmc.machine.spec.name == name)

    def ready_line(self) -> str:
        pairs = ' '.join(f'{bmc.machine.spec.name}={port}' for port, bmc in self._bmcs.items())
        return f'READY {self.address} {pairs}'

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)        # no more IPMI requests ...
        if self.runner is not None:  # ... then every machine off
            self.runner.stop()
            self.runner = None


def _load(path: str) -> tuple[dict[str, Any], list[MachineSpec]]:
    doc = load_document(path)
    if isinstance(doc, list):
        doc = {'machines': doc}
    fields = {f.name for f in dataclasses.fields(MachineSpec)}
    specs = []
    for entry in doc.get('machines', []):
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise ValueError(f'{path}: unknown machine field(s) {", ".join(unknown)}; '
                             f'valid: {", ".join(sorted(fields))}')
        specs.append(MachineSpec(**entry))
    return doc, specs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='ironic-lite-vbmc',
        description='IPMI BMCs (loopback UDP) for qemu machines: power on/off/reset, boot '
                    'device; one BMC per machine, many machines per process.')
    parser.add_argument('--config', help='JSON/YAML file listing the machines')
    parser.add_argument('--address', default=None, help='address to bind (default 127.0.0.1)')
    parser.add_argument('--workdir', help='where QMP sockets and console logs go')
    parser.add_argument('--name', help='one machine: its name')
    parser.add_argument('--disk', help='one machine: its disk file')
    parser.add_argument('--mac', default='52:54:00:12:34:56', help='one machine: NIC MAC')
    parser.add_argument('--port', type=int, default=0, help='one machine: UDP port')
    parser.add_argument('--memory', type=int, default=1024, help='one machine: MiB')
    parser.add_argument('--tap', help='one machine: tap interface (default: user networking)')
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', default='password')
    parser.add_argument('--allow-non-loopback', action='store_true')
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format='%(asctime)s %(levelname)s %(message)s')
    try:
        doc: dict[str, Any] = {}
        if args.config:
            doc, specs = _load(args.config)
        elif args.name and args.disk:
            specs = [MachineSpec(name=args.name, disk=args.disk, mac=args.mac, port=args.port,
                                 memory=args.memory, tap=args.tap, username=args.user,
                                 password=args.password)]
        else:
            parser.error('give --config FILE, or --name and --disk for one machine')
        fleet = VirtualBmcFleet(specs, address=args.address or doc.get('address', '127.0.0.1'),
                                workdir=args.workdir or doc.get('workdir'),
                                allow_non_loopback=args.allow_non_loopback).start()
    except (OSError, ValueError, TypeError, MachineError) as e:
        print(f'ironic-lite-vbmc: {e}', file=sys.stderr)
        return 1
    return serve(fleet)


if __name__ == '__main__':
    sys.exit(main())
