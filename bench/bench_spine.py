#!/usr/bin/env python3
"""Benchmark of the ironic_lite spine (issue 2, item 14), all-in-one and split over RabbitMQ.

For each mode the script starts ironic_lite itself (fresh SQLite file; in split mode a fresh
RabbitMQ vhost on 127.0.0.1:5672 and ``ironic-lite-dbsync upgrade`` first), then over HTTP:

1. enrolls N fake-hardware nodes, one request after the other (creates/s);
2. ``manage`` and ``provide`` them all (8 concurrent clients) and waits until all are available;
3. deploys them all (``PUT states/provision {"target": "active"}``, 8 concurrent clients):
   the time to have all deploy requests accepted (202), deploy requests/s, and the time until
   every node is ``active``;
4. ``GET /v1/nodes/detail`` latency, and ``GET /v1/nodes/{uuid}`` requests/s with 8 concurrent
   clients for a bounded duration;
5. RSS (and PSS when /proc/<pid>/smaps_rollup is readable) of each server process: idle before
   the benchmark, after the deploys and at the end.

It prints a table with the upstream Ironic 39 figures measured on the same machine for
reference (or, with ``--peer-json``, against a peer run of ``bench_ironic.py`` made in the same
time window), and optionally writes everything to ``--json``.

The servers and their memory are in ``spine_processes.py``, the table in ``spine_report.py``.
Only loopback is used. Every loop is bounded in count and time. Every process the script starts
is stopped (SIGTERM, then SIGKILL) and its vhost deleted, also on errors and Ctrl-C.

Usage:  .venv/bin/python bench/bench_spine.py [--mode aio|split|both] [--nodes 200]
            [--concurrency 8] [--get-seconds 10] [--json out.json] [--peer-json peer.json]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.spine_processes import Cluster, calib, fmt_mem, memory  # noqa: E402
from bench.spine_report import UPSTREAM, peer_figures, report  # noqa: E402

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'Content-Type': 'application/json',
           'Accept': 'application/json'}
MAX_WAIT = 600.0        # seconds: cap on any wait for nodes to reach a state
REQUEST_TIMEOUT = 60.0  # seconds: cap on one HTTP request


# ------------------------------------------------------------------------------ helpers
def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1)))))]


def lat_summary(seconds):
    ms = [v * 1000.0 for v in seconds]
    if not ms:
        return {}
    return {'n': len(ms), 'mean_ms': round(statistics.mean(ms), 2),
            'p50_ms': round(pct(ms, 50), 2), 'p95_ms': round(pct(ms, 95), 2),
            'p99_ms': round(pct(ms, 99), 2), 'max_ms': round(max(ms), 2)}


# ------------------------------------------------------------------------------ client
class Http:
    def __init__(self, url, concurrency):
        self.url = url
        self.errors = collections.Counter()
        self.error_samples = []
        self.session = aiohttp.ClientSession(
            headers=HEADERS, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=concurrency * 2, force_close=False))

    async def close(self):
        await self.session.close()

    async def req(self, method, path, body=None, expect=(200,)):
        t0 = time.perf_counter()
        data = None if body is None else json.dumps(body)
        async with self.session.request(method, self.url + path, data=data) as r:
            payload = await r.read()
            status = r.status
        dt = time.perf_counter() - t0
        if status not in expect:
            key = f'{method} {path.split("?")[0].rsplit("/", 1)[0]}/... -> {status}'
            self.errors[key] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append({'request': f'{method} {path}', 'body': body,
                                           'status': status,
                                           'response': payload[:600].decode(errors='replace')})
        return status, payload, dt


async def run_concurrent(coro_fn, items, concurrency):
    """Run coro_fn(item) for all items with ``concurrency`` workers; returns wall seconds."""
    queue = collections.deque(items)

    async def worker():
        while queue:
            await coro_fn(queue.popleft())

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0


async def wait_all(http, uuids, target, fail_states=(), poll=0.2, max_wait=MAX_WAIT):
    want = set(uuids)
    t0 = time.perf_counter()
    polls = 0
    while True:
        polls += 1
        status, payload, _ = await http.req(
            'GET', '/v1/nodes?fields=uuid,provision_state&limit=1000')
        counts = collections.Counter()
        if status == 200:
            for n in json.loads(payload)['nodes']:
                if n['uuid'] in want:
                    counts[n['provision_state']] += 1
        done = counts.get(target, 0)
        failed = sum(counts.get(s, 0) for s in fail_states)
        if done == len(want) or (failed and done + failed == len(want)):
            return {'elapsed_s': round(time.perf_counter() - t0, 3), 'polls': polls,
                    'counts': dict(counts), 'timeout': False}
        if time.perf_counter() - t0 > max_wait:
            return {'elapsed_s': round(time.perf_counter() - t0, 3), 'polls': polls,
                    'counts': dict(counts), 'timeout': True}
        await asyncio.sleep(poll)


async def provision(http, uuids, target, concurrency):
    lat, codes = [], collections.Counter()

    async def one(u):
        status, _, dt = await http.req('PUT', f'/v1/nodes/{u}/states/provision',
                                       {'target': target}, expect=(202,))
        lat.append(dt)
        codes[status] += 1

    wall = await run_concurrent(one, uuids, concurrency)
    return {'accept_s': round(wall, 3), 'req_per_s': round(len(uuids) / wall, 1),
            'codes': dict(codes), 'latency': lat_summary(lat)}


# ------------------------------------------------------------------------------ phases
async def bench_cluster(cluster, args):
    R = {'mode': cluster.mode, 'nodes': args.nodes, 'concurrency': args.concurrency,
         'start_s': cluster.start_s, 'url': cluster.url}
    http = Http(cluster.url, args.concurrency)
    try:
        status, payload, _ = await http.req('GET', '/v1')
        assert status == 200, payload
        await asyncio.sleep(args.idle)
        R['mem_idle_before'] = memory(cluster.daemons)
        print(f'  [{cluster.mode}] idle-before: {fmt_mem(R["mem_idle_before"])}', flush=True)

        # 1. sequential creates
        uuids, lat, codes = [], [], collections.Counter()
        t0 = time.perf_counter()
        for i in range(args.nodes):
            status, payload, dt = await http.req('POST', '/v1/nodes', {
                'driver': 'fake-hardware', 'name': f'bench-{i:04d}',
                'properties': {'cpus': 8, 'memory_mb': 16384, 'local_gb': 100,
                               'cpu_arch': 'x86_64'},
                'driver_info': {}}, expect=(201,))
            lat.append(dt)
            codes[status] += 1
            if status == 201:
                uuids.append(json.loads(payload)['uuid'])
        wall = time.perf_counter() - t0
        R['create'] = {'total_s': round(wall, 3), 'per_s': round(args.nodes / wall, 1),
                       'codes': dict(codes), 'latency': lat_summary(lat)}
        print(f'  [{cluster.mode}] create: {args.nodes} in {wall:.2f} s = '
              f'{R["create"]["per_s"]}/s codes={dict(codes)} '
              f'p50 {R["create"]["latency"]["p50_ms"]} ms', flush=True)
        cluster.check_alive()
        if not uuids:
            raise RuntimeError('no node was created')

        # 2. manage + provide
        t_all = time.perf_counter()
        for target, state, fails in (('manage', 'manageable', ()),
                                     ('provide', 'available', ('clean failed',))):
            p = await provision(http, uuids, target, args.concurrency)
            w = await wait_all(http, uuids, state, fails)
            p['all_done_s'] = round(p['accept_s'] + w['elapsed_s'], 3)
            p['wait'] = w
            R[target] = p
            print(f'  [{cluster.mode}] {target}: accepted in {p["accept_s"]} s '
                  f'({p["req_per_s"]}/s) codes={p["codes"]}, all {state} after '
                  f'{p["all_done_s"]} s {w["counts"]}{" TIMEOUT" if w["timeout"] else ""}',
                  flush=True)
            cluster.check_alive()

        # 3. deploy
        t0 = time.perf_counter()
        p = await provision(http, uuids, 'active', args.concurrency)
        w = await wait_all(http, uuids, 'active', ('deploy failed',))
        p['until_all_active_s'] = round(time.perf_counter() - t0, 3)
        p['wait'] = w
        R['deploy'] = p
        R['enroll_to_active_s'] = round(time.perf_counter() - t_all, 3)
        print(f'  [{cluster.mode}] deploy: {len(uuids)} accepted in {p["accept_s"]} s '
              f'({p["req_per_s"]}/s) codes={p["codes"]} p50 {p["latency"]["p50_ms"]} ms '
              f'p95 {p["latency"]["p95_ms"]} ms; all active after {p["until_all_active_s"]} s '
              f'{w["counts"]}{" TIMEOUT" if w["timeout"] else ""}', flush=True)
        cluster.check_alive()
        R['mem_after_deploy'] = memory(cluster.daemons)
        print(f'  [{cluster.mode}] after-deploy: {fmt_mem(R["mem_after_deploy"])}', flush=True)

        # 4a. GET /v1/nodes/detail latency (sequential)
        lat, size = [], 0
        for _ in range(args.detail_reps):
            status, payload, dt = await http.req('GET', '/v1/nodes/detail?limit=1000')
            lat.append(dt)
            size = len(payload)
        R['detail'] = {'bytes': size, 'nodes': len(json.loads(payload).get('nodes', [])),
                       'latency': lat_summary(lat)}
        lat = []
        for _ in range(args.detail_reps):
            _, _, dt = await http.req('GET', '/v1/nodes?limit=1000')
            lat.append(dt)
        R['list'] = {'latency': lat_summary(lat)}
        print(f'  [{cluster.mode}] GET /v1/nodes/detail ({R["detail"]["nodes"]} nodes, {size} B)'
              f' p50 {R["detail"]["latency"]["p50_ms"]} ms p95 '
              f'{R["detail"]["latency"]["p95_ms"]} ms; GET /v1/nodes p50 '
              f'{R["list"]["latency"]["p50_ms"]} ms', flush=True)

        # 4b. GET /v1/nodes/{uuid} with N concurrent clients, bounded duration
        stop_at = time.perf_counter() + args.get_seconds
        lat, codes = [], collections.Counter()

        async def getter(seed):
            rnd = random.Random(seed)
            n = 0
            while time.perf_counter() < stop_at and n < 1_000_000:
                status, _, dt = await http.req('GET', f'/v1/nodes/{rnd.choice(uuids)}')
                lat.append(dt)
                codes[status] += 1
                n += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(getter(i) for i in range(args.concurrency)))
        wall = time.perf_counter() - t0
        R['get_node'] = {'clients': args.concurrency, 'seconds': round(wall, 2),
                         'requests': len(lat), 'rps': round(len(lat) / wall, 1),
                         'codes': dict(codes), 'latency': lat_summary(lat)}
        print(f'  [{cluster.mode}] GET /v1/nodes/{{uuid}} x{args.concurrency}: '
              f'{R["get_node"]["rps"]} req/s codes={dict(codes)} '
              f'p50 {R["get_node"]["latency"]["p50_ms"]} ms '
              f'p95 {R["get_node"]["latency"]["p95_ms"]} ms', flush=True)
        cluster.check_alive()
        R['mem_after_benchmark'] = memory(cluster.daemons)
        print(f'  [{cluster.mode}] after-benchmark: {fmt_mem(R["mem_after_benchmark"])}',
              flush=True)
    finally:
        R['http_errors'] = dict(http.errors)
        R['http_error_samples'] = http.error_samples
        await http.close()
    return R


# ------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--mode', choices=['aio', 'split', 'both'], default='both')
    ap.add_argument('--nodes', type=int, default=200)
    ap.add_argument('--concurrency', type=int, default=8)
    ap.add_argument('--get-seconds', type=float, default=10.0)
    ap.add_argument('--detail-reps', type=int, default=20)
    ap.add_argument('--idle', type=float, default=5.0,
                    help='seconds to wait after start before the idle memory sample')
    ap.add_argument('--json', default='')
    ap.add_argument('--peer-json', default='',
                    help='bench_ironic.py JSON of an upstream run made in the same window')
    ap.add_argument('--keep-workdir', action='store_true')
    ap.add_argument('--set', action='append', default=[], metavar='SECTION.KEY=VALUE',
                    help='extra config option for every process, e.g. '
                         'conductor.workers_pool_size=300 (repeatable)')
    args = ap.parse_args()
    extra_conf = {}
    for item in args.set:
        key, sep, value = item.partition('=')
        section, dot, name = key.partition('.')
        if not sep or not dot:
            ap.error(f'--set wants SECTION.KEY=VALUE, not {item!r}')
        extra_conf.setdefault(section, {})[name] = value
    if not 1 <= args.nodes <= 5000:
        ap.error('--nodes must be between 1 and 5000')
    if not 1 <= args.concurrency <= 256:
        ap.error('--concurrency must be between 1 and 256')
    args.get_seconds = min(max(args.get_seconds, 1.0), 120.0)
    args.detail_reps = min(max(args.detail_reps, 1), 200)

    modes = ['aio', 'split'] if args.mode == 'both' else [args.mode]
    out = {'started': time.strftime('%Y-%m-%dT%H:%M:%S'), 'args': vars(args),
           'loadavg_start': open('/proc/loadavg').read().strip(),
           'calib_start_s': calib(), 'results': [], 'upstream': UPSTREAM}
    print(f'calib (5M-step python loop): {out["calib_start_s"]} s; '
          f'loadavg {out["loadavg_start"]}', flush=True)
    failures = 0
    for mode in modes:
        workdir = tempfile.mkdtemp(prefix=f'ironic_lite_bench_{mode}_')
        cluster = Cluster(mode, workdir, extra_conf)
        print(f'== {mode}: starting ironic_lite in {workdir}', flush=True)
        try:
            cluster.start()
            print(f'  [{mode}] up after {cluster.start_s} s on {cluster.url} '
                  f'(pids {", ".join(f"{n}={d.pid}" for n, d in cluster.daemons.items())})',
                  flush=True)
            res = asyncio.run(bench_cluster(cluster, args))
            out['results'].append(res)
        except Exception as e:  # noqa: BLE001 - report, stop, continue with the next mode
            failures += 1
            print(f'  [{mode}] FAILED: {e!r}\n{cluster.logs()}', flush=True)
            out.setdefault('failures', []).append({'mode': mode, 'error': repr(e),
                                                   'logs': cluster.logs()})
        finally:
            codes = cluster.stop()
            print(f'  [{mode}] stopped: exit codes {codes}', flush=True)
            if out['results'] and out['results'][-1]['mode'] == mode:
                out['results'][-1]['exit_codes'] = codes
            if not args.keep_workdir and not failures:
                shutil.rmtree(workdir, ignore_errors=True)
    out['calib_end_s'] = calib()
    out['loadavg_end'] = open('/proc/loadavg').read().strip()
    print(f'calib at end: {out["calib_end_s"]} s; loadavg {out["loadavg_end"]}')
    peer = peer_figures(args.peer_json) if args.peer_json else None
    if peer:
        out['peer'] = peer
    if out['results']:
        report(out['results'], peer)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
        print('wrote', args.json)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
