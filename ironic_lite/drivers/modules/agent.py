"""The ``direct`` deploy interface: an ironic-python-agent ramdisk writes the image itself.

Flow (as upstream's agent deploy):

* ``prepare``: forget everything of an earlier ramdisk (token, URL, command state), then
  ``boot.prepare_ramdisk``.
* ``deploy``: work out what the agent downloads (``image_info``: id, urls, checksum /
  os_hash, disk_format) — the image source itself for http(s) sources with
  ``[agent]image_download_source = http``, otherwise a copy in the conductor's HTTP image
  cache (``[deploy]http_root``/``agent_images/<node>``, hard-linked from the instance master
  cache, converted to raw with ``[DEFAULT]force_raw_images``) — then reboot the node into the
  ramdisk and wait in ``wait call-back``.
* ``heartbeat`` (under the node's exclusive lock, cast from ``POST /v1/heartbeat``): the first
  one sends ``standby.prepare_image`` (``wait=false``); later ones poll ``GET /v1/commands/``
  and touch ``provision_updated_at`` while it runs (``[conductor]deploy_callback_timeout``
  counts from the last touch). An agent error fails the deploy with the agent's message.
  When the image is written a worker finishes the deploy: power off (the agent's
  ``standby.power_off``, then the power interface if the node is still on), boot device disk
  or netboot config (``boot.prepare_instance``), power on, ``active``.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import urllib.parse
from typing import TYPE_CHECKING, Any

import tenacity

from ironic_lite.common import exception, states
from ironic_lite.common import image_cache as cache
from ironic_lite.common import image_service as images
from ironic_lite.db import models
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import agent_client

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)

AGENT_IMAGE_DIR = 'agent_images'
# driver_internal_info keys of one ramdisk run; all go when a new ramdisk boots or the deploy
# ends (a later ramdisk must look up again and gets a new token).
_RUN_KEYS = ('agent_secret_token', 'agent_url', 'agent_version', 'agent_last_heartbeat',
             'agent_verify_ca', 'agent_deploy_started', 'agent_image_info')
# What identifies the agent of the run that just ended (its token, URL and TLS certificate):
# gone once the deploy is over, as upstream's wipe_token_and_url.
_END_KEYS = ('agent_secret_token', 'agent_url', 'agent_verify_ca', 'agent_deploy_started')

PROPERTIES = {
    'image_download_source': 'Where the agent downloads the image: "http" (the http(s) '
                             'image source itself) or "local" (the conductor\'s HTTP image '
                             'cache). Optional; [agent]image_download_source by default.',
    'agent_verify_ca': 'How the TLS certificate of an https agent that did not send its own '
                       'is verified: true (system CAs), false (not verified) or the path of '
                       'a CA bundle or directory. Optional; [agent]verify_ca by default.',
}


def _download_source(task: Task) -> str:
    node = task.node
    mode = ((node.instance_info or {}).get('image_download_source')
            or (node.driver_info or {}).get('image_download_source')
            or task.conf.agent.image_download_source)
    if mode not in ('http', 'local'):
        raise exception.InvalidParameterValue(
            err=f'Invalid image_download_source {mode!r} for node {node.uuid}: expected '
                '"http" or "local"')
    return mode


def _is_http(href: str) -> bool:
    return urllib.parse.urlsplit(href).scheme.lower() in ('http', 'https')


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class AgentDeploy(base.DeployInterface):
    """Deploy through the IPA protocol (``direct``)."""

    def __init__(self) -> None:
        self._agent: agent_client.AgentClient | None = None

    def _agent_client(self, task: Task) -> agent_client.AgentClient:
        """This conductor's agent client (one per loaded interface, so per conductor)."""
        if self._agent is None:
            self._agent = agent_client.AgentClient(task.conf)
        return self._agent

    async def close(self) -> None:
        if self._agent is not None:
            await self._agent.close()

    def get_properties(self) -> dict[str, str]:
        return dict(PROPERTIES)

    # -- validation -----------------------------------------------------------------------
    async def validate(self, task: Task) -> None:
        node = task.node
        await task.driver.boot.validate(task)
        info = node.instance_info or {}
        source = info.get('image_source')
        if not source:
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} is missing instance_info/image_source: the direct '
                    'deploy needs the image to write')
        mode = _download_source(task)
        # unknown schemes, and file:// paths outside [conductor]file_url_allowed_paths
        await images.validate_source(source, task.conf)
        if not images.is_glance_image(source):
            checksum = info.get('image_checksum')
            if not (checksum or info.get('image_os_hash_value')):
                raise exception.MissingParameterValue(
                    err=f'Node {node.uuid} is missing instance_info/image_checksum (or '
                        'image_os_hash_algo + image_os_hash_value): the agent verifies the '
                        'image it writes')
            if not (checksum and '://' in checksum):
                images.parse_checksum(checksum, info.get('image_os_hash_algo'),
                                      info.get('image_os_hash_value'))
        if (mode == 'local' or not _is_http(source)) and not task.conf.deploy.http_url:
            raise exception.MissingParameterValue(
                err='[deploy]http_url is not set: the direct deploy serves cached images '
                    f'to the agent of node {node.uuid} over HTTP')

    # -- deploy ---------------------------------------------------------------------------
    async def prepare(self, task: Task) -> None:
        await task.set_driver_internal_info(**dict.fromkeys(_RUN_KEYS))
        await task.driver.boot.prepare_ramdisk(task, {})

    async def deploy(self, task: Task) -> str:
        image_info = await self._image_info(task)
        await task.set_driver_internal_info(agent_image_info=image_info)
        await task.driver.power.reboot(task)
        await task.save(power_state=states.POWER_ON, target_power_state=None)
        return states.DEPLOYWAIT

    async def _image_info(self, task: Task) -> dict[str, Any]:
        node, conf = task.node, task.conf
        info = node.instance_info or {}
        source = info['image_source']
        image_id = (images.GlanceImageService.image_id(source)
                    if images.is_glance_image(source)
                    else os.path.basename(urllib.parse.urlsplit(source).path) or source)
        result: dict[str, Any] = {
            'id': image_id, 'urls': [source], 'disk_format': info.get('image_disk_format'),
            'container_format': 'bare', 'stream_raw_images': True,
            'image_type': 'whole-disk-image', 'node_uuid': node.uuid,
        }
        if _download_source(task) == 'http' and _is_http(source):
            checksum = await images.resolve_checksum(
                info.get('image_checksum'), source, os_hash_algo=info.get('image_os_hash_algo'),
                os_hash_value=info.get('image_os_hash_value'), conf=conf)
        else:
            path = self._image_path(task)
            await asyncio.to_thread(os.makedirs, os.path.dirname(path), exist_ok=True)
            await cache.InstanceImageCache(conf=conf).fetch_image(
                source, path, image_info=info, force_raw=conf.force_raw_images,
                progress=cache.NodeProgress(task).callback('instance_image'))
            if conf.force_raw_images:
                # The agent gets the converted file: its checksum is computed here.
                checksum = images.Checksum('sha256', await asyncio.to_thread(_sha256, path))
                result['disk_format'] = 'raw'
            else:
                checksum = await images.resolve_checksum(
                    info.get('image_checksum'), source,
                    os_hash_algo=info.get('image_os_hash_algo'),
                    os_hash_value=info.get('image_os_hash_value'), conf=conf)
                if checksum is None:   # Glance: its published os_hash / md5
                    shown = await images.get_image_service(source, conf).show(source)
                    checksum = shown.expected_checksum()
                    result['disk_format'] = result['disk_format'] or shown.disk_format
            result['urls'] = [f'{conf.deploy.http_url.rstrip("/")}/{AGENT_IMAGE_DIR}/'
                              f'{node.uuid}']
        if checksum is not None:
            result['os_hash_algo'], result['os_hash_value'] = checksum.algo, checksum.value
            result['checksum'] = checksum.value if checksum.algo == 'md5' else None
        return result

    @staticmethod
    def _image_path(task: Task) -> str:
        return os.path.join(task.conf.deploy.http_root, AGENT_IMAGE_DIR, task.node.uuid)

    # -- callbacks ------------------------------------------------------------------------
    async def heartbeat(self, task: Task, callback_url: str,
                        agent_version: str | None = None, **kwargs: Any) -> None:
        node = task.node
        if node.provision_state != states.DEPLOYWAIT:
            LOG.debug('Heartbeat of node %s in %s: nothing to do', node.uuid,
                      node.provision_state)
            return
        client = self._agent_client(task)
        info = node.driver_internal_info or {}
        try:
            if not info.get('agent_deploy_started'):
                await self._start_writing(task, client)
                return
            commands = await client.get_commands_status(node)
        except agent_client.AgentConnectionFailed as e:
            await self._fail(task, f'Deploy failed: the agent of node {node.uuid} '
                                   f'is not reachable: {e}')
            return
        except Exception as e:
            await self._fail(task, f'Deploy failed: {e or type(e).__name__}')
            return
        command = next((c for c in reversed(commands)
                        if c.get('command_name') == 'prepare_image'), None)
        if command is None:
            await self._fail(task, f'Deploy failed: the agent of node {node.uuid} has no '
                                   'record of the prepare_image command (did the ramdisk '
                                   'restart?)')
        elif command.get('command_status') == 'RUNNING':
            await task.save(provision_updated_at=models.utcnow())
        elif command.get('command_status') == 'SUCCEEDED':
            try:
                task.reserve_worker()
            except exception.NoFreeConductorWorker:
                LOG.info('Node %s: image written, no free worker to finish; the next '
                         'heartbeat retries', node.uuid)
                return
            await task.process_event('resume', callback=self._finish)
        else:
            await self._fail(task, 'Deploy failed: the agent reported an error in '
                                   f'prepare_image: {agent_client.command_error(command)}')

    async def _start_writing(self, task: Task, client: agent_client.AgentClient) -> None:
        node = task.node
        image_info = (node.driver_internal_info or {}).get('agent_image_info')
        if not image_info:
            raise exception.InstanceDeployFailure(
                reason=f'node {node.uuid} has no image information for the agent')
        result = await client.prepare_image(node, image_info)
        if result.get('command_status') == 'FAILED':
            await self._fail(task, 'Deploy failed: the agent reported an error in '
                                   f'prepare_image: {agent_client.command_error(result)}')
            return
        info = dict(node.driver_internal_info)
        info['agent_deploy_started'] = True
        await task.save(driver_internal_info=info, provision_updated_at=models.utcnow())
        LOG.info('Node %s: the agent is writing image %s', node.uuid, image_info.get('id'))

    async def _finish(self, task: Task) -> None:
        """In a worker, holding the lock: ramdisk off, instance boot, power on, active."""
        node = task.node
        try:
            await self._power_off(task)
            await task.driver.boot.prepare_instance(task)
            await task.driver.boot.clean_up_ramdisk(task)
            await task.driver.power.set_power_state(task, states.POWER_ON)
            await asyncio.to_thread(_unlink, self._image_path(task))
            info = {k: v for k, v in task.node.driver_internal_info.items()
                    if k not in _END_KEYS}
            await task.save(power_state=states.POWER_ON, target_power_state=None,
                            driver_internal_info=info)
            await task.resume_steps()  # remaining deploy steps, then active
        except Exception as e:
            if not isinstance(e, exception.IronicLiteException):
                LOG.exception('Unexpected error finishing the deploy of node %s', node.uuid)
            await self._fail(task, f'Deploy failed while booting the instance: {e}')
            return
        LOG.info('Node %s: deployed by its agent, now active', node.uuid)

    async def _power_off(self, task: Task) -> None:
        conf = task.conf.agent
        try:
            await self._agent_client(task).power_off(task.node)
        except Exception as e:  # the agent may drop the connection while powering off
            LOG.info('Node %s: soft power off through the agent failed (%s); using the '
                     'power interface', task.node.uuid, e)
        else:
            if conf.post_deploy_get_power_state_retries > 0:
                polls = tenacity.AsyncRetrying(
                    retry=tenacity.retry_if_result(lambda state: state != states.POWER_OFF),
                    stop=tenacity.stop_after_attempt(conf.post_deploy_get_power_state_retries),
                    wait=tenacity.wait_fixed(conf.post_deploy_get_power_state_retry_interval),
                    retry_error_callback=lambda _: None)
                if await polls(task.driver.power.get_power_state, task) == states.POWER_OFF:
                    return
        await task.driver.power.set_power_state(task, states.POWER_OFF)

    async def _fail(self, task: Task, message: str) -> None:
        await task.fail_steps(message)  # deploy failed; this interface's clean_up runs

    # -- tear down ------------------------------------------------------------------------
    async def tear_down(self, task: Task) -> None:
        await task.driver.power.set_power_state(task, states.POWER_OFF)

    async def clean_up(self, task: Task) -> None:
        await task.driver.boot.clean_up_ramdisk(task)
        await task.driver.boot.clean_up_instance(task)
        await asyncio.to_thread(_unlink, self._image_path(task))
        await task.set_driver_internal_info(**dict.fromkeys(_END_KEYS))
