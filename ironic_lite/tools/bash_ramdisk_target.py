"""A real iSCSI target for the bash ramdisk simulator: ``tgtd`` (Debian ``tgt``) on loopback.

``tgtd -f --iscsi portal=ADDR:PORT -C N`` needs no kernel module. Each instance gets its own
control port ``N`` (its socket is ``/var/run/tgtd/socket.N``) and its own iSCSI port, so many
targets run side by side. ``tgtd`` ignores SIGTERM while targets exist: :meth:`stop` deletes
the LUN and the target, then the system, and kills it only if it still lingers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time

LOG = logging.getLogger(__name__)

_SOCKET_DIR = '/var/run/tgtd'
_CONTROL_RANGE = (2000, 32000)  # tgtd accepts -C 0..32767


class TargetError(Exception):
    pass


def free_port(address: str = '127.0.0.1') -> int:
    """A TCP port nobody listens on right now (the caller binds it soon after)."""
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


async def _run(*cmd: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode, out.decode(errors='replace').strip()


class IscsiTarget:
    """Expose ``disk`` (a file) as LUN 1 of target ``iqn`` on ``address:port``."""

    def __init__(self, disk: str, iqn: str, address: str = '127.0.0.1', port: int = 0,
                 start_timeout: float = 15.0) -> None:
        self.disk = disk
        self.iqn = iqn
        self.address = address
        self.port = port
        self.control: int | None = None
        self.start_timeout = start_timeout
        self._proc: asyncio.subprocess.Process | None = None

    async def _adm(self, *args: str) -> tuple[int, str]:
        return await _run('tgtadm', '-C', str(self.control), *args)

    async def _spawn(self) -> None:
        if not self.port:
            self.port = free_port(self.address)
        while True:
            self.control = random.randint(*_CONTROL_RANGE)
            if not os.path.exists(os.path.join(_SOCKET_DIR, f'socket.{self.control}')):
                break
        portal = (f'[{self.address}]:{self.port}' if ':' in self.address
                  else f'{self.address}:{self.port}')
        self._proc = await asyncio.create_subprocess_exec(
            'tgtd', '-f', '--iscsi', f'portal={portal}', '-C', str(self.control),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)

    async def _ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.returncode is not None:
                return False
            rc, _ = await self._adm('--op', 'show', '--mode', 'sys')
            if rc == 0:
                return True
            await asyncio.sleep(0.05)
        return False

    async def start(self) -> IscsiTarget:
        for _attempt in range(3):  # a port or control number taken meanwhile: try others
            await self._spawn()
            if await self._ready():
                break
            await self._kill(remove_socket=False)  # the socket may be another tgtd's
            self.port = 0
        else:
            raise TargetError('tgtd did not start (is the "tgt" package installed?)')
        steps = [
            ('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', self.iqn),
            ('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1',
             '--lun', '1', '-b', self.disk),
            ('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL'),
        ]
        for step in steps:
            rc, out = await self._adm(*step)
            if rc != 0:
                await self.stop()
                raise TargetError(f'tgtadm {" ".join(step)} failed: {out}')
        LOG.debug('iSCSI target %s on %s:%s (control %s) exposes %s', self.iqn, self.address,
                  self.port, self.control, self.disk)
        return self

    async def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None:
            await self._adm('--lld', 'iscsi', '--op', 'delete', '--mode', 'logicalunit',
                            '--tid', '1', '--lun', '1')
            await self._adm('--lld', 'iscsi', '--op', 'delete', '--mode', 'target',
                            '--tid', '1', '--force')
            await self._adm('--op', 'delete', '--mode', 'system')
            try:
                await asyncio.wait_for(self._proc.wait(), timeout)
            except TimeoutError:
                LOG.warning('tgtd (control %s) did not stop; killing it', self.control)
        await self._kill()

    async def _kill(self, remove_socket: bool = True) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if not remove_socket:
            return
        for suffix in ('', '.lock'):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(_SOCKET_DIR, f'socket.{self.control}{suffix}'))

    async def __aenter__(self) -> IscsiTarget:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
