#!/usr/bin/env python3
"""Benchmark of the agent (``direct``) deploy: nodes/minute for a fleet of simulated nodes.

Everything is real except the machines: an all-in-one ironic_lite (API on a loopback port,
conductor, SQLite file) in this process, ``ipmi`` nodes whose BMCs are one
:class:`~ironic_lite.tools.fakebmc.FakeBmcFleet` (UDP on loopback, its own thread), ``pxe``
boot writing into a temp dir, an HTTP server with the deploy kernel/ramdisk and the instance
image, and one :class:`~ironic_lite.tools.agent_sim.SimAgent` per node (its own command API
port; it looks the node up, heartbeats, downloads, verifies and writes the image into a disk
file, and its ``standby.power_off`` turns its fake BMC off).

For each fleet size N: enroll N nodes (manage, provide), then deploy them all at once
(``PUT …/states/provision active``) and time from the first request until every node is
``active``; every disk is compared with the image afterwards. Prints nodes/minute, the time
per phase and the image bytes written per second.

Usage:  .venv/bin/python bench/bench_agent_deploy.py [--nodes 20 100] [--image-mib 8]
            [--heartbeat 2] [--workers 100]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings

from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
warnings.filterwarnings('ignore', category=DeprecationWarning)

from ironic_lite.testing.harness import Harness  # noqa: E402
from ironic_lite.tools.agent_sim import SimAgent  # noqa: E402
from ironic_lite.tools.fakebmc import FakeBmcFleet  # noqa: E402


async def _serve(files: dict[str, bytes]) -> TestServer:
    async def handle(request: web.Request) -> web.StreamResponse:
        data = files.get(request.path)
        return web.Response(body=data) if data is not None else web.Response(status=404)
    app = web.Application()
    app.router.add_get('/{tail:.*}', handle)
    server = TestServer(app, host='127.0.0.1', port=0)
    await server.start_server()
    return server


async def _ok(resp, status: int = 200) -> dict:
    text = await resp.text()
    assert resp.status == status, (resp.status, text)
    return await resp.json() if text else {}


async def _wait_all(h, uuids: list[str], states: set[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        found = {n.uuid: n.provision_state for n in await h.db.list_nodes()
                 if n.uuid in uuids and n.reservation is None}
        if len(found) == len(uuids) and set(found.values()) <= states:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f'nodes not in {states} after {timeout} s: '
                               f'{sorted(set(found.values()))}')
        await asyncio.sleep(0.1)


async def run(n: int, image: bytes, heartbeat: float, workers: int, tmp: str) -> dict:
    files = {'/k': b'kernel' * 1000, '/r': b'ramdisk' * 1000, '/disk.raw': image}
    images = await _serve(files)
    checksum = hashlib.sha256(image).hexdigest()
    db = os.path.join(tmp, f'bench{n}.sqlite')
    h = await Harness(f'sqlite:///{db}', **{
        'enabled_hardware_types': ['ipmi'], 'enabled_boot_interfaces': ['pxe'],
        'enabled_deploy_interfaces': ['direct'], 'enabled_power_interfaces': ['ipmitool'],
        'enabled_management_interfaces': ['ipmitool'],
        'pxe.tftp_root': os.path.join(tmp, f'tftp{n}'),
        'pxe.tftp_master_path': os.path.join(tmp, f'tftp{n}', 'master_images'),
        'pxe.instance_master_path': os.path.join(tmp, f'master{n}'),
        'pxe.tftp_server': '192.0.2.10', 'conductor.api_url': 'http://127.0.0.1:6385',
        'deploy.http_root': os.path.join(tmp, f'http{n}'), 'deploy.http_url': 'http://x',
        'ipmi.min_command_interval': 0.05, 'conductor.workers_pool_size': workers,
        'conductor.node_locked_retry_interval': 0.05,
        'agent.post_deploy_get_power_state_retry_interval': 0.2,
    }).start()
    api_url = str(h.client.make_url('')).rstrip('/')
    agents: list[SimAgent] = []
    try:
        with FakeBmcFleet(ports=[0] * n) as fleet:
            uuids = []
            t0 = time.monotonic()
            for i, port in enumerate(fleet.ports):
                mac = f'52:54:01:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}'
                node = await _ok(await h.request('POST', '/v1/nodes', json={
                    'driver': 'ipmi', 'boot_interface': 'pxe', 'deploy_interface': 'direct',
                    'driver_info': {'ipmi_address': '127.0.0.1', 'ipmi_port': port,
                                    'ipmi_username': 'admin', 'ipmi_password': 'password',
                                    'deploy_kernel': str(images.make_url('/k')),
                                    'deploy_ramdisk': str(images.make_url('/r'))},
                    'instance_info': {'image_source': str(images.make_url('/disk.raw')),
                                      'image_checksum': checksum}}), 201)
                await _ok(await h.request('POST', '/v1/ports', json={
                    'node_uuid': node['uuid'], 'address': mac, 'pxe_enabled': True}), 201)
                uuids.append(node['uuid'])

                def power_off(agent, port=port):
                    fleet.set_state(port, power='off')
                agents.append(await SimAgent(
                    api_url, [mac], os.path.join(tmp, f'disk{n}-{i}'),
                    heartbeat_interval=heartbeat, lookup_interval=heartbeat,
                    on_power_off=power_off).start())
            async def provision(uuid: str, target: str) -> None:
                await _ok(await h.request('PUT', f'/v1/nodes/{uuid}/states/provision',
                                          json={'target': target}), 202)
            for verb, state in (('manage', 'manageable'), ('provide', 'available')):
                await asyncio.gather(*(provision(u, verb) for u in uuids))
                await _wait_all(h, uuids, {state}, 120)
            t_enrolled = time.monotonic() - t0
            t1 = time.monotonic()
            await asyncio.gather(*(provision(u, 'active') for u in uuids))
            t_accepted = time.monotonic() - t1
            final = await _wait_all(h, uuids, {'active', 'deploy failed'}, 600)
            t_deploy = time.monotonic() - t1
    finally:
        await asyncio.gather(*(a.stop() for a in agents), return_exceptions=True)
        await h.stop()
        await images.close()
    active = sum(1 for s in final.values() if s == 'active')
    identical = sum(1 for a in agents if os.path.exists(a.disk_path)
                    and open(a.disk_path, 'rb').read() == image)
    return {'nodes': n, 'active': active, 'identical_disks': identical,
            'writes': sum(a.images_written for a in agents),
            'enroll_manage_provide_s': t_enrolled, 'deploy_accepted_s': t_accepted,
            'deploy_s': t_deploy, 'nodes_per_min': 60 * active / t_deploy,
            'write_mib_s': active * len(image) / 2**20 / t_deploy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--nodes', type=int, nargs='+', default=[20, 100])
    parser.add_argument('--image-mib', type=int, default=8)
    parser.add_argument('--heartbeat', type=float, default=2.0,
                        help='agent heartbeat (and lookup) interval, seconds')
    parser.add_argument('--workers', type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    image = os.urandom(args.image_mib * 2**20)
    tmp = tempfile.mkdtemp(prefix='bench-agent-')
    try:
        print(f'direct deploy, {args.image_mib} MiB raw image, heartbeat every '
              f'{args.heartbeat} s, {os.cpu_count()} CPUs')
        print('nodes  active  identical  writes  enroll+provide(s)  accepted(s)  deploy(s)  '
              'nodes/min  MiB/s')
        for n in args.nodes:
            r = asyncio.run(run(n, image, args.heartbeat, args.workers, tmp))
            print(f"{r['nodes']:5d}  {r['active']:6d}  {r['identical_disks']:9d}  "
                  f"{r['writes']:6d}  {r['enroll_manage_provide_s']:17.1f}  "
                  f"{r['deploy_accepted_s']:11.2f}  {r['deploy_s']:9.1f}  "
                  f"{r['nodes_per_min']:9.1f}  {r['write_mib_s']:5.1f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
