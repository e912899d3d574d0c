"""The ``iscsi`` deploy interface: the bash deploy ramdisk exposes its disk over iSCSI.

1. ``prepare``: power off, a fresh random deploy key (only its salted hash is stored, in
   ``driver_internal_info['deploy_key_hash']``), ramdisk boot through the boot interface with
   ``deployment_key``, ``iscsi_target_iqn`` (``iqn.2008-10.org.openstack:<uuid>``) and
   ``whole_disk_image`` (0/1) on its kernel command line.
2. ``deploy``: the instance image is cached (master cache → ``[pxe]images_path/<uuid>/disk``)
   and checked against ``instance_info/root_gb`` (partition images) or
   ``properties/local_gb`` (whole-disk images); the node reboots into the ramdisk;
   ``wait call-back``.
3. The ramdisk posts ``pass_deploy_info`` ``{address, key, iqn, error[, port, lun,
   notify_port]}`` (the API refuses bad keys before casting); under the node's lock,
   :meth:`ISCSIDeploy.pass_deploy_info` checks again and a worker writes the image
   (``disk_writer``; partition images laid out by ``disk_layout``; the config drive and
   ``preserve_ephemeral`` handled by ``disk_deploy``/``configdrive_partition``), prepares the
   instance boot, sends ``done`` to ``address:notify_port`` (10000), reboots the node: ``active``.
   Local boot of a partition image goes back to ``wait call-back`` until the ramdisk posts
   ``pass_bootloader_install_info``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from typing import Any, ClassVar

import tenacity

from ironic_lite.common import deploy_key, exception, image_cache, image_format, states
from ironic_lite.common import image_service as images
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import disk_deploy, disk_layout, disk_writer, pxe_utils

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
IQN_PREFIX = pxe_utils.ISCSI_IQN_PREFIX
PROGRESS_FIELD = 'deploy_write_progress'
_PROGRESS_INTERVAL = 1.0


def image_dir(conf, node_uuid: str) -> str:
    return os.path.join(conf.pxe.images_path, node_uuid)


def image_path(conf, node_uuid: str) -> str:
    return os.path.join(image_dir(conf, node_uuid), 'disk')


def is_whole_disk(node) -> bool:
    info = node.instance_info or {}
    return not (info.get('kernel') and info.get('ramdisk'))


def _int(info: dict, key: str, where: str, default: int = 0) -> int:
    value = info.get(key)
    if value in (None, ''):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise exception.InvalidParameterValue(
            err=f'{where}/{key} must be a non-negative integer, not {value!r}')
    return number


async def notify_ramdisk(address: str, port: int, timeout: float) -> None:
    """The bash ramdisk protocol: connect to ``address:port`` and send ``done``.

    The ramdisk starts listening only once its callback's POST has returned, and the conductor
    may be faster (seen on a machine: the "done" after ``pass_bootloader_install_info`` was
    refused and the deploy failed): a refused connection is tried again for ``timeout`` s.
    """
    try:
        async for attempt in tenacity.AsyncRetrying(
                stop=tenacity.stop_after_delay(timeout), wait=tenacity.wait_fixed(0.2),
                retry=tenacity.retry_if_exception_type(ConnectionRefusedError), reraise=True):
            with attempt:
                _, writer = await asyncio.wait_for(asyncio.open_connection(address, port),
                                                   timeout)
        writer.write(b'done')
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    except (TimeoutError, OSError) as e:
        raise exception.InstanceDeployFailure(
            reason=f'could not notify the deploy ramdisk at {address}:{port}: '
                   f'{e or e.__class__.__name__}') from None


class ISCSIDeploy(base.DeployInterface):
    """Deploy through the bash ramdisk's iSCSI target."""

    passthru_methods: ClassVar[dict[str, dict[str, Any]]] = {
        'pass_deploy_info': {'http_methods': ['POST'], 'async': True, 'attach': False,
                             'description': 'Bash ramdisk: its iSCSI target is ready.'},
        'pass_bootloader_install_info': {
            'http_methods': ['POST'], 'async': True, 'attach': False,
            'description': 'Bash ramdisk: result of the boot loader installation.'},
    }

    def get_properties(self) -> dict[str, str]:
        return {}

    async def validate(self, task) -> None:
        node, conf = task.node, task.conf
        await task.driver.boot.validate(task)
        info = node.instance_info or {}
        if not info.get('image_source'):
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} is missing instance_info/image_source, needed to '
                    'deploy it')
        # unknown schemes, and file:// paths outside [conductor]file_url_allowed_paths
        await images.validate_source(info['image_source'], conf)
        if not is_whole_disk(node) and not _int(info, 'root_gb', 'instance_info'):
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} deploys a partition image (instance_info kernel and '
                    'ramdisk are set) but instance_info/root_gb is missing or 0')
        for key in ('swap_mb', 'ephemeral_gb'):
            _int(info, key, 'instance_info')
        if info.get('ephemeral_format') not in (None, ''):
            disk_layout.check_fs_format(info['ephemeral_format'])
        _int(node.properties or {}, 'local_gb', 'properties')
        disk_deploy.check_preserve_ephemeral(node, is_whole_disk(node))
        pxe_utils.boot_option(node, conf)

    # -- prepare / deploy ---------------------------------------------------------------
    async def prepare(self, task) -> None:
        node = task.node
        if node.provision_state != states.DEPLOYING:
            return
        await task.driver.power.set_power_state(task, states.POWER_OFF)
        await task.save(power_state=states.POWER_OFF, target_power_state=None)
        key = deploy_key.new_key()
        await task.set_driver_internal_info(**{
            deploy_key.HASH_FIELD: deploy_key.hash_key(key), PROGRESS_FIELD: None,
            'is_whole_disk_image': is_whole_disk(node)})
        # whole_disk_image: with local boot, the bash ramdisk installs a boot loader only into
        # a partition image (a whole-disk image brings its own).
        await task.driver.boot.prepare_ramdisk(task, {
            'deployment_key': key, 'iscsi_target_iqn': IQN_PREFIX + node.uuid,
            'whole_disk_image': int(is_whole_disk(node))})

    async def deploy(self, task) -> str | None:
        node, conf = task.node, task.conf
        info = node.instance_info or {}
        dest = image_path(conf, node.uuid)
        await asyncio.to_thread(os.makedirs, image_dir(conf, node.uuid), exist_ok=True)
        await image_cache.InstanceImageCache(conf=conf).fetch_image(
            info['image_source'], dest, image_info=info, force_raw=conf.force_raw_images,
            progress=image_cache.NodeProgress(task).callback('instance_image'))
        fmt = await image_format.detect_format(dest, href=info['image_source'])
        self._check_fits(node, fmt.virtual_size)
        await task.driver.power.reboot(task)
        # The API shows what the machine does (seen on a real machine: "power off" while it
        # ran the ramdisk, until the next power sync).
        await task.save(power_state=states.POWER_ON, target_power_state=None)
        return states.DEPLOYWAIT

    @staticmethod
    def _check_fits(node, size: int) -> None:
        info, props = node.instance_info or {}, node.properties or {}
        if is_whole_disk(node):
            limit, what = _int(props, 'local_gb', 'properties') * GiB, 'properties/local_gb'
        else:
            limit, what = _int(info, 'root_gb', 'instance_info') * GiB, 'instance_info/root_gb'
        if limit and size > limit:
            raise exception.InstanceDeployFailure(
                reason=f'the image of node {node.uuid} needs {size} bytes but {what} allows '
                       f'only {limit} bytes')

    async def tear_down(self, task) -> None:
        await task.driver.power.set_power_state(task, states.POWER_OFF)

    async def clean_up(self, task) -> None:
        await asyncio.to_thread(shutil.rmtree, image_dir(task.conf, task.node.uuid), True)
        await task.driver.boot.clean_up_ramdisk(task)
        await task.driver.boot.clean_up_instance(task)
        await task.set_driver_internal_info(**{deploy_key.HASH_FIELD: None})

    # -- callbacks (vendor passthru, under the node's exclusive lock) --------------------
    def _accept(self, task, method: str, data: dict) -> bool:
        node = task.node
        if node.provision_state != states.DEPLOYWAIT:
            LOG.warning('Node %s: %s ignored in state %s', node.uuid, method,
                        node.provision_state)
            return False
        if not deploy_key.verify(data.get('key'),
                                 (node.driver_internal_info or {}).get(deploy_key.HASH_FIELD)):
            LOG.warning('Node %s: %s with a wrong deploy key ignored', node.uuid, method)
            return False
        return True

    async def passthru(self, task, method: str, data: dict) -> None:
        if method not in self.passthru_methods:
            raise exception.InvalidParameterValue(
                err=f'Unsupported method ({method}) passed through to the iscsi deploy.')
        await getattr(self, method)(task, data)

    async def pass_deploy_info(self, task, data: dict) -> None:
        if not self._accept(task, 'pass_deploy_info', data):
            return
        if data.get('error'):
            raise exception.InstanceDeployFailure(
                reason=f"the deploy ramdisk reported an error: {data['error']}")
        await task.process_event('resume')
        await self._spawn(task, self._continue_deploy, data)

    async def pass_bootloader_install_info(self, task, data: dict) -> None:
        if not self._accept(task, 'pass_bootloader_install_info', data):
            return
        if data.get('status') != 'SUCCEEDED' or data.get('error'):
            raise exception.InstanceDeployFailure(
                reason='the deploy ramdisk failed to install the boot loader: '
                       f"{data.get('error') or data.get('status')}")
        await task.process_event('resume')
        await self._spawn(task, self._finish, data)

    @staticmethod
    async def _spawn(task, fn, data: dict) -> None:
        """The write runs in a worker that keeps the lock; with no free worker, here."""
        try:
            task.spawn_after(fn, data)
        except exception.NoFreeConductorWorker:
            LOG.info('Node %s: no free worker, continuing the deploy in the callback',
                     task.node.uuid)
            await fn(task, data)

    # -- the work ------------------------------------------------------------------------
    async def _continue_deploy(self, task, data: dict) -> None:
        try:
            node, conf = task.node, task.conf
            target = disk_writer.Target(
                address=data['address'], port=int(data.get('port') or conf.iscsi.portal_port),
                iqn=data.get('iqn') or IQN_PREFIX + node.uuid, lun=int(data.get('lun') or 1))
            values = await disk_deploy.write_image(
                task, image_path(conf, node.uuid), target, is_whole_disk(node),
                self._progress_saver(task))
            await task.set_driver_internal_info(**values)
            node, conf = task.node, task.conf
            local = pxe_utils.boot_option(node, conf) == 'local'
            if local and not is_whole_disk(node):
                # The ramdisk installs the boot loader, then posts
                # pass_bootloader_install_info: the node must wait for it before "done".
                await task.process_event('wait')
                await self._notify(task, data)
                return
            await self._finish(task, data)
        except Exception as e:
            await self._fail(task, e)

    async def _finish(self, task, data: dict) -> None:
        try:
            await task.driver.boot.prepare_instance(task)
            await self._notify(task, data)
            await task.driver.power.reboot(task)
            await task.save(power_state=states.POWER_ON, target_power_state=None)
            await asyncio.to_thread(shutil.rmtree, image_dir(task.conf, task.node.uuid),
                                    True)
            await task.set_driver_internal_info(**{deploy_key.HASH_FIELD: None})
            await task.resume_steps()  # remaining deploy steps, then active
            LOG.info('Node %s deployed through iSCSI', task.node.uuid)
        except Exception as e:
            await self._fail(task, e)

    async def _notify(self, task, data: dict) -> None:
        conf = task.conf
        port = int(data.get('notify_port') or conf.iscsi.ramdisk_notify_port)
        await notify_ramdisk(data['address'], port, conf.iscsi.notify_timeout)

    async def _fail(self, task, err: Exception) -> None:
        """``deploy failed`` with a clear last_error; the node's files are removed."""
        if not isinstance(err, exception.IronicLiteException):
            LOG.exception('Unexpected error in the iSCSI deploy of node %s', task.node.uuid)
        message = f'Deploy failed: {err or err.__class__.__name__}'
        await task.fail_steps(message)  # deploy failed; this interface's clean_up runs

    @staticmethod
    def _progress_saver(task):
        last = {'t': 0.0}

        async def save(stage: str, percent: float, total: int) -> None:
            now = time.monotonic()
            if percent < 100 and now - last['t'] < _PROGRESS_INTERVAL:
                return
            last['t'] = now
            await task.set_driver_internal_info(**{PROGRESS_FIELD: {
                'stage': stage, 'percent': round(percent, 1), 'bytes_total': total}})
        return save
