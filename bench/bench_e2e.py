"""Time per phase of a real iSCSI deploy of a qemu machine (root; see doc/machines.md).

One machine in a :class:`~ironic_lite.testing.machines.MachineLab` (network namespace,
dnsmasq, HTTP root, ironic-lite-vbmc, all-in-one ironic-lite; ``ipmi`` + ``ipxe`` + ``iscsi``)
deploys the instance image of ``tools/ramdisk/instance-image.sh`` padded with random data to
``--size-mib``. The bench polls (every 0.1 s) the node, dnsmasq's log and the serial console
and prints when each phase was first seen, from the deploy request:

  deploy requested → wait call-back → DHCP ack → ramdisk up → callback (resume) → image
  written ("done" on the console) → active → instance booted (its line on the console)

plus the image write rate (image bytes / (done − resume)) next to ``qemu-img convert -n -S 0``
of the same image to a tgtd target on loopback outside ironic_lite (the machine's own target is
gone once the deploy ends; the loopback figure is the ceiling of the conductor's side).

    sudo .venv/bin/python bench/bench_e2e.py [--size-mib 256]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time

from ironic_lite.testing import ramdisks
from ironic_lite.testing.machines import MachineLab
from ironic_lite.tools.bash_ramdisk_target import IscsiTarget

MAC = '52:54:00:be:e2:01'


def _image(src: str, dest: str, size_mib: int) -> int:
    shutil.copyfile(src, dest)
    with open(dest, 'ab') as f:
        while f.tell() < size_mib * 1024 * 1024:
            f.write(os.urandom(1024 * 1024))
        return f.tell()


def _baseline(image: str, workdir: str) -> float:
    disk = os.path.join(workdir, 'baseline.disk')
    with open(disk, 'wb') as f:
        f.truncate(os.path.getsize(image) + 64 * 1024 * 1024)
    iqn = 'iqn.2008-10.org.openstack:bench'

    async def run() -> float:
        target = IscsiTarget(disk, iqn, '127.0.0.1', 0)
        await target.start()
        try:
            started = time.monotonic()
            await asyncio.to_thread(subprocess.run, [
                'qemu-img', 'convert', '-n', '-S', '0', '-f', 'raw', '-O', 'raw', image,
                f'iscsi://127.0.0.1:{target.port}/{iqn}/1'], check=True)
            return time.monotonic() - started
        finally:
            await target.stop()
    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--size-mib', type=int, default=256)
    args = parser.parse_args()
    build_started = time.monotonic()
    ramdisk, image_dir = ramdisks.build('iscsi-ramdisk'), ramdisks.build('instance-image')
    print(f'ramdisk + image ready in {time.monotonic() - build_started:.1f} s '
          f'(builds this run: {ramdisks.BUILD_TIMES or "none, cached"})')
    workdir = tempfile.mkdtemp(prefix='bench-e2e-')
    image = os.path.join(workdir, 'big.img')
    size = _image(os.path.join(image_dir, 'disk.img'), image, args.size_mib)
    with MachineLab(os.path.join(workdir, 'lab'), [('b0', MAC)]) as lab:
        lab.enroll('b0', deploy_interface='iscsi',
                   deploy_kernel=lab.image(os.path.join(ramdisk, 'vmlinuz')),
                   deploy_ramdisk=lab.image(os.path.join(ramdisk, 'initramfs')))
        lab.cli('node', 'set', 'b0', '--instance-info', f'image_source={lab.image(image)}')
        dnsmasq_log = os.path.join(lab.workdir, 'dnsmasq.log')
        seen: dict[str, float] = {}
        marks = {  # phase -> predicate(node, console, dnsmasq log)
            'wait call-back': lambda n, c, d: n['provision_state'] == 'wait call-back',
            'DHCP ack': lambda n, c, d: 'DHCPACK(brprov)' in d and MAC in d,
            'ramdisk up': lambda n, c, d: 'ironic-lite-ramdisk: node' in c,
            'callback (resume)': lambda n, c, d: 'ironic-lite-ramdisk: waiting' in c,
            'image written (done)': lambda n, c, d: 'ironic-lite-ramdisk: got: done' in c,
            'active': lambda n, c, d: n['provision_state'] == 'active',
            'instance booted': lambda n, c, d: 'IRONIC-LITE-INSTANCE' in c,
        }
        start = time.monotonic()
        lab.cli('node', 'deploy', 'b0')
        while len(seen) < len(marks) and time.monotonic() - start < 900:
            node, console = lab.node('b0'), lab.console('b0')
            with open(dnsmasq_log, errors='replace') as f:
                dlog = f.read()
            now = time.monotonic() - start
            for phase, pred in marks.items():
                if phase not in seen and pred(node, console, dlog):
                    seen[phase] = now
            if node['provision_state'] == 'deploy failed':
                raise SystemExit(f'deploy failed: {node["last_error"]}')
            time.sleep(0.1)
    print(f'image {size / 2**20:.0f} MiB; phases (s from the deploy request):')
    for phase in marks:
        print(f'  {phase:22s} {seen.get(phase, float("nan")):7.1f}')
    write = seen['image written (done)'] - seen['callback (resume)']
    base = _baseline(image, workdir)
    print(f'image write over iSCSI to the machine: {size / 2**20 / write:.0f} MiB/s '
          f'({write:.1f} s incl. partition/config drive work and the done notice)')
    print(f'qemu-img convert to a loopback tgtd target: {size / 2**20 / base:.0f} MiB/s '
          f'({base:.1f} s)')
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
