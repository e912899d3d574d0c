#!/usr/bin/env python3
"""Benchmark of GET /v1/nodes with filters, detail and the computed fields (API 1.68).

An all-in-one ironic_lite (harness: API + conductor in this process, SQLite file) with N
fake-hardware nodes inserted straight into the database (a tenth owned by ``proj-a``, a
third with a description containing ``gpu``, half in a conductor group nobody serves). Each
query runs ``--rounds`` times after one warm-up; the median and the slowest latency and the
number of nodes returned are printed. Shows that filters are SQL (an ``owner=`` page costs
about the same as a plain page whatever N is) and that the computed fields (``conductor``,
``allocation_uuid``, ``chassis_uuid``) cost one query per page, not one per node.

Usage:  .venv/bin/python bench/bench_node_list.py [--nodes 1000 5000] [--rounds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
warnings.filterwarnings('ignore', category=DeprecationWarning)

from ironic_lite.testing.harness import Harness  # noqa: E402

QUERIES = (
    ('list (default fields), limit 100', '/v1/nodes?limit=100'),
    ('detail, limit 100', '/v1/nodes/detail?limit=100'),
    ('detail, limit 1000', '/v1/nodes/detail?limit=1000'),
    ('owner=proj-a, limit 100', '/v1/nodes?owner=proj-a&limit=100'),
    ('description_contains=gpu, limit 100', '/v1/nodes?description_contains=gpu&limit=100'),
    ('provision_state=enroll&driver=..., limit 100',
     '/v1/nodes?provision_state=enroll&driver=fake-hardware&limit=100'),
    ('conductor=<host>, limit 100 (hash ring)', '/v1/nodes?conductor={host}&limit=100'),
    ('fields=uuid,conductor,allocation_uuid, limit 1000',
     '/v1/nodes?fields=uuid,conductor,allocation_uuid&limit=1000'),
)


def _insert(h: Harness, count: int) -> None:
    """Nodes straight into the database: the benchmark is about reading them."""
    for i in range(count):
        h.db.sync.create_node({
            'driver': 'fake-hardware', 'provision_state': 'enroll', 'name': f'bench-{i}',
            'owner': 'proj-a' if i % 10 == 0 else 'proj-b',
            'description': f'node {i} gpu box' if i % 3 == 0 else f'node {i}',
            'conductor_group': 'nobody' if i % 2 else '',
            'driver_info': {'ipmi_password': 'secret'}})


async def _run(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness(f'sqlite:///{tmp}/bench.sqlite').start()
        try:
            await asyncio.to_thread(_insert, h, count)
            print(f'\n{count} nodes, {rounds} rounds per query (SQLite, all-in-one)')
            print(f'{"query":55} {"median ms":>10} {"max ms":>8} {"nodes":>6}')
            for label, path in QUERIES:
                path = path.format(host=h.host)
                times, returned = [], 0
                for i in range(rounds + 1):
                    start = time.perf_counter()
                    resp = await h.request('GET', path)
                    body = await resp.json()
                    elapsed = time.perf_counter() - start
                    assert resp.status == 200, body
                    returned = len(body['nodes'])
                    if i:  # the first round warms caches up
                        times.append(elapsed * 1000)
                print(f'{label:55} {statistics.median(times):10.1f} {max(times):8.1f} '
                      f'{returned:6d}')
        finally:
            await h.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, nargs='+', default=[1000, 5000])
    parser.add_argument('--rounds', type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for count in args.nodes:
        asyncio.run(_run(count, args.rounds))


if __name__ == '__main__':
    main()
