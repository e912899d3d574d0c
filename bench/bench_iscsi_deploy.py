#!/usr/bin/env python3
"""Benchmark of the iSCSI (bash ramdisk) deploy: nodes/minute and image write throughput.

Everything is real except the machines: the all-in-one ``ironic-lite`` daemon as a subprocess
(SQLite, in-process RPC; :class:`ironic_lite.testing.iscsi.IscsiAio`, the setup
``tests/functional/test_iscsi_deploy.py`` uses too), ``ipmi`` nodes whose BMCs are one
:class:`~ironic_lite.tools.fakebmc.FakeBmcFleet` in this process, ``pxe`` boot into a temp dir,
``iscsi`` deploy, and one simulated bash ramdisk per node (:mod:`ironic_lite.tools.bash_ramdisk`:
a real ``tgtd`` each, all in one event loop).

1. For each fleet size N: enroll N nodes (manage, provide), then deploy them all at once and
   time from the first ``PUT …/states/provision active`` until every node is ``active``;
   every disk is compared with the image afterwards. Prints nodes/minute.
2. Image write throughput: ``qemu-img convert -n -S 0`` of an image to a ``tgtd`` target on
   loopback (the conductor's write path) against plain ``dd bs=4M`` of the same bytes into a
   file, both into the page cache, best of three.

Usage:  .venv/bin/python bench/bench_iscsi_deploy.py [--nodes 20 100] [--image-mib 8]
            [--write-mib 256]
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ironic_lite.testing.iscsi import (  # noqa: E402
    PASSWORD,
    USER,
    Background,
    IscsiAio,
    MiB,
    read,
    sparse_disk,
)
from ironic_lite.tools.bash_ramdisk_target import IscsiTarget  # noqa: E402
from ironic_lite.tools.fakebmc import FakeBmcFleet  # noqa: E402


def fleet_deploy(fleet: FakeBmcFleet, count: int, image: bytes, workdir: str) -> dict:
    aio = IscsiAio(os.path.join(workdir, f'aio{count}'))
    aio.write_image('disk.raw', image)
    aio.daemon.start()
    try:
        macs = [f'52:54:01:{i >> 8:02x}:{i & 0xff:02x}:01' for i in range(count)]
        names = [f'bench-{count}-{i}' for i in range(count)]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: aio.available_node(
                names[i], fleet.ports[i], macs[i],
                image_source=f'file://{aio.images}/disk.raw'), range(count)))
        enroll_s = time.monotonic() - t0
        disks = [sparse_disk(os.path.join(workdir, f'd{count}-{i}'), 2 * len(image))
                 for i in range(count)]
        bg = Background([aio.ramdisk(mac, disk, boot_timeout=600)
                         for mac, disk in zip(macs, disks, strict=True)])
        t0 = time.monotonic()
        for name in names:
            aio.deploy(name)
        for name in names:
            aio.wait_state(name, ('active', 'deploy failed'), timeout=900)
        deploy_s = time.monotonic() - t0
        results = bg.join(600)
        states = [aio.node(n)['provision_state'] for n in names]
        identical = sum(read(d, 0, len(image)) == image for d in disks)
        return {'nodes': count, 'enroll_s': enroll_s, 'deploy_s': deploy_s,
                'nodes_per_min': count / deploy_s * 60, 'active': states.count('active'),
                'identical_disks': identical,
                'ramdisks_done': sum(r == 'done' for r in results)}
    finally:
        aio.daemon.stop()


def _timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.monotonic() - t0


async def write_throughput(workdir: str, mib: int) -> dict:
    src = os.path.join(workdir, 'write.raw')
    with open(src, 'wb') as f:
        for _ in range(mib):
            f.write(os.urandom(MiB))
    disk = sparse_disk(os.path.join(workdir, 'target.disk'), (mib + 16) * MiB)
    plain = os.path.join(workdir, 'dd.out')
    iqn = 'iqn.2008-10.org.openstack:bench'
    best_iscsi = best_dd = float('inf')
    async with IscsiTarget(disk, iqn) as target:
        url = f'iscsi://127.0.0.1:{target.port}/{iqn}/1'
        for _ in range(3):
            best_iscsi = min(best_iscsi, await asyncio.to_thread(
                _timed, ['qemu-img', 'convert', '-n', '-S', '0', '-f', 'raw', '-O', 'raw',
                         src, url]))
            sparse_disk(plain, (mib + 16) * MiB)
            best_dd = min(best_dd, await asyncio.to_thread(
                _timed, ['dd', f'if={src}', f'of={plain}', 'bs=4M', 'conv=notrunc']))
    assert read(disk, 0, mib * MiB) == read(src), 'iSCSI write not byte-identical'
    return {'mib': mib, 'iscsi_mib_s': mib / best_iscsi, 'dd_mib_s': mib / best_dd}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, nargs='+', default=[20, 100])
    parser.add_argument('--image-mib', type=int, default=8)
    parser.add_argument('--write-mib', type=int, default=256)
    args = parser.parse_args()
    image = os.urandom(args.image_mib * MiB)
    with tempfile.TemporaryDirectory(prefix='bench_iscsi_') as workdir:
        w = asyncio.run(write_throughput(workdir, args.write_mib))
        print(f"image write, {w['mib']} MiB: qemu-img -> tgtd over iSCSI "
              f"{w['iscsi_mib_s']:.0f} MiB/s, plain dd {w['dd_mib_s']:.0f} MiB/s "
              f"(ratio {w['iscsi_mib_s'] / w['dd_mib_s']:.2f})", flush=True)
        os.unlink(os.path.join(workdir, 'write.raw'))
        with FakeBmcFleet(ports=[0] * max(args.nodes), user=USER, password=PASSWORD) as fleet:
            for count in args.nodes:
                r = fleet_deploy(fleet, count, image, workdir)
                print(f"{r['nodes']} nodes, {args.image_mib} MiB whole-disk image: deploy "
                      f"{r['deploy_s']:.1f} s -> {r['nodes_per_min']:.1f} nodes/min "
                      f"(enroll {r['enroll_s']:.1f} s); active {r['active']}/{count}, "
                      f"byte-identical disks {r['identical_disks']}/{count}, ramdisks done "
                      f"{r['ramdisks_done']}/{count}", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
