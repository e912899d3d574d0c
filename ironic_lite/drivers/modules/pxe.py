"""The ``pxe`` boot interface: pxelinux (BIOS) or GRUB (UEFI) over TFTP.

``prepare_ramdisk`` starts from a clean slate (the node's folder, MAC links and netboot flag
of any earlier attempt are removed first), then: deploy kernel/ramdisk (and, while deploying a
netbooted partition image, the instance kernel/ramdisk) fetched through the master TFTP image
cache and hard-linked into ``<tftp_root>/<node uuid>/``; the per-node config rendered from a
Jinja2 template with the deploy ramdisk's kernel parameters; per-MAC links for every
PXE-enabled port; DHCP boot options through ``[dhcp]dhcp_provider``; boot device PXE. If any
step fails, everything of the node is removed again before the error propagates, so a later
deploy can never boot what a failed one left behind. Layout: ``pxe_utils``.

``prepare_instance`` re-renders the config for the instance (netboot) or removes it (local
boot) and sets the boot device persistently. ``clean_up_ramdisk`` keeps a netbooted instance's
config; ``clean_up_instance`` removes everything of the node. Both are idempotent.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any, ClassVar

from oslo_config import cfg
from oslo_utils import strutils

from ironic_lite.common import boot_devices, exception, states
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import dhcp, pxe_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)

PROPERTIES = {
    'deploy_kernel': 'Glance image UUID or URL (http://, https://, file://) of the deploy '
                     'kernel. Required.',
    'deploy_ramdisk': 'Glance image UUID or URL (http://, https://, file://) of the deploy '
                      'ramdisk. Required.',
    'force_persistent_boot_device': 'True to set the boot device to PXE persistently (not '
                                    'just for the next boot) while deploying. Optional.',
}


class PXEBoot(base.BootInterface):
    """PXE boot through TFTP (``[pxe]tftp_root``)."""

    ipxe_enabled: ClassVar[bool] = False

    def get_properties(self) -> dict[str, str]:
        return dict(PROPERTIES)

    # -- validation -----------------------------------------------------------------------
    def _check_conf(self, conf: cfg.ConfigOpts) -> None:
        if not conf.pxe.tftp_root:
            raise exception.MissingParameterValue(
                err='[pxe]tftp_root is not set: the pxe boot interface needs a TFTP root')

    async def validate(self, task: Task) -> None:
        """Raise naming exactly what is missing or wrong; writes nothing (shared lock)."""
        node, conf = task.node, task.conf
        self._check_conf(conf)
        pxe_utils.deploy_images(node, conf, self.ipxe_enabled)
        if not dhcp.pxe_macs(task):
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} has no port with pxe_enabled=True: nothing could '
                    'PXE-boot it')
        pxe_utils.boot_mode(node)
        pxe_utils.root_device_hints(node)
        if pxe_utils.netboots_instance(node, conf):
            pxe_utils.check_missing(
                {'image_source': (node.instance_info or {}).get('image_source')},
                'instance_info', f'netbooting node {node.uuid}')
            pxe_utils.instance_images(node, conf, self.ipxe_enabled)

    # -- helpers --------------------------------------------------------------------------
    def _write_shared_files(self, conf: cfg.ConfigOpts) -> None:
        """Files of the boot root shared by all nodes (none for pxe). Runs in a thread."""

    async def _write_config(self, task: Task, mode: str, labels: tuple[str, str],
                            kernel_params: str, uefi: bool) -> None:
        node, conf, ipxe = task.node, task.conf, self.ipxe_enabled
        params: dict[str, Any] = {
            'mode': mode,
            'node_uuid': node.uuid,
            'boot_mode': 'uefi' if uefi else 'bios',
            'kernel': pxe_utils.image_location(conf, ipxe, node.uuid, labels[0]),
            'ramdisk': pxe_utils.image_location(conf, ipxe, node.uuid, labels[1]),
            'kernel_params': kernel_params,
            'ipxe_timeout_ms': conf.pxe.ipxe_timeout * 1000,
        }
        template = pxe_utils.template_path(conf, ipxe, uefi)
        links = [path for mac in dhcp.pxe_macs(task)
                 for path in pxe_utils.mac_link_paths(conf, ipxe, mac, uefi)]
        if not links:
            LOG.warning('Node %s has no PXE-enabled port: its boot config has no MAC link',
                        node.uuid)

        def work() -> None:
            content = pxe_utils.render_template(template, params)
            self._write_shared_files(conf)
            pxe_utils.write_config(conf, ipxe, node.uuid, content, links)

        await asyncio.to_thread(work)
        LOG.debug('Node %s: %s boot config (%s) written', node.uuid, mode, template)

    async def _update_dhcp(self, task: Task, uefi: bool) -> None:
        conf = task.conf
        provider = dhcp.get_provider(conf)
        if isinstance(provider, dhcp.NoneDHCPApi):
            return
        options = await pxe_utils.dhcp_options(task, self.ipxe_enabled, uefi)
        await provider.update_dhcp_opts(task, options)

    async def _set_netboot_flag(self, task: Task, value: bool) -> None:
        current = bool((task.node.driver_internal_info or {}).get(pxe_utils.NETBOOT_FLAG))
        if current != value:
            await task.set_driver_internal_info(**{pxe_utils.NETBOOT_FLAG: value or None})

    async def _clean_up_all(self, task: Task) -> None:
        """Links, folder (configs and images), DHCP entries and flag of the node."""
        conf = task.conf
        await asyncio.to_thread(pxe_utils.remove_node_files, conf, self.ipxe_enabled,
                                task.node.uuid)
        await dhcp.get_provider(conf).clean_dhcp_opts(task)
        await self._set_netboot_flag(task, False)

    async def _clean_up_after_failure(self, task: Task, what: str) -> None:
        try:
            await self._clean_up_all(task)
        except Exception:
            LOG.exception('Node %s: clean-up after a failed %s failed', task.node.uuid, what)

    # -- the interface --------------------------------------------------------------------
    async def prepare_ramdisk(self, task: Task, ramdisk_params: dict[str, Any]) -> None:
        node, conf = task.node, task.conf
        self._check_conf(conf)
        try:
            images = pxe_utils.deploy_images(node, conf, self.ipxe_enabled)
            if node.provision_state == states.DEPLOYING:
                images.update(pxe_utils.instance_images(node, conf, self.ipxe_enabled))
            uefi = pxe_utils.boot_mode(node) == 'uefi'
            kernel_params = await pxe_utils.deploy_kernel_params(task, ramdisk_params)
            # No file of an earlier (failed, interrupted) attempt may survive. DHCP entries
            # are rewritten below (cleaning them first would only make dnsmasq churn).
            await asyncio.to_thread(pxe_utils.remove_node_files, conf, self.ipxe_enabled,
                                    node.uuid)
            await self._set_netboot_flag(task, False)
            await pxe_utils.cache_images(task, images)
            await self._write_config(task, 'deploy', pxe_utils.DEPLOY_LABELS, kernel_params,
                                     uefi)
            await self._update_dhcp(task, uefi)
            persistent = strutils.bool_from_string(
                (node.driver_info or {}).get('force_persistent_boot_device', False))
            await task.driver.management.set_boot_device(task, boot_devices.PXE,
                                                         persistent=persistent)
        except BaseException:
            await self._clean_up_after_failure(task, 'ramdisk preparation')
            raise
        LOG.info('Node %s: deploy ramdisk ready to %s-boot', node.uuid,
                 'iPXE' if self.ipxe_enabled else 'PXE')

    async def clean_up_ramdisk(self, task: Task) -> None:
        conf, node = task.conf, task.node
        if (node.driver_internal_info or {}).get(pxe_utils.NETBOOT_FLAG):
            # The config boots the instance now: only the deploy images go.
            folder = pxe_utils.node_dir(conf, self.ipxe_enabled, node.uuid)
            await asyncio.to_thread(pxe_utils.unlink_files,
                                    [os.path.join(folder, label)
                                     for label in pxe_utils.DEPLOY_LABELS])
            return
        await self._clean_up_all(task)

    async def prepare_instance(self, task: Task) -> None:
        node, conf = task.node, task.conf
        uefi = pxe_utils.boot_mode(node) == 'uefi'
        takeover = node.provision_state == states.ACTIVE
        try:
            self._check_conf(conf)
            if pxe_utils.netboots_instance(node, conf):
                await pxe_utils.cache_images(
                    task, pxe_utils.instance_images(node, conf, self.ipxe_enabled))
                info = node.driver_internal_info or {}
                if not (info.get('root_uuid_or_disk_id') or info.get('root_uuid')):
                    LOG.warning('Node %s: the root partition UUID is unknown; the instance '
                                'kernel gets no root= parameter', node.uuid)
                await self._write_config(task, 'netboot', pxe_utils.INSTANCE_LABELS,
                                         pxe_utils.instance_kernel_params(node, conf), uefi)
                await self._update_dhcp(task, uefi)
                await self._set_netboot_flag(task, True)
                device = boot_devices.PXE
            else:
                # Local boot: no PXE config, no images; the node boots from its disk.
                await asyncio.to_thread(pxe_utils.remove_node_files, conf,
                                        self.ipxe_enabled, node.uuid)
                await self._set_netboot_flag(task, False)
                device = boot_devices.DISK
            if not takeover:
                await task.driver.management.set_boot_device(task, device, persistent=True)
        except BaseException:
            if not takeover:
                await self._clean_up_after_failure(task, 'instance boot preparation')
            raise

    async def clean_up_instance(self, task: Task) -> None:
        await self._clean_up_all(task)
