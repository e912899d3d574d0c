"""One qemu machine behind a virtual BMC: started, stopped and reset through QMP.

:class:`MachineRunner` owns one asyncio event loop in a thread that drives every machine of a
process (qemu subprocesses and their QMP sessions, with ``qemu.qmp``). The BMC side (pyghmi's
blocking server, in its own thread) only *submits* power actions and reads the power state, so
an IPMI answer never waits for qemu; per machine the actions run one after the other, in the
order they were submitted.

Each boot is a new qemu process, started paused (``-S``) with the boot order the BMC chose and
continued once the QMP session is up, so no event is missed. ``-action reboot=shutdown`` turns
a reboot of the guest into the process's end with a ``SHUTDOWN`` event of reason
``guest-reset``; the runner then boots the machine again, asking the BMC for the boot device:
a real machine's firmware reads the BMC's boot flags on every reset, and a one-time override is
used by exactly one boot. A guest that powers itself off ends its process: power state off.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shlex
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from qemu.qmp import QMPClient, Runstate

LOG = logging.getLogger(__name__)

QEMU = 'qemu-system-x86_64'
# IPMI boot device names (pyghmi's) -> qemu -boot order letters.
BOOT_ORDER = {'network': 'n', 'hd': 'c', 'optical': 'd', 'floppy': 'a'}
_QUIT_TIMEOUT = 10.0


class MachineError(Exception):
    pass


@dataclasses.dataclass
class MachineSpec:
    """A qemu machine and the BMC in front of it (``port`` 0: a free UDP port)."""

    name: str
    disk: str
    mac: str
    port: int = 0
    username: str = 'admin'
    password: str = 'password'
    memory: int = 512                  # MiB
    cpus: int = 1
    disk_format: str = 'raw'
    tap: str | None = None             # a tap interface; None: qemu's user networking
    user_net: str = ''                 # options of user networking, e.g. tftp=DIR,bootfile=F
    console_log: str | None = None     # serial console; default <workdir>/<name>.console.log
    default_boot: str = 'hd'           # boot device when the BMC has no override
    extra_args: list[str] = dataclasses.field(default_factory=list)


class MachineRunner:
    """The event loop thread every :class:`QemuMachine` of a process runs on."""

    def __init__(self, workdir: str | None = None) -> None:
        self.workdir = workdir or tempfile.mkdtemp(prefix='ironic-lite-vbmc-')
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name='vbmc-machines',
                                        daemon=True)
        self._thread.start()
        self.machines: list[QemuMachine] = []

    def submit(self, coro: Any) -> Any:
        """Run ``coro`` on the runner's loop; returns a concurrent future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, timeout: float = 30.0) -> None:
        """Power every machine off (their processes end), then stop the loop."""
        if not self._thread.is_alive():
            return
        futures = [self.submit(m.power_off()) for m in self.machines]
        for fut in futures:
            with contextlib.suppress(Exception):
                fut.result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self.loop.close()


