"""Deploy IMAGE onto a fresh qemu machine with ironic_lite, no hardware needed (root only).

Run through ``tools/try-it.sh IMAGE [DISK_FILE]``. It builds (once, cached) the iSCSI deploy
ramdisk from Debian packages, creates a network namespace with dnsmasq, an HTTP root, a qemu
machine behind ``ironic-lite-vbmc`` and the all-in-one ``ironic-lite``, enrolls the machine
(``ipmi`` + ``ipxe`` + ``iscsi``), deploys IMAGE (a raw or qcow2 file, or an http(s) URL
fetched first) and prints each phase and the machine's serial console. At the end the node is
``active`` in ``<workdir>/ironic_lite.sqlite``, everything started is stopped and the
machine's disk is kept at DISK_FILE (raw) for inspection.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.request

from ironic_lite.testing import ramdisks
from ironic_lite.testing.machines import GiB, MachineLab


def _say(text: str) -> None:
    print(f'[{time.strftime("%H:%M:%S")}] {text}', flush=True)


def _fetch(source: str, workdir: str) -> str:
    if source.startswith(('http://', 'https://')):
        # The lab's namespace has no route out: the image is fetched here, then served as a
        # file:// image ([conductor]file_url_allowed_paths).
        dest = os.path.join(workdir, 'download.img')
        _say(f'downloading {source}')
        with urllib.request.urlopen(source) as resp, open(dest, 'wb') as f:  # noqa: S310
            shutil.copyfileobj(resp, f, 1 << 20)
        return dest
    if not os.path.isfile(source):
        sys.exit(f'try-it: {source} is not a file or an http(s) URL')
    return os.path.abspath(source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='try-it', description=__doc__.splitlines()[0])
    parser.add_argument('image', help='raw or qcow2 disk image file, or an http(s) URL')
    parser.add_argument('disk', nargs='?', default='try-it-disk.img',
                        help='where the machine\'s disk is kept (raw)')
    parser.add_argument('--disk-size', type=int, default=4, help='GiB (default 4)')
    parser.add_argument('--memory', type=int, default=1024, help='MiB (default 1024)')
    parser.add_argument('--watch', type=int, default=90,
                        help='seconds to show the console of the deployed machine')
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix='ironic-lite-try-')
    source = _fetch(args.image, workdir)
    _say('building (or reusing) the iSCSI deploy ramdisk')
    ramdisk = ramdisks.build('iscsi-ramdisk')
    lab = MachineLab(workdir, [('try-it', '52:54:00:7e:57:01')], memory=args.memory,
                     disk_size=args.disk_size * GiB)
    _say(f'starting dnsmasq, the HTTP root, the vbmc and ironic-lite in netns {lab.net.name}')
    shown = 0
    with lab:
        _say(f'API at {lab.url} (inside the namespace); work directory {workdir}')
        lab.enroll('try-it', deploy_interface='iscsi',
                   deploy_kernel=lab.image(os.path.join(ramdisk, 'vmlinuz'), 'deploy.vmlinuz'),
                   deploy_ramdisk=lab.image(os.path.join(ramdisk, 'initramfs'),
                                            'deploy.initramfs'))
        _say('node try-it enrolled and available')
        lab.cli('node', 'set', 'try-it', '--instance-info',
                f'image_source={lab.image(source, "instance.img")}')
        lab.cli('node', 'deploy', 'try-it')
        state, deadline = None, time.monotonic() + 1800
        while time.monotonic() < deadline:
            node = lab.node('try-it')
            if node['provision_state'] != state:
                state = node['provision_state']
                _say(f'node: {state} (power: {node["power_state"]})')
            console = lab.console('try-it')
            sys.stdout.write(console[shown:])
            shown = len(console)
            if state in ('active', 'deploy failed'):
                break
            time.sleep(1)
        if state == 'deploy failed':
            _say(f'deploy failed: {lab.node("try-it")["last_error"]}')
        else:
            _say(f'active; the machine boots its disk — console for {args.watch} s')
            end = time.monotonic() + args.watch
            while time.monotonic() < end:
                console = lab.console('try-it')
                sys.stdout.write(console[shown:])
                shown = len(console)
                time.sleep(1)
        _say('stopping everything')
    shutil.move(lab.machines['try-it'].disk, args.disk)
    _say(f'machine disk kept at {args.disk}; node state in {workdir}/ironic_lite.sqlite')
    return 0 if state == 'active' else 1


if __name__ == '__main__':
    sys.exit(main())
