#!/usr/bin/env python3
"""20 concurrent deploys of one 256 MiB image: wall time and download count (issue 3).

Real parts only, all on loopback: a separate web server process (``python -m http.server``,
its access log counts the requests) serves a deploy kernel and a 256 MiB deploy ramdisk;
the all-in-one ``ironic-lite`` daemon (SQLite, in-process RPC) runs ``fake-hardware`` nodes
with the ``pxe`` boot interface and the ``fake`` deploy waiting for its callback
(``fake_deploy_wait``), so each deploy runs the real ``prepare_ramdisk``: the image goes through
the master TFTP image cache (HEAD to check the source, one shared GET, hard links into 20 node
folders, per-node config and MAC links), and the node waits for its ramdisk.

Rounds, each timed from the first ``PUT …/states/provision {"target": "active"}`` (all 20 sent
at once) until every node is in ``wait call-back`` (its deploy ramdisk ready to PXE-boot),
then all are undeployed:

* ``cold``    — empty cache: the image must be downloaded;
* ``warm``    — after undeploying all nodes: the master is current, nothing is downloaded;
* ``changed`` — after undeploying and rewriting the image on the server: one new download.

Prints the figures (time, GET and HEAD count of the image per round, hard link count of the
master); ``--json`` writes them. Every process started is stopped, also on errors.

Usage:  .venv/bin/python bench/bench_image_deploy.py [--nodes 20] [--size-mib 256] [--json f]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import report  # noqa: E402
from ironic_lite.common import image_cache  # noqa: E402
from ironic_lite.testing import processes, services  # noqa: E402

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
MiB = 1024 * 1024
_LOG_LINE = re.compile(r'"(GET|HEAD) (\S+) HTTP/[\d.]+" (\d+)')


class WebServer:
    """``python -m http.server`` on a free loopback port; counts requests from its log."""

    def __init__(self, directory: str, workdir: str) -> None:
        self.port = services.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log_path = os.path.join(workdir, 'http.log')
        self._log = open(self.log_path, 'w')  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'http.server', '--bind', '127.0.0.1', '--directory',
             directory, str(self.port)], stdout=self._log, stderr=self._log,
            start_new_session=True)
        processes.wait_for(self._answers, timeout=20, what='the web server')

    def _answers(self) -> bool:
        import socket
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def requests(self) -> collections.Counter:
        with open(self.log_path) as f:
            return collections.Counter((m.group(1), m.group(2))
                                       for m in _LOG_LINE.finditer(f.read()))

    def stop(self) -> None:
        processes.terminate(self.proc, grace=10)
        self._log.close()


def write_image(path: str, size_mib: int, seed: bytes) -> None:
    block = (seed * (MiB // len(seed) + 1))[:MiB - 8]
    with open(path + '.tmp', 'wb') as f:
        for i in range(size_mib):
            f.write(block + i.to_bytes(8, 'big'))
    os.replace(path + '.tmp', path)   # a new inode: the web server's mtime/size change


class Api:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url, self.session = url, session

    async def call(self, method: str, path: str, body=None, expect=(200,)):
        async with self.session.request(method, self.url + path, json=body,
                                        headers=HEADERS) as resp:
            text = await resp.text()
            if resp.status not in expect:
                raise RuntimeError(f'{method} {path}: {resp.status} {text}')
            return json.loads(text) if text else None

    async def states(self) -> dict[str, str]:
        body = await self.call('GET', '/v1/nodes?fields=uuid,provision_state,last_error'
                                      '&limit=1000')
        for node in body['nodes']:
            if node['provision_state'] in ('deploy failed', 'error', 'clean failed'):
                raise RuntimeError(f'node {node["uuid"]}: {node["last_error"]}')
        return {n['uuid']: n['provision_state'] for n in body['nodes']}

    async def wait_all(self, target: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set((await self.states()).values()) == {target}:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f'nodes did not all reach {target} in {timeout} s')

    async def move_all(self, uuids: list[str], target: str, end: str) -> float:
        start = time.perf_counter()
        await asyncio.gather(*(self.call('PUT', f'/v1/nodes/{u}/states/provision',
                                         {'target': target}, expect=(202,)) for u in uuids))
        await self.wait_all(end)
        return time.perf_counter() - start


async def run(args: argparse.Namespace, workdir: str) -> dict:
    images = os.path.join(workdir, 'images')
    os.makedirs(images)
    with open(os.path.join(images, 'deploy.kernel'), 'wb') as f:
        f.write(b'kernel' * 100_000)
    ramdisk = os.path.join(images, 'deploy.ramdisk')
    write_image(ramdisk, args.size_mib, b'first image ')
    web = WebServer(images, workdir)
    aio = None
    try:
        tftp = os.path.join(workdir, 'tftpboot')
        api_port = services.free_port()
        api_url = f'http://127.0.0.1:{api_port}'
        aio = processes.Daemon('ironic-lite', {
            'DEFAULT': {'host': 'bench-aio', 'state_path': workdir,
                        'enabled_boot_interfaces': ['pxe', 'fake']},
            'database': {'connection': f'sqlite:///{workdir}/ironic_lite.sqlite'},
            'api': {'host_ip': '127.0.0.1', 'port': api_port},
            'conductor': {'api_url': api_url, 'automated_clean': False},
            'pxe': {'tftp_root': tftp, 'tftp_master_path': os.path.join(tftp, 'master'),
                    'tftp_server': '127.0.0.1'},
            'dhcp': {'dhcp_provider': 'none'},
        }, ready_text='API ready', workdir=workdir, name='aio').start()
        href = f'{web.url}/deploy.ramdisk'
        async with aiohttp.ClientSession() as session:
            api = Api(api_url, session)
            uuids = []
            for i in range(args.nodes):
                node = await api.call('POST', '/v1/nodes', {
                    'driver': 'fake-hardware', 'boot_interface': 'pxe', 'name': f'bench-{i}',
                    'driver_info': {'deploy_kernel': f'{web.url}/deploy.kernel',
                                    'deploy_ramdisk': href, 'fake_deploy_wait': True}},
                    expect=(201,))
                await api.call('POST', '/v1/ports', {
                    'node_uuid': node['uuid'], 'address': f'52:54:00:be:00:{i:02x}'},
                    expect=(201,))
                uuids.append(node['uuid'])
            await api.move_all(uuids, 'manage', 'manageable')
            await api.move_all(uuids, 'provide', 'available')
            master = os.path.join(tftp, 'master', image_cache.master_key(href, False))
            rounds = {}
            for name in ('cold', 'warm', 'changed'):
                if name == 'changed':
                    write_image(ramdisk, args.size_mib, b'second image ')
                before = web.requests()
                elapsed = await api.move_all(uuids, 'active', 'wait call-back')
                after = web.requests()
                rounds[name] = {
                    'seconds': elapsed,
                    'gets': after[('GET', '/deploy.ramdisk')] - before[('GET', '/deploy.ramdisk')],
                    'heads': after[('HEAD', '/deploy.ramdisk')]
                    - before[('HEAD', '/deploy.ramdisk')],
                    'master_links': os.stat(master).st_nlink,
                }
                print(f'{name:8s} {args.nodes} deploys of one {args.size_mib} MiB image: '
                      f'{elapsed:6.2f} s, image GETs {rounds[name]["gets"]}, HEADs '
                      f'{rounds[name]["heads"]}, master hard links '
                      f'{rounds[name]["master_links"]}', flush=True)
                await api.move_all(uuids, 'deleted', 'available')
            return {'nodes': args.nodes, 'size_mib': args.size_mib, 'rounds': rounds}
    except Exception:
        if aio is not None:
            print(f'--- ironic-lite log:\n{aio.log_tail()}', file=sys.stderr)
        raise
    finally:
        if aio is not None:
            aio.stop()
        web.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=20)
    parser.add_argument('--size-mib', type=int, default=256)
    parser.add_argument('--json', help='write the figures to this file')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='bench_image_deploy_') as workdir:
        result = asyncio.run(run(args, workdir))
    report.print_markdown_table(
        ('round', 'wall time', 'image GETs', 'image HEADs', 'master hard links'),
        [(name, f'{r["seconds"]:.2f} s', r['gets'], r['heads'], r['master_links'])
         for name, r in result['rounds'].items()])
    report.write_json(args.json, result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
