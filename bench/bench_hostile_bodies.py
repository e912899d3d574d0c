"""GET latency while unauthenticated clients push huge heartbeat bodies (issue 9 §3).

Starts the all-in-one API in this process (the test harness, SQLite), measures GET
/v1/nodes/{uuid} latency alone, then again while ``--clients`` raw connections each push a
``--mib`` MiB body to ``POST /v1/heartbeat/{uuid}`` (as the issue's 59 MB bodies), and prints
p50/p99/max, the answers the pushers got and the process RSS. Loopback only; bounded.

    .venv/bin/python bench/bench_hostile_bodies.py [--clients 4] [--mib 59] [--gets 300]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time

from ironic_lite.testing.harness import Harness


async def _gets(h, uuid: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        resp = await h.request('GET', f'/v1/nodes/{uuid}')
        await resp.read()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def _push(host: str, port: int, uuid: str, size: int) -> str:
    """Send headers and as much of the body as the server takes; return its status line."""
    reader, writer = await asyncio.open_connection(host, port)
    # valid JSON, as a heartbeat: {"callback_url": …, "pad": "xxx…"}
    head, tail = b'{"callback_url": "http://10.0.0.1:9", "pad": "', b'"}'
    writer.write(f'POST /v1/heartbeat/{uuid} HTTP/1.1\r\nHost: x\r\n'
                 'X-OpenStack-Ironic-API-Version: 1.68\r\n'
                 f'Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n'.encode()
                 + head)
    chunk = b'x' * (1024 * 1024)
    sent = len(head)
    try:
        async with asyncio.timeout(60):
            while sent < size - len(tail):
                part = chunk[:size - len(tail) - sent]
                writer.write(part)
                await writer.drain()
                sent += len(part)
            writer.write(tail)
            await writer.drain()
            status = await reader.readline()
    except (ConnectionError, TimeoutError) as e:
        status = f'({type(e).__name__} after {sent // 2**20} MiB sent)'.encode()
    writer.close()
    return status.decode(errors='replace').strip()


def _fmt(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f'p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {max(times):.1f} ms'


async def main(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = await Harness(f'sqlite:///{tmp}/bench.sqlite').start()
        try:
            node = await (await h.request('POST', '/v1/nodes',
                                          json={'driver': 'fake-hardware'})).json()
            uuid = node['uuid']
            await _gets(h, uuid, 20)   # warm up
            alone = await _gets(h, uuid, args.gets)
            server = h.client.server
            pushes = [asyncio.create_task(_push(server.host, server.port, uuid,
                                                args.mib * 2**20))
                      for _ in range(args.clients)]
            loaded = await _gets(h, uuid, args.gets)
            answers = await asyncio.gather(*pushes)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f'{os.cpu_count()} CPUs; {args.clients} clients x {args.mib} MiB heartbeat '
                  'bodies')
            print(f'GET node alone:           {_fmt(alone)}')
            print(f'GET node while pushing:   {_fmt(loaded)}')
            print(f'answers to the pushers:   {sorted(set(answers))}')
            print(f'peak RSS of the process:  {rss:.0f} MiB')
        finally:
            await h.stop()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=4)
    parser.add_argument('--mib', type=int, default=59)
    parser.add_argument('--gets', type=int, default=300)
    asyncio.run(main(parser.parse_args()))
