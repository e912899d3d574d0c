"""Time per phase of a real iSCSI deploy of a qemu machine (root; see doc/machines.md).

One machine in a :class:`~ironic_lite.testing.machines.MachineLab` (network namespace,
dnsmasq, HTTP root, ironic-lite-vbmc, all-in-one ironic-lite; ``ipmi`` + ``ipxe`` + ``iscsi``)
deploys the instance image of ``tools/ramdisk/instance-image.sh`` padded with random data to
``--size-mib``. The bench polls (every 0.1 s) the node, dnsmasq's log and the serial console
and prints when each phase was first seen, from the deploy request:

  deploy requested → wait call-back → DHCP ack → ramdisk up → callback (resume) → image
  written ("done" on the console) → active → instance booted (its line on the console)

and the image write rate (image bytes / (done − resume)) next to ``qemu-img convert`` of the
same image to the SAME target: the machine's own iSCSI target, exported by its deploy ramdisk.
That target exists only while the ramdisk waits for its callback's answer, so the machine is
deployed twice: the first deploy gives the phases; before the second, the ramdisk's way to the
API (``[conductor]api_url``) goes through ``e2e_callback_proxy.py``, which holds that
deploy's ``pass_deploy_info`` while it runs ``qemu-img convert`` to the target the POST names
(the ramdisk kept up, waiting), then forwards it: the conductor writes the same image to the
same target right after.

    sudo .venv/bin/python bench/bench_e2e.py [--size-mib 256]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from ironic_lite.testing import processes, ramdisks, services
from ironic_lite.testing.machines import MachineLab

MAC = '52:54:00:be:e2:01'


def _image(src: str, dest: str, size_mib: int) -> int:
    shutil.copyfile(src, dest)
    with open(dest, 'ab') as f:
        while f.tell() < size_mib * 1024 * 1024:
            f.write(os.urandom(1024 * 1024))
        return f.tell()


PHASES = {  # phase -> predicate(node, new console text, new dnsmasq log text)
    'wait call-back': lambda n, c, d: n['provision_state'] == 'wait call-back',
    'DHCP ack': lambda n, c, d: 'DHCPACK(brprov)' in d and MAC in d,
    'ramdisk up': lambda n, c, d: 'ironic-lite-ramdisk: node' in c,
    'callback (resume)': lambda n, c, d: 'ironic-lite-ramdisk: waiting' in c,
    'image written (done)': lambda n, c, d: 'ironic-lite-ramdisk: got: done' in c,
    'active': lambda n, c, d: n['provision_state'] == 'active',
    'instance booted': lambda n, c, d: 'IRONIC-LITE-INSTANCE' in c,
}


def _read(path: str) -> str:
    with open(path, errors='replace') as f:
        return f.read()


def _deploy(lab: MachineLab, image: str) -> dict[str, float]:
    """Deploy ``b0``; when each phase was first seen (s from the deploy request)."""
    dnsmasq_log = os.path.join(lab.workdir, 'dnsmasq.log')
    console_at, dnsmasq_at = len(lab.console('b0')), len(_read(dnsmasq_log))
    lab.cli('node', 'set', 'b0', '--instance-info', f'image_source={image}')
    seen: dict[str, float] = {}
    start = time.monotonic()
    lab.cli('node', 'deploy', 'b0')
    while len(seen) < len(PHASES) and time.monotonic() - start < 900:
        node, console = lab.node('b0'), lab.console('b0')[console_at:]
        dlog = _read(dnsmasq_log)[dnsmasq_at:]
        now = time.monotonic() - start
        for phase, pred in PHASES.items():
            if phase not in seen and pred(node, console, dlog):
                seen[phase] = now
        if node['provision_state'] == 'deploy failed':
            raise SystemExit(f'deploy failed: {node["last_error"]}')
        time.sleep(0.1)
    return seen


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
    flag, result = os.path.join(workdir, 'baseline.flag'), os.path.join(workdir, 'baseline.json')
    options: dict = {'conductor': {}}
    lab = MachineLab(os.path.join(workdir, 'lab'), [('b0', MAC)], options=options)
    proxy_port = services.free_port()
    options['conductor']['api_url'] = f'http://{lab.net.address}:{proxy_port}'
    with lab:
        lab.net.spawn([sys.executable, os.path.join(os.path.dirname(__file__),
                                                    'e2e_callback_proxy.py'),
                       '--listen', lab.net.address, '--port', str(proxy_port), '--api', lab.url,
                       '--image', image, '--baseline-flag', flag, '--result', result])
        processes.wait_for(lambda: lab.net.port_open(proxy_port), timeout=30,
                           what='the callback proxy')
        lab.enroll('b0', deploy_interface='iscsi',
                   deploy_kernel=lab.image(os.path.join(ramdisk, 'vmlinuz')),
                   deploy_ramdisk=lab.image(os.path.join(ramdisk, 'initramfs')))
        source = lab.image(image)
        first = _deploy(lab, source)
        lab.cli('node', 'undeploy', 'b0', '--wait', '300', timeout=360)
        open(flag, 'w').close()   # the next pass_deploy_info: qemu-img first, then ironic_lite
        second = _deploy(lab, source)
    with open(result) as f:
        baseline = json.load(f)
    if baseline['returncode'] != 0:
        raise SystemExit(f'qemu-img convert to the machine\'s target failed: {baseline}')
    mib = size / 2**20
    print(f'image {mib:.0f} MiB; host load average {os.getloadavg()[0]:.1f} on '
          f'{os.cpu_count()} CPUs (TCG: the machine competes for them); phases (s from the '
          'deploy request):')
    print(f'  {"":22s} {"deploy 1":>9s} {"deploy 2":>9s}')
    for phase in PHASES:
        print(f'  {phase:22s} {first.get(phase, float("nan")):9.1f} '
              f'{second.get(phase, float("nan")):9.1f}')
    print('  (deploy 2: from "callback" on, later by the qemu-img write held in its callback)')
    for label, seen in (('deploy 1', first), ('deploy 2', second)):
        write = seen['image written (done)'] - seen['callback (resume)']
        print(f'ironic_lite image write over iSCSI to the machine ({label}): '
              f'{mib / write:.0f} MiB/s ({write:.1f} s incl. partition/config drive work and '
              f'the done notice)')
    print(f'qemu-img convert of the same image to the same target ({baseline["target"]}, '
          f'the ramdisk kept up in deploy 2): {mib / baseline["seconds"]:.0f} MiB/s '
          f'({baseline["seconds"]:.1f} s)')
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
