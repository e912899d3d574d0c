"""``ironic-lite-vbmc``: real qemu machines (TCG) behind IPMI, driven by the product's own
``ipmitool`` power and management interfaces (pyghmi, over loopback UDP).

The machines boot the ``tiny`` kernel + busybox initramfs built by ``tools/ramdisk/tiny.sh``
(cached) with qemu's iPXE ROM over qemu's user-mode network (TFTP from a test folder, nothing
leaves the process tree): it prints ``IRONIC-LITE-TINY up tiny_id=<mac>`` on the serial console
and powers off, or with ``tiny_reboot`` reboots. An empty disk boots nothing, so "booted from
the network" and "booted from disk" are told apart on the console. Needs Debian
``qemu-system-x86`` and ``ipxe-qemu`` (tools/ensure-services.sh): skipped without them, failed
in CI.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import types

import pytest

from ironic_lite.common import boot_devices, states
from ironic_lite.conf import CONF
from ironic_lite.drivers.modules import ipmi_client, ipmitool
from ironic_lite.testing import processes, ramdisks
from ironic_lite.tools.vbmc import MachineSpec, VirtualBmcFleet
from tests.conftest import require

PLAIN, REBOOTS = '52:54:00:7b:00:01', '52:54:00:7b:00:02'
LINE = 'IRONIC-LITE-TINY up tiny_id='
BOOT_SCRIPT = f'''#!ipxe
set extra
iseq ${{mac}} {REBOOTS} && set extra tiny_reboot ||
kernel vmlinuz console=ttyS0 quiet panic=-1 tiny_id=${{mac}} ${{extra}}
initrd initramfs
boot
'''


def qemu_ok() -> bool:
    return bool(shutil.which('qemu-system-x86_64')) and os.path.exists(
        '/usr/lib/ipxe/qemu/pxe-virtio.rom') and ramdisks.tools_ok()


@pytest.fixture(scope='module')
def tftp(tmp_path_factory):
    require(qemu_ok(), 'qemu-system-x86 with ipxe-qemu, and apt-get/dpkg-deb for ramdisks')
    tiny = ramdisks.build('tiny')
    root = tmp_path_factory.mktemp('tftp')
    for name in ('vmlinuz', 'initramfs'):
        shutil.copy(os.path.join(tiny, name), root / name)
    (root / 'boot.ipxe').write_text(BOOT_SCRIPT)
    return str(root)


def _disk(path) -> str:
    with open(path, 'wb') as f:
        f.truncate(64 * 1024 * 1024)
    return str(path)


@pytest.fixture(scope='module')
def fleet(tftp, tmp_path_factory):
    work = tmp_path_factory.mktemp('vbmc')
    specs = [MachineSpec(name=name, disk=_disk(work / f'{name}.img'), mac=mac, memory=256,
                         user_net=f'tftp={tftp},bootfile=boot.ipxe')
             for name, mac in (('plain', PLAIN), ('reboots', REBOOTS))]
    with VirtualBmcFleet(specs, workdir=str(work)) as f:
        yield f
    ipmi_client.shutdown()


@pytest.fixture(autouse=True)
def ipmi_conf():
    CONF.set_override('min_command_interval', 0.05, group='ipmi')
    CONF.set_override('power_state_change_timeout', 30, group='conductor')
    yield
    CONF.clear_override('min_command_interval', group='ipmi')
    CONF.clear_override('power_state_change_timeout', group='conductor')


def task(fleet, name: str):
    info = {'ipmi_address': '127.0.0.1', 'ipmi_port': fleet.port_of(name),
            'ipmi_username': 'admin', 'ipmi_password': 'password'}
    return types.SimpleNamespace(node=types.SimpleNamespace(
        uuid=f'00000000-0000-4000-8000-{fleet.port_of(name):012d}', driver_info=info))


power, management = ipmitool.IPMIPower(), ipmitool.IPMIManagement()


def console(fleet, name: str) -> str:
    try:
        with open(fleet.machine(name).console_log, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


async def wait_power(t, target: str, timeout: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (state := await power.get_power_state(t)) != target:
        assert loop.time() < deadline, f'still {state} after {timeout} s'
        await asyncio.sleep(0.5)


async def until(predicate, what: str, timeout: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f'no {what} after {timeout} s'
        await asyncio.sleep(0.2)


async def test_power_and_one_time_network_boot(fleet):
    t = task(fleet, 'plain')
    machine = fleet.machine('plain')
    assert await power.get_power_state(t) == states.POWER_OFF
    await management.set_boot_device(t, boot_devices.PXE, persistent=False)
    assert await management.get_boot_device(t) == {'boot_device': boot_devices.PXE,
                                                   'persistent': False}
    await power.set_power_state(t, states.POWER_ON)
    # The machine netboots the tiny ramdisk, which prints its line and powers off.
    await wait_power(t, states.POWER_OFF)
    assert f'{LINE}{PLAIN}' in console(fleet, 'plain')
    assert machine.boots == ['n']
    # The one-time override was used by that boot: the next one is from the (empty) disk.
    assert (await management.get_boot_device(t))['boot_device'] is None
    await power.set_power_state(t, states.POWER_ON)
    assert await power.get_power_state(t) == states.POWER_ON
    # "on" at once; the boot itself runs on the machines' thread (seen late under load)
    await until(lambda: len(machine.boots) == 2, 'second boot')
    assert machine.boots == ['n', 'c']
    # Persistent network boot applies at the next boot: a reboot (off, then on).
    await management.set_boot_device(t, boot_devices.PXE, persistent=True)
    before = console(fleet, 'plain').count(LINE)
    await power.reboot(t)
    await wait_power(t, states.POWER_OFF)
    assert console(fleet, 'plain').count(LINE) == before + 1
    assert machine.boots == ['n', 'c', 'n']
    assert await management.get_boot_device(t) == {'boot_device': boot_devices.PXE,
                                                   'persistent': True}


async def test_guest_reboot_boots_through_the_bmc_flags(fleet):
    """The guest reboots itself after the network boot; the firmware then reads the BMC's
    flags again: the one-time override is gone, so the machine boots its disk and stays on."""
    t = task(fleet, 'reboots')
    machine = fleet.machine('reboots')
    await management.set_boot_device(t, boot_devices.PXE, persistent=False)
    await power.set_power_state(t, states.POWER_ON)
    await until(lambda: machine.boots == ['n', 'c'],
                'network boot, then a disk boot after the guest rebooted')
    assert f'{LINE}{REBOOTS}' in console(fleet, 'reboots')
    assert await power.get_power_state(t) == states.POWER_ON
    # Hard power off through QMP; soft power off of a machine without an OS is ignored.
    await power.set_power_state(t, states.POWER_OFF)
    assert await power.get_power_state(t) == states.POWER_OFF


def test_command_serves_machines_and_stops_them(tftp, tmp_path):
    """The console script: READY line with each machine's port; SIGTERM powers every
    machine off (no qemu left) and exits 0."""
    config = tmp_path / 'machines.json'
    config.write_text(json.dumps({'workdir': str(tmp_path), 'machines': [
        {'name': 'cli-0', 'disk': _disk(tmp_path / 'cli-0.img'), 'mac': PLAIN,
         'memory': 128}]}))
    proc = subprocess.Popen([processes.console_script('ironic-lite-vbmc'), '--config',
                             str(config)], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        assert line.startswith('READY 127.0.0.1 cli-0='), line + proc.stderr.read()
        port = int(line.split('=')[1])
        out = subprocess.run([sys.executable, '-c', _POWER_ON, str(port)],
                             capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == 'on', out.stderr
        qmp = str(tmp_path / 'cli-0.qmp')
        assert _qemu_running(qmp)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert not _qemu_running(qmp)
    finally:
        processes.terminate(proc)


# pyghmi's own client, in a subprocess (its session layer is process-wide).
_POWER_ON = '''
import sys
from pyghmi.ipmi import command
c = command.Command('127.0.0.1', b'admin', b'password', port=int(sys.argv[1]))
c.set_power('on', wait=True)
print(c.get_power()['powerstate'])
'''


def _qemu_running(qmp_path: str) -> bool:
    out = subprocess.run(['pgrep', '-f', qmp_path], capture_output=True, text=True).stdout
    return bool(out.strip())
