#!/usr/bin/env python3
"""Small load generator against a running ironic_lite (or Ironic) API, for profiling one phase.

    load.py --url http://127.0.0.1:6385 create --nodes 200
    load.py --url ... get --seconds 10 --concurrency 8      # GET /v1/nodes/{uuid}
    load.py --url ... detail --reps 20                      # GET /v1/nodes/detail
    load.py --url ... provision --target manage|provide|active --concurrency 8

Attach a profiler to the server meanwhile, e.g.
    py-spy record -p PID -d 10 -f raw -o out.txt
Loopback only; every loop bounded.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sys
import time

import aiohttp

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'Content-Type': 'application/json'}


async def main(a) -> int:
    assert a.url.startswith(('http://127.', 'http://localhost')), 'loopback only'
    async with aiohttp.ClientSession(headers=HEADERS) as s:
        async def req(method, path, body=None):
            async with s.request(method, a.url + path,
                                 data=None if body is None else json.dumps(body)) as r:
                return r.status, await r.read()

        codes = collections.Counter()
        t0 = time.perf_counter()
        n = 0
        if a.cmd == 'create':
            for i in range(a.nodes):
                st, _ = await req('POST', '/v1/nodes', {'driver': 'fake-hardware',
                                                        'name': f'load-{time.time_ns()}-{i}'})
                codes[st] += 1
                n += 1
        else:
            st, body = await req('GET', '/v1/nodes?fields=uuid,provision_state&limit=1000')
            nodes = json.loads(body)['nodes']
            uuids = [x['uuid'] for x in nodes]
            if a.cmd == 'detail':
                for _ in range(a.reps):
                    st, _ = await req('GET', '/v1/nodes/detail?limit=1000')
                    codes[st] += 1
                    n += 1
            elif a.cmd == 'get':
                stop = time.perf_counter() + a.seconds

                async def getter(seed):
                    nonlocal n
                    rnd = random.Random(seed)
                    while time.perf_counter() < stop:
                        st, _ = await req('GET', f'/v1/nodes/{rnd.choice(uuids)}')
                        codes[st] += 1
                        n += 1
                await asyncio.gather(*(getter(i) for i in range(a.concurrency)))
            elif a.cmd == 'provision':
                queue = collections.deque(uuids)

                async def worker():
                    nonlocal n
                    while queue:
                        st, _ = await req('PUT', f'/v1/nodes/{queue.popleft()}/states/provision',
                                          {'target': a.target})
                        codes[st] += 1
                        n += 1
                await asyncio.gather(*(worker() for _ in range(a.concurrency)))
        el = time.perf_counter() - t0
        print(f'{a.cmd}: {n} requests in {el:.2f} s = {n / el:.1f}/s codes={dict(codes)}')
    return 0


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--url', required=True)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('create')
    p.add_argument('--nodes', type=int, default=200)
    p = sub.add_parser('get')
    p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--concurrency', type=int, default=8)
    p = sub.add_parser('detail')
    p.add_argument('--reps', type=int, default=20)
    p = sub.add_parser('provision')
    p.add_argument('--target', required=True)
    p.add_argument('--concurrency', type=int, default=8)
    a = ap.parse_args()
    a.seconds = min(getattr(a, 'seconds', 0), 120)
    sys.exit(asyncio.run(main(a)))
