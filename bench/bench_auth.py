#!/usr/bin/env python3
"""Cost of authentication: GET /v1/nodes/{uuid} requests/s of a real all-in-one
``ironic-lite`` under each auth strategy, with C concurrent clients for D seconds each.

* ``noauth``
* ``http_basic`` with a bcrypt cost-12 entry (``bcrypt.gensalt()``'s default; ``htpasswd -B``
  uses 5), as shipped: a verified password is remembered, so bcrypt runs once per client.
* what ``http_basic`` would give with a bcrypt check on every request (as upstream Ironic
  does), computed from the measured time of one check and the 2 CPUs of this machine.

    .venv/bin/python bench/bench_auth.py [--clients 8] [--seconds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
import time

import aiohttp
import bcrypt
import requests

from ironic_lite.testing import processes, services
from ironic_lite.testing.cluster import API_READY

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


async def _load(url: str, headers: dict, clients: int, seconds: float) -> tuple[int, float]:
    done = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(headers=headers) as session:
        async def one():
            nonlocal done
            while time.monotonic() < deadline:
                async with session.get(url) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                done += 1
        start = time.monotonic()
        await asyncio.gather(*(one() for _ in range(clients)))
        return done, time.monotonic() - start


def run(strategy: str, clients: int, seconds: float) -> float:
    workdir = tempfile.mkdtemp(prefix='bench_auth_')
    headers = dict(HEADERS)
    default = {'host': 'bench-auth', 'state_path': workdir, 'auth_strategy': strategy}
    if strategy == 'http_basic':
        path = f'{workdir}/htpasswd'
        with open(path, 'w') as f:
            f.write('admin:' + bcrypt.hashpw(b'pw', bcrypt.gensalt()).decode() + '\n')
        default['http_basic_auth_user_file'] = path
        headers['Authorization'] = 'Basic ' + base64.b64encode(b'admin:pw').decode()
    port = services.free_port()
    daemon = processes.Daemon('ironic-lite', {
        'DEFAULT': default, 'api': {'host_ip': '127.0.0.1', 'port': port}},
        ready_text=API_READY, workdir=workdir)
    daemon.start()
    try:
        base = f'http://127.0.0.1:{port}'
        node = requests.post(f'{base}/v1/nodes', headers=headers, timeout=30,
                             json={'driver': 'fake-hardware'}).json()['uuid']
        count, elapsed = asyncio.run(_load(f'{base}/v1/nodes/{node}', headers, clients,
                                           seconds))
        return count / elapsed
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--seconds', type=float, default=5)
    args = parser.parse_args()
    hashed = bcrypt.hashpw(b'pw', bcrypt.gensalt())
    start = time.perf_counter()
    for _ in range(3):
        bcrypt.checkpw(b'pw', hashed)
    check_ms = (time.perf_counter() - start) / 3 * 1000
    results = {s: run(s, args.clients, args.seconds) for s in ('noauth', 'http_basic')}
    print(f'GET /v1/nodes/<uuid>, all-in-one, {args.clients} clients, {args.seconds:g} s each')
    print(f'{"strategy":<42} {"req/s":>8}')
    print(f'{"noauth":<42} {results["noauth"]:>8.0f}')
    print(f'{"http_basic (cost 12, password remembered)":<42} {results["http_basic"]:>8.0f}')
    print(f'{"http_basic (cost 12, bcrypt every request)":<42} '
          f'{min(results["noauth"], 2 * 1000 / check_ms):>8.0f}  '
          f'(one bcrypt check: {check_ms:.0f} ms, 2 threads at most)')


if __name__ == '__main__':
    main()
