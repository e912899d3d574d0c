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
import subprocess
import sys
import tempfile
import time

import aiohttp

from ironic_lite.conf.default import EMBEDDED_DRIVER_DEFAULTS
from ironic_lite.testing import processes, services

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'Content-Type': 'application/json',
           'Accept': 'application/json'}
API_READY = 'ironic_lite API ready on http://'
MAX_WAIT = 600.0        # seconds: cap on any wait for nodes to reach a state
REQUEST_TIMEOUT = 60.0  # seconds: cap on one HTTP request
START_TIMEOUT = 90.0    # seconds: cap on a daemon start

# Upstream OpenStack Ironic 39.0.0 on this machine (issue 2, item 14 and
# /work/shared/peer-ironic/results/SUMMARY.txt): fake-hardware, SQLite, 8 client threads.
UPSTREAM = {
    'create_per_s': (17.0, 27.0),
    'deploy_accept_s': (53.0, 77.0),            # 200 deploy requests accepted
    'deploy_req_per_s': (200 / 77.0, 200 / 53.0),  # ~2.6-3.8/s ("~3/s")
    'get_node_rps': (44.0, 100.0),
    'rss_aio_mib': (290.0, 345.0),
    'rss_split_mib': (520.0, 600.0),
}
TARGETS = {'create_per_s': 10, 'deploy_req_per_s': 10, 'get_node_rps': 5, 'rss': 1 / 3}


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


def calib():
    """CPU-speed probe, identical to bench_ironic.py's: a 5M-step pure-Python loop."""
    t = time.perf_counter()
    x = 0
    for i in range(5_000_000):
        x += i
    return round(time.perf_counter() - t, 3)


def proc_tree(root):
    parent = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    parent[int(d)] = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo and len(out) < 1000:
        p = todo.pop(0)
        if p in out or p not in parent:
            continue
        out.append(p)
        todo.extend(sorted(c for c, pp in parent.items() if pp == p))
    return out


