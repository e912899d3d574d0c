#!/usr/bin/env python3
"""Power state sync cycle time for 100 and 1,000 ``ipmi`` and ``redfish`` nodes (issues 3, 12).

For each node count N the script starts ONE ``ironic-lite-fakebmc`` process hosting N BMCs on
free loopback UDP ports (real IPMI over UDP, pyghmi's BMC server), and an in-process conductor
(:class:`ironic_lite.testing.harness.Harness`: SQLite in a temp dir, the real ``ipmitool``
power interface and the real :class:`~ironic_lite.conductor.power_sync.PowerSync`). It creates
N ``active`` ipmi nodes whose recorded power state is ``power off`` (the BMCs' state), then
times whole sync passes (``PowerSync.run_once``: list, hash ring, shared lock per node, one IPMI
"get chassis status" per node):

* ``cold``  — the first pass: every BMC needs an RMCP+ login (session set-up) first;
* ``warm``  — later passes: sessions are reused;
* ``drift`` — 10 % of the nodes are recorded as ``power on``: the pass (force mode) powers
  those machines on and waits until each BMC reports it, at ``[ipmi]min_command_interval``.

for each ``[conductor]sync_power_state_workers`` value given. With ``--drivers redfish`` the
same passes run over ``redfish`` nodes: ONE sushy-tools emulator process
(:class:`~ironic_lite.testing.redfish.RedfishEmulator`, fake driver, basic auth, plain http on
loopback) hosting N systems, each node one system; the ``redfish`` power interface reads each
system's ``PowerState`` over one cached connection (all systems share the BMC address and
credentials). Nothing is mocked. Prints a table;
``--json`` writes the figures. Every process started is stopped, also on errors.

Usage:  .venv/bin/python bench/bench_power_sync.py [--nodes 100,1000] [--workers 8,32]
            [--drivers ipmi,redfish] [--warm-passes 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import report  # noqa: E402
from ironic_lite.common import states  # noqa: E402
from ironic_lite.drivers.modules import ipmi_client  # noqa: E402
from ironic_lite.drivers.modules.redfish import utils as redfish_utils  # noqa: E402
from ironic_lite.testing import processes  # noqa: E402
from ironic_lite.testing.harness import Harness  # noqa: E402
from ironic_lite.testing.redfish import RedfishEmulator, fake_system  # noqa: E402
from ironic_lite.tools.fakebmc import parse_ports  # noqa: E402

USER, PASSWORD = 'admin', 'password'


class FakeBmcProcess:
    """``ironic-lite-fakebmc --count N`` as a subprocess; ``ports`` once it printed READY."""

    def __init__(self, count: int) -> None:
        self.proc = subprocess.Popen(
            [processes.console_script('ironic-lite-fakebmc'), '--count', str(count),
             '--user', USER, '--password', PASSWORD, '--power', 'off'],
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = self.proc.stdout.readline()          # bounded: the process exits on errors
        if not line.startswith('READY '):
            self.stop()
            raise RuntimeError(f'ironic-lite-fakebmc did not start: {line!r}')
        self.address, ports = line.split()[1:3]
        self.ports = parse_ports(ports)

    def stop(self) -> None:
        processes.terminate(self.proc, grace=10)

    def driver_infos(self) -> list[dict]:
        return [{'ipmi_address': self.address, 'ipmi_port': port, 'ipmi_username': USER,
                 'ipmi_password': PASSWORD} for port in self.ports]


class RedfishBmcs:
    """One sushy-tools emulator hosting ``count`` fake systems, all powered off."""

    def __init__(self, count: int, workdir: str) -> None:
        self.emulator = RedfishEmulator(
            os.path.join(workdir, f'redfish-{count}'), password=PASSWORD,
            systems=[fake_system(i) for i in range(count)]).start()

    def stop(self) -> None:
        self.emulator.stop()

    def driver_infos(self) -> list[dict]:
        return [self.emulator.driver_info(system) for system in self.emulator.systems]


POWER_INTERFACE = {'ipmi': 'ipmitool', 'redfish': 'redfish'}


async def _timed_pass(h: Harness) -> tuple[float, object]:
    # In production passes are [conductor]sync_power_state_interval (60 s) apart; back to back,
    # each BMC's first command would wait out [ipmi]min_command_interval since the last pass.
    await asyncio.sleep(h.env.conf.ipmi.min_command_interval + 0.05)
    start = time.perf_counter()
    result = await h.service.power_sync.run_once()
    return time.perf_counter() - start, result


async def _check(h: Harness, ok: bool, result: object) -> None:
    """Fail with the pass's counts and a few of the failed nodes' errors."""
    if not ok:
        nodes = await h.db.list_nodes()
        errors = sorted({n.last_error for n in nodes if n.last_error})[:3]
        raise AssertionError(f'{result}; errors: {errors}')


async def bench_one(driver: str, n: int, workers: int, warm_passes: int, workdir: str) -> dict:
    bmcs = FakeBmcProcess(n) if driver == 'ipmi' else RedfishBmcs(n, workdir)
    iface = POWER_INTERFACE[driver]
    h = None
    try:
        h = await Harness(f'sqlite:///{workdir}/bench-{driver}-{n}-{workers}.sqlite', **{
            'enabled_hardware_types': [driver],
            'enabled_power_interfaces': [iface],
            'enabled_management_interfaces': [iface],
            'enabled_boot_interfaces': ['fake'],
            'enabled_deploy_interfaces': ['fake'],
            'conductor.sync_power_state_interval': 0,       # passes run by this script only
            'conductor.sync_power_state_workers': workers,
        }).start()
        nodes = []
        for driver_info in bmcs.driver_infos():
            nodes.append(await h.db.create_node({
                'driver': driver, 'power_interface': iface,
                'management_interface': iface, 'boot_interface': 'fake',
                'deploy_interface': 'fake', 'provision_state': states.ACTIVE,
                'power_state': states.POWER_OFF, 'driver_info': driver_info}))
        cold, result = await _timed_pass(h)
        await _check(h, result.in_sync == n, result)
        warm = []
        for _ in range(warm_passes):
            elapsed, result = await _timed_pass(h)
            await _check(h, result.in_sync == n, result)
            warm.append(elapsed)
        drifted = nodes[::10]
        for node in drifted:
            await h.db.update_node(node.id, {'power_state': states.POWER_ON})
        drift, result = await _timed_pass(h)
        await _check(h, result.repaired == len(drifted) and result.failed == 0, result)
        return {'driver': driver, 'nodes': n, 'workers': workers, 'cold_s': cold, 'warm_s': warm,
                'drift_s': drift, 'repaired': len(drifted)}
    finally:
        if h is not None:
            await h.stop()
        ipmi_client.shutdown()     # sessions of this fleet must not leak into the next run
        redfish_utils.shutdown()
        bmcs.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', default='100,1000', help='node counts, comma separated')
    parser.add_argument('--workers', default='8,32',
                        help='[conductor]sync_power_state_workers values, comma separated')
    parser.add_argument('--drivers', default='ipmi',
                        help='hardware types, comma separated: ipmi, redfish')
    parser.add_argument('--warm-passes', type=int, default=3)
    parser.add_argument('--json', help='write the figures to this file')
    args = parser.parse_args()
    # The drift pass logs one warning per repaired node: keep the output to the figures.
    logging.getLogger('ironic_lite').setLevel(logging.ERROR)
    results = []
    with tempfile.TemporaryDirectory(prefix='bench_power_sync_') as workdir:
        for driver in args.drivers.split(','):
            for n in (int(x) for x in args.nodes.split(',')):
                for workers in (int(x) for x in args.workers.split(',')):
                    r = asyncio.run(bench_one(driver, n, workers, args.warm_passes, workdir))
                    results.append(r)
                    warm = min(r['warm_s'])
                    print(f'{driver:8s} nodes={n:5d} workers={workers:3d}  '
                          f'cold={r["cold_s"]:.2f}s  '
                          f'warm={warm:.2f}s (best of {len(r["warm_s"])}, '
                          f'{n / warm:.0f} nodes/s)  drift={r["drift_s"]:.2f}s '
                          f'({r["repaired"]} powered back on)', flush=True)
    report.print_markdown_table(
        ('driver', 'nodes', 'sync workers', 'cold pass (logins)', 'warm pass', 'nodes/s (warm)',
         'pass with 10 % drift repaired'),
        [(r['driver'], r['nodes'], r['workers'], f'{r["cold_s"]:.2f} s',
          f'{min(r["warm_s"]):.2f} s',
          f'{r["nodes"] / min(r["warm_s"]):.0f}', f'{r["drift_s"]:.2f} s ({r["repaired"]} nodes)')
         for r in results])
    report.write_json(args.json, results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