class QemuMachine:
    """A qemu-system-x86_64 machine whose power the BMC controls.

    ``boot_device`` (called on the runner's loop) answers which device the next boot uses;
    the BMC consumes one-time overrides there.
    """

    def __init__(self, spec: MachineSpec, runner: MachineRunner,
                 boot_device: Callable[[], str | None]) -> None:
        if not shutil.which(QEMU):
            raise MachineError(f'{QEMU} is not installed (Debian: qemu-system-x86)')
        if not os.path.exists(spec.disk):
            raise MachineError(f'machine {spec.name}: disk {spec.disk} does not exist')
        self.spec = spec
        self.runner = runner
        self.boot_device = boot_device
        self.console_log = spec.console_log or os.path.join(runner.workdir,
                                                            f'{spec.name}.console.log')
        self.qmp_path = os.path.join(runner.workdir, f'{spec.name}.qmp')
        self._proc: asyncio.subprocess.Process | None = None
        self._qmp: QMPClient | None = None
        self._lock = asyncio.Lock()          # created on the runner's loop's first use
        self._pending = 0                    # power actions submitted, not yet done
        self._pending_lock = threading.Lock()  # BMC thread adds, runner's loop removes
        self._wanted_on = False              # what the last submitted action asks for
        self.boots: list[str] = []           # boot order letters of every start, in order
        runner.machines.append(self)

    # -- read by the BMC thread -----------------------------------------------------------
    @property
    def running(self) -> bool:
        """Power state: the qemu process runs (or a power on is on its way)."""
        if self._pending:
            return self._wanted_on
        proc = self._proc
        return proc is not None and proc.returncode is None

    # -- submitted by the BMC thread ------------------------------------------------------
    def request(self, action: str) -> None:
        """``on``, ``off``, ``reset``, ``soft_off`` or ``nmi``: queued, never waited for."""
        coro = {'on': self.power_on, 'off': self.power_off, 'reset': self.reset,
                'soft_off': self.soft_off, 'nmi': self.nmi}[action]()
        if action in ('on', 'off', 'reset'):
            with self._pending_lock:
                self._pending += 1
                self._wanted_on = action != 'off'
        fut = self.runner.submit(self._tracked(coro, action in ('on', 'off', 'reset')))
        fut.add_done_callback(lambda f: f.exception() and LOG.error(
            'machine %s: %s failed: %s', self.spec.name, action, f.exception()))

    async def _tracked(self, coro: Any, counted: bool) -> None:
        try:
            async with self._lock:
                await coro
        finally:
            if counted:
                with self._pending_lock:
                    self._pending -= 1

    # -- on the runner's loop -------------------------------------------------------------
    def _command(self, order: str) -> list[str]:
        spec = self.spec
        if spec.tap:
            netdev = f'tap,id=net0,ifname={spec.tap},script=no,downscript=no'
        else:
            netdev = ','.join(filter(None, ['user,id=net0', spec.user_net]))
        return [QEMU, '-name', spec.name, '-machine', 'pc,accel=tcg', '-m', str(spec.memory),
                '-smp', str(spec.cpus), '-display', 'none', '-S',
                '-chardev', f'file,id=console,path={self.console_log},append=on',
                '-serial', 'chardev:console',
                '-chardev', f'socket,id=qmp,path={self.qmp_path}',
                '-mon', 'chardev=qmp,mode=control',
                '-drive', f'file={spec.disk},format={spec.disk_format},if=none,id=disk0,'
                          'cache=unsafe',
                '-device', 'virtio-blk-pci,drive=disk0',
                '-netdev', netdev, '-device', f'virtio-net-pci,netdev=net0,mac={spec.mac}',
                '-boot', f'order={order}', '-action', 'reboot=shutdown',
                *spec.extra_args]

    async def power_on(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            return
        device = self.boot_device() or self.spec.default_boot
        order = BOOT_ORDER.get(device, 'c')
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.qmp_path)
        qmp = QMPClient(self.spec.name)
        await qmp.start_server(self.qmp_path)
        cmd = self._command(order)
        LOG.info('machine %s: starting (boot %s): %s', self.spec.name, device, shlex.join(cmd))
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        try:
            await asyncio.wait_for(qmp.accept(), 30)
        except BaseException:
            proc.kill()
            stderr = (await proc.communicate())[1].decode(errors='replace')
            with contextlib.suppress(Exception):
                await qmp.disconnect()
            raise MachineError(f'machine {self.spec.name}: qemu did not start: {stderr}') \
                from None
        self._proc, self._qmp = proc, qmp
        self.boots.append(order)
        asyncio.ensure_future(self._watch_exit(proc, qmp))
        await qmp.execute('cont')

    async def _watch_exit(self, proc: asyncio.subprocess.Process, qmp: QMPClient) -> None:
        stderr = (await proc.communicate())[1].decode(errors='replace').strip()
        # The QMP reader sees the end of the stream after every event qemu sent; events
        # wait in the client's default listener until read here.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while qmp.runstate == Runstate.RUNNING:
                    await qmp.runstate_changed()
        reason = None
        for event in qmp.events.clear():
            if event['event'] == 'SHUTDOWN':
                reason = event.get('data', {}).get('reason')
        with contextlib.suppress(Exception):
            await qmp.disconnect()
        LOG.info('machine %s: qemu ended (code %s, %s)%s', self.spec.name, proc.returncode,
                 reason or 'killed', f': {stderr}' if stderr else '')
        if reason == 'guest-reset' and self._proc is proc:
            # The guest rebooted: boot again, through the BMC's boot flags.
            async with self._lock:
                if self._proc is proc:
                    await self.power_on()

    async def power_off(self) -> None:
        """Hard power off: qemu quits (killed if it does not within 10 s)."""
        proc, qmp = self._proc, self._qmp
        if proc is None or proc.returncode is not None:
            return
        self._proc = None     # an exit now is no guest reboot to follow
        with contextlib.suppress(Exception):
            await asyncio.wait_for(qmp.execute('quit'), 5)
        try:
            await asyncio.wait_for(proc.wait(), _QUIT_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        self._proc = proc     # keeps its return code: power state off

    async def reset(self) -> None:
        """Hard reset: a new boot, with the boot device the BMC has now."""
        await self.power_off()
        await self.power_on()

    async def soft_off(self) -> None:
        """ACPI power button: the guest decides (a ramdisk without acpid ignores it)."""
        if self._qmp is not None and self.running:
            await self._qmp.execute('system_powerdown')

    async def nmi(self) -> None:
        if self._qmp is not None and self.running:
            await self._qmp.execute('inject-nmi')