def mem_of_pid(pid):
    d = {'pid': pid}
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(('VmRSS', 'VmHWM', 'Threads')):
                    k, v = line.split(':', 1)
                    d[k] = int(v.split()[0])
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
            d['cpu_s'] = round((int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK'), 2)
    except OSError as e:
        d['error'] = str(e)
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    d['Pss'] = int(line.split()[1])
    except OSError:
        pass
    return d


def memory(daemons):
    """{name: {rss_mib, pss_mib, hwm_mib, threads, cpu_s}} for each daemon (process tree)."""
    out = {}
    for name, daemon in daemons.items():
        procs = [mem_of_pid(p) for p in proc_tree(daemon.pid)]
        pss = [p['Pss'] for p in procs if 'Pss' in p]
        out[name] = {
            'pid': daemon.pid, 'processes': len(procs),
            'rss_mib': round(sum(p.get('VmRSS', 0) for p in procs) / 1024, 1),
            'hwm_mib': round(sum(p.get('VmHWM', 0) for p in procs) / 1024, 1),
            'pss_mib': round(sum(pss) / 1024, 1) if pss else None,
            'threads': sum(p.get('Threads', 0) for p in procs),
            'cpu_s': round(sum(p.get('cpu_s', 0) for p in procs), 2)}
    if len(out) > 1:
        vals = list(out.values())
        out['sum'] = {'rss_mib': round(sum(v['rss_mib'] for v in vals), 1),
                      'hwm_mib': round(sum(v['hwm_mib'] for v in vals), 1),
                      'pss_mib': (round(sum(v['pss_mib'] for v in vals), 1)
                                  if all(v['pss_mib'] is not None for v in vals) else None),
                      'threads': sum(v['threads'] for v in vals),
                      'cpu_s': round(sum(v['cpu_s'] for v in vals), 2)}
    return out


def fmt_mem(m):
    def one(v):
        pss = f", PSS {v['pss_mib']:.1f}" if v.get('pss_mib') is not None else ''
        return (f"RSS {v['rss_mib']:.1f} MiB{pss} (peak {v['hwm_mib']:.1f}), "
                f"{v['threads']} threads, cpu {v['cpu_s']:.1f} s")
    return '; '.join(f'{k}: {one(v)}' for k, v in m.items())


# ------------------------------------------------------------------------------ servers
class Cluster:
    """ironic_lite all-in-one, or API + conductor over a fresh RabbitMQ vhost."""

    def __init__(self, mode, workdir, extra_conf=None):
        self.mode = mode
        self.workdir = workdir
        self.port = services.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.db_url = f'sqlite:///{os.path.join(workdir, "ironic_lite.sqlite")}'
        self.extra = extra_conf or {}
        self.daemons = {}
        self._delete_vhost = None
        self.transport_url = None
        self.start_s = None

    def _config(self, host):
        conf = {'DEFAULT': {'host': host, 'state_path': self.workdir,
                            **EMBEDDED_DRIVER_DEFAULTS},
                'api': {'host_ip': '127.0.0.1', 'port': self.port},
                'database': {'connection': self.db_url}}
        if self.mode == 'aio':
            conf['DEFAULT']['rpc_transport'] = 'none'
        else:
            conf['DEFAULT']['rpc_transport'] = 'oslo'
            conf['DEFAULT']['transport_url'] = self.transport_url
        for section, options in self.extra.items():
            conf.setdefault(section, {}).update(options)
        return conf

    def start(self):
        t0 = time.perf_counter()
        if self.mode == 'aio':
            d = processes.Daemon('ironic-lite', self._config('bench-aio'), API_READY,
                                 workdir=self.workdir, name='aio')
            self.daemons['aio'] = d
            d.start(START_TIMEOUT)
        else:
            if not services.rabbit_available():
                raise RuntimeError('split mode needs RabbitMQ on 127.0.0.1:5672 and rabbitmqctl')
            self.transport_url, self._delete_vhost = services.fresh_rabbit_vhost()
            path = processes.write_config(os.path.join(self.workdir, 'dbsync.conf'),
                                          self._config('bench-dbsync'))
            subprocess.run([processes.console_script('ironic-lite-dbsync'), '--config-file',
                            path, 'upgrade'], check=True, capture_output=True, text=True,
                           timeout=120)
            cond = processes.Daemon('ironic-lite-conductor', self._config('bench-conductor'),
                                    'ironic_lite conductor bench-conductor ready',
                                    workdir=self.workdir, name='conductor')
            self.daemons['conductor'] = cond
            cond.start(START_TIMEOUT)
            api = processes.Daemon('ironic-lite-api', self._config('bench-api'), API_READY,
                                   workdir=self.workdir, name='api')
            self.daemons['api'] = api
            api.start(START_TIMEOUT)
            self.daemons = {'api': api, 'conductor': cond}
        self.start_s = round(time.perf_counter() - t0, 2)
        return self

    def check_alive(self):
        dead = [n for n, d in self.daemons.items() if d.proc and d.proc.poll() is not None]
        if dead:
            raise RuntimeError(f'process(es) exited: {dead}\n{self.logs()}')

    def logs(self, n=40):
        return '\n'.join(f'--- {name} ({d.log_path})\n{d.log_tail(n)}'
                         for name, d in self.daemons.items())

    def stop(self):
        codes = {}
        for name in ('api', 'aio', 'conductor'):
            d = self.daemons.get(name)
            if d is not None:
                try:
                    codes[name] = d.stop(grace=30)
                except Exception as e:  # noqa: BLE001 - keep stopping the others
                    codes[name] = repr(e)
        if self._delete_vhost is not None:
            self._delete_vhost()
            self._delete_vhost = None
        return codes


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


# ------------------------------------------------------------------------------ report
def peer_figures(path):
    """Reference figures from a bench_ironic.py JSON (a peer run in the same time window)."""
    with open(path) as f:
        p = json.load(f)
    mem = {m['label']: m for m in p.get('memory', [])}
    out = {'source': path}
    if 'a_create_sequential' in p:
        out['create_per_s'] = p['a_create_sequential']['req_per_s']
    if 'b_deploy' in p:
        out['deploy_accept_s'] = p['b_deploy']['fire_s']
        out['deploy_req_per_s'] = round(args_nodes(p) / p['b_deploy']['fire_s'], 2)
        out['deploy_all_active_s'] = p['b_deploy']['total_until_all_done_s']
    if 'c_rps' in p:
        out['get_node_rps'] = p['c_rps']['rps']
    if 'c_detail' in p:
        out['detail_p50_ms'] = p['c_detail']['latency']['p50_ms']
    for label in ('idle-before', 'after-deploy'):
        if label in mem:
            out[f'rss_{label}'] = mem[label]['total_rss_mib']
    return out


def args_nodes(p):
    return p.get('nodes') or 200


def ratio(ours, theirs, lower_is_better=False):
    if not ours or not theirs:
        return '-'
    if isinstance(theirs, tuple):
        lo, hi = theirs
        if lower_is_better:
            return f'{lo / ours:.1f}-{hi / ours:.1f}x smaller'
        return f'{ours / hi:.1f}-{ours / lo:.1f}x'
    if lower_is_better:
        return f'{theirs / ours:.1f}x smaller'
    return f'{ours / theirs:.1f}x'


def rng(t, fmt='{:.0f}'):
    return f'{fmt.format(t[0])}-{fmt.format(t[1])}'


def report(results, peer=None):
    """One table: a column per mode, each cell 'value (ratio vs upstream)'; optionally a peer
    column (bench_ironic.py run against upstream in the same time window) with ratios."""
    nodes = results[0]['nodes']
    head = ['metric'] + [f'ironic_lite {r["mode"]} (x upstream)' for r in results] + [
        'upstream 39 (issue)']
    if peer is not None:
        head += ['peer run'] + [f'{r["mode"]} / peer' for r in results]
    rows = []

    def val(getter, r):
        try:
            return getter(r)
        except (KeyError, TypeError, StopIteration):
            return None

    def row(name, getter, up=None, lower=False, peer_key=None, up_split=None, fmt='{:.0f}'):
        cells = [name]
        for r in results:
            v = val(getter, r)
            ref = up_split if (up_split and r['mode'] == 'split') else up
            cell = '-' if v is None else str(v)
            if v is not None and ref and isinstance(v, (int, float)):
                cell += f' ({ratio(v, ref, lower)})'
            cells.append(cell)
        ref_txt = ''
        if up:
            ref_txt = rng(up, fmt) + (f' (split {rng(up_split, fmt)})' if up_split else '')
        cells.append(ref_txt or '-')
        if peer is not None:
            pv = peer.get(peer_key) if peer_key else None
            cells.append('-' if pv is None else str(pv))
            for r in results:
                v = val(getter, r)
                # the peer run is an all-in-one: its memory is no reference for split mode
                same_kind = not (r['mode'] == 'split' and peer_key and
                                 peer_key.startswith('rss'))
                cells.append(ratio(v, pv, lower)
                             if (pv and same_kind and isinstance(v, (int, float))) else '-')
        rows.append(cells)

    def mem(key, field):
        def get(r):
            m = r[key]
            return m['sum'][field] if 'sum' in m else next(iter(m.values()))[field]
        return get

    row('process start (s)', lambda r: r['start_s'])
    row('creates/s (sequential)', lambda r: r['create']['per_s'], UPSTREAM['create_per_s'],
        peer_key='create_per_s')
    row('create p50 latency (ms)', lambda r: r['create']['latency']['p50_ms'])
    row('manage+provide, all available (s)',
        lambda r: round(r['manage']['all_done_s'] + r['provide']['all_done_s'], 2))
    row(f'deploy: {nodes} requests accepted (s)', lambda r: r['deploy']['accept_s'],
        UPSTREAM['deploy_accept_s'] if nodes == 200 else None, lower=True,
        peer_key='deploy_accept_s' if nodes == 200 else None)
    row('deploy requests/s (8 clients)', lambda r: r['deploy']['req_per_s'],
        UPSTREAM['deploy_req_per_s'], peer_key='deploy_req_per_s', fmt='{:.1f}')
    row('deploy PUT p50/p95 (ms)', lambda r: f"{r['deploy']['latency']['p50_ms']}/"
        f"{r['deploy']['latency']['p95_ms']}")
    row('deploy: until all active (s)', lambda r: r['deploy']['until_all_active_s'],
        peer_key='deploy_all_active_s' if nodes == 200 else None, lower=True)
    row('GET /v1/nodes/detail p50 (ms)', lambda r: r['detail']['latency']['p50_ms'],
        peer_key='detail_p50_ms', lower=True)
    row('GET /v1/nodes/{uuid} req/s (8 clients)', lambda r: r['get_node']['rps'],
        UPSTREAM['get_node_rps'], peer_key='get_node_rps')
    row('GET node p50/p95 (ms)', lambda r: f"{r['get_node']['latency']['p50_ms']}/"
        f"{r['get_node']['latency']['p95_ms']}")
    for stage, key in (('idle-before', 'mem_idle_before'), ('after-deploy', 'mem_after_deploy'),
                       ('after-benchmark', 'mem_after_benchmark')):
        up = UPSTREAM['rss_aio_mib'] if stage != 'after-benchmark' else None
        row(f'RSS {stage}, all processes (MiB)', mem(key, 'rss_mib'), up, lower=True,
            up_split=UPSTREAM['rss_split_mib'] if up else None, peer_key=f'rss_{stage}')
        row(f'PSS {stage}, all processes (MiB)', mem(key, 'pss_mib'))
        if any('sum' in r.get(key, {}) for r in results):
            for proc in ('api', 'conductor'):
                row(f'  RSS {stage}: {proc} (MiB)',
                    lambda r, proc=proc, key=key: r[key][proc]['rss_mib'])
    row('server CPU used, whole run (s)', mem('mem_after_benchmark', 'cpu_s'))

    widths = [max(len(str(r_[i])) for r_ in rows + [head]) for i in range(len(head))]
    line = lambda cells: '  '.join(  # noqa: E731
        str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
    print()
    print(line(head))
    print(line(['-' * w for w in widths]))
    for r in rows:
        print(line(r))
    print(f'upstream: OpenStack Ironic 39.0.0 on this machine (fake-hardware, SQLite, 8 client '
          f'threads); targets >= {TARGETS["create_per_s"]}x creates and deploys, '
          f'>= {TARGETS["get_node_rps"]}x GET, <= 1/3 memory (RSS ratio >= 3x smaller).')
    if peer is not None:
        print(f'peer run: {peer["source"]}')
    for r in results:
        if r.get('http_errors'):
            print(f'[{r["mode"]}] HTTP errors: {r["http_errors"]}')
            for s in r.get('http_error_samples', [])[:5]:
                print('   ', json.dumps(s)[:800])


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
