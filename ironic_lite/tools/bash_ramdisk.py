"""Bash deploy ramdisk simulator: the iSCSI half of a real deploy, on loopback.

It does what diskimage-builder's ``deploy-ironic`` ramdisk does once booted:

1. reads its boot parameters — here from the per-node PXE/iPXE config the conductor wrote
   (``ironic_api_url``, ``deployment_id``, ``deployment_key``, ``iscsi_target_iqn``,
   ``boot_option``), as the real one reads its kernel command line;
2. "boots" when the conductor has rebooted the node into it (the node reaches
   ``wait call-back``; the simulator polls the node's states for that);
3. exposes a file as its disk through a real ``tgtd`` target (``bash_ramdisk_target``);
4. ``POST /v1/nodes/<id>/vendor_passthru/pass_deploy_info`` ``{address, key, iqn, error,
   port, notify_port}`` and waits for ``done`` on its notify port (10000 on real hardware;
   a node that fails meanwhile ends the wait, as the conductor powers it off);
5. stops the target; with local boot, "installs the boot loader" and posts
   ``pass_bootloader_install_info``, waiting for ``done`` again (the API refuses it with 400
   for a whole-disk image: nothing more to do).

Many ramdisks run in one process (``run_many``; CLI ``ironic-lite-bash-ramdisk``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from ironic_lite.tools.bash_ramdisk_target import IscsiTarget, TargetError

LOG = logging.getLogger(__name__)
HEADERS = {'X-OpenStack-Ironic-API-Version': '1.31', 'Content-Type': 'application/json'}
_BOOT_LINE_PREFIXES = ('append ', 'kernel ', 'linux ', 'linuxefi ')


class RamdiskError(Exception):
    pass


def parse_kernel_params(config_text: str) -> dict[str, str]:
    """``key=value`` tokens of the deploy entry of a pxelinux, GRUB or iPXE config."""
    params: dict[str, str] = {}
    for line in config_text.splitlines():
        line = line.strip()
        if not line.startswith(_BOOT_LINE_PREFIXES) or 'deployment_id=' not in line:
            continue
        for token in line.split()[1:]:
            key, sep, value = token.partition('=')
            if sep and key not in params:
                params[key] = value
    return params


def config_path(tftp_root: str, mac: str, subdir: str = 'pxelinux.cfg') -> str:
    """Where pxelinux looks for the config of a NIC (``01-aa-bb-…``)."""
    return os.path.join(tftp_root, subdir, '01-' + mac.lower().replace(':', '-'))


def read_boot_params(path: str) -> dict[str, str]:
    with open(path, encoding='utf-8') as f:
        params = parse_kernel_params(f.read())
    missing = [k for k in ('ironic_api_url', 'deployment_id', 'deployment_key',
                           'iscsi_target_iqn') if not params.get(k)]
    if missing:
        raise RamdiskError(f'{path} is not an iSCSI deploy config: no {", ".join(missing)}')
    return params


class BashRamdisk:
    """One simulated node's ramdisk. ``run()`` returns how the deploy ended for it."""

    def __init__(self, config: str, disk: str, *, address: str = '127.0.0.1',
                 iscsi_port: int = 0, notify_port: int = 0, fail_with: str | None = None,
                 boot_timeout: float = 120.0, done_timeout: float = 900.0,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.config, self.disk, self.address = config, disk, address
        self.iscsi_port, self.notify_port = iscsi_port, notify_port
        self.fail_with = fail_with
        self.boot_timeout, self.done_timeout = boot_timeout, done_timeout
        self._session = session
        self._done: asyncio.Queue[bytes] = asyncio.Queue()
        self.params: dict[str, str] = {}
        self.events: list[str] = []

    # -- HTTP -----------------------------------------------------------------------------
    @property
    def node_url(self) -> str:
        return f"{self.params['ironic_api_url'].rstrip('/')}/v1/nodes/" \
               f"{self.params['deployment_id']}"

    async def _post(self, session, method: str, body: dict[str, Any]) -> int:
        """POST a callback; a locked node (409) is retried until the boot deadline."""
        deadline = time.monotonic() + self.boot_timeout
        while True:
            async with session.post(f'{self.node_url}/vendor_passthru/{method}',
                                    data=json.dumps(body), headers=HEADERS) as resp:
                text = await resp.text()
                if resp.status != 409 or time.monotonic() > deadline:
                    self.events.append(f'{method}:{resp.status}')
                    if resp.status >= 400:
                        LOG.info('%s of %s: %s %s', method, self.params['deployment_id'],
                                 resp.status, text)
                    return resp.status
            await asyncio.sleep(0.2)

    async def _wait_booted(self, session) -> None:
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            async with session.get(f'{self.node_url}/states', headers=HEADERS) as resp:
                if resp.status == 200:
                    state = (await resp.json()).get('provision_state')
                    if state == 'wait call-back':
                        return
                    if state in ('deploy failed', 'active', 'available', 'error'):
                        raise RamdiskError(f'node is {state}; nothing to boot into')
            await asyncio.sleep(0.1)
        raise RamdiskError(f'node not in wait call-back after {self.boot_timeout} s')

    # -- notify port ------------------------------------------------------------------------
    async def _on_notify(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        try:
            data = await asyncio.wait_for(reader.read(64), 10)
            await self._done.put(data.strip())
        except TimeoutError:
            pass
        finally:
            writer.close()

    async def _wait_done(self, session) -> None:
        """``done`` on the notify port; a node that fails meanwhile ends the wait (the
        conductor powers a failed node off: a real ramdisk would just stop there)."""
        get = asyncio.ensure_future(self._done.get())
        watch = asyncio.ensure_future(self._watch_failure(session))
        try:
            finished, _ = await asyncio.wait((get, watch), timeout=self.done_timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (get, watch):
                fut.cancel()
        if watch in finished:
            state = watch.result()
            self.events.append(state)
            raise RamdiskError(f'node is {state} while its ramdisk waited for done')
        if get not in finished:
            raise RamdiskError(f'no done within {self.done_timeout} s')
        message = get.result()
        if message != b'done':
            raise RamdiskError(f'unexpected notification {message!r}')
        self.events.append('done')

    async def _watch_failure(self, session) -> str:
        while True:  # once a second: many simulated nodes must not load the API
            await asyncio.sleep(1.0)
            async with session.get(f'{self.node_url}/states', headers=HEADERS) as resp:
                if resp.status == 200:
                    state = (await resp.json()).get('provision_state')
                    if state in ('deploy failed', 'error'):
                        return state

    # -- the ramdisk's life ---------------------------------------------------------------
    async def _read_params(self) -> None:
        """The config appears when the conductor prepares the ramdisk boot."""
        deadline = time.monotonic() + self.boot_timeout
        while True:
            try:
                self.params = await asyncio.to_thread(read_boot_params, self.config)
                return
            except (OSError, RamdiskError):
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)

    async def run(self) -> str:
        await self._read_params()
        own = self._session is None
        session = self._session or aiohttp.ClientSession()
        try:
            await self._wait_booted(session)
            return await self._deploy(session)
        finally:
            if own:
                await session.close()

    async def _deploy(self, session) -> str:
        key, iqn = self.params['deployment_key'], self.params['iscsi_target_iqn']
        if self.fail_with:
            status = await self._post(session, 'pass_deploy_info', {
                'address': self.address, 'key': key, 'iqn': iqn, 'error': self.fail_with})
            return f'error reported ({status})'
        server = await asyncio.start_server(self._on_notify, self.address, self.notify_port)
        notify_port = server.sockets[0].getsockname()[1]
        try:
            target = IscsiTarget(self.disk, iqn, self.address, self.iscsi_port)
            try:
                await target.start()
            except TargetError as e:
                await self._post(session, 'pass_deploy_info', {
                    'address': self.address, 'key': key, 'iqn': iqn,
                    'error': f'Failed to start iscsi target: {e}'})
                raise
            try:
                status = await self._post(session, 'pass_deploy_info', {
                    'address': self.address, 'key': key, 'iqn': iqn, 'error': '',
                    'port': target.port, 'notify_port': notify_port})
                if status != 202:
                    raise RamdiskError(f'pass_deploy_info refused with {status}')
                await self._wait_done(session)
            finally:
                await target.stop()
            if self.params.get('boot_option') != 'local':
                return 'done'
            # A real ramdisk mounts the root partition and runs grub-install here.
            status = await self._post(session, 'pass_bootloader_install_info', {
                'address': self.address, 'key': key, 'status': 'SUCCEEDED', 'error': '',
                'notify_port': notify_port})
            if status == 202:
                await self._wait_done(session)
            return 'done'
        finally:
            server.close()
            await server.wait_closed()


async def run_many(ramdisks: Sequence[BashRamdisk]) -> list[str | BaseException]:
    """Run many simulated ramdisks in this process, sharing one HTTP session."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for ramdisk in ramdisks:
            ramdisk._session = ramdisk._session or session
        return await asyncio.gather(*(r.run() for r in ramdisks), return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='ironic-lite-bash-ramdisk',
        description='Simulate bash iSCSI deploy ramdisks: a real tgtd target per node on '
                    'loopback, pass_deploy_info to the API, wait for "done".')
    parser.add_argument('--node', action='append', required=True, metavar='CONFIG=DISK',
                        help='per-node PXE/iPXE config (or TFTP_ROOT@MAC) and the disk file '
                             'exposing it; repeat for many nodes')
    parser.add_argument('--address', default='127.0.0.1')
    parser.add_argument('--fail-with', help='report this error instead of deploying')
    parser.add_argument('--boot-timeout', type=float, default=120.0)
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format='%(asctime)s %(levelname)s %(message)s')
    ramdisks = []
    for spec in args.node:
        where, sep, disk = spec.rpartition('=')
        if not sep or not where or not disk:
            parser.error(f'--node {spec!r}: expected CONFIG=DISK or TFTP_ROOT@MAC=DISK')
        if '@' in where:
            root, _, mac = where.partition('@')
            where = config_path(root, mac)
        ramdisks.append(BashRamdisk(where, disk, address=args.address,
                                    fail_with=args.fail_with, boot_timeout=args.boot_timeout))
    results = asyncio.run(run_many(ramdisks))
    failed = 0
    for ramdisk, result in zip(ramdisks, results, strict=True):
        failed += isinstance(result, BaseException)
        print(f'{ramdisk.config}: {result!r} {" ".join(ramdisk.events)}', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
