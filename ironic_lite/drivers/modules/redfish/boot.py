"""The ``redfish-virtual-media`` boot interface: the deploy ramdisk on a virtual CD.

``prepare_ramdisk`` starts from a clean slate (an earlier attempt's ISO is removed and the
BMC's CD ejected), fetches the deploy kernel and ramdisk through the master image cache
(``pxe_utils``: hard links into ``<[deploy]http_root>/<node uuid>/``), builds a bootable ISO
9660 image with pycdlib — kernel, ramdisk, GRUB (UEFI) and ISOLINUX (BIOS) configs carrying the
ramdisk's kernel parameters, and an El Torito entry: the EFI system partition image
``[redfish]bootloader`` in UEFI mode, ``[redfish]isolinux_bin`` in BIOS mode — serves it as
``<[deploy]http_url>/<node uuid>/boot.iso``, inserts it into the system's virtual CD through
Redfish (the BMC downloads it) and sets a one-time boot from CD. If any step fails, the ISO,
the node's files and the medium are removed before the error propagates.

``prepare_instance`` ejects the medium and makes the node boot from its disk (local boot;
netbooting an instance over virtual media is not supported). ``clean_up_ramdisk`` and
``clean_up_instance`` eject and remove everything of the node; both are idempotent.
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
from typing import TYPE_CHECKING, Any

import sushy

from ironic_lite.common import boot_devices, exception, states
from ironic_lite.conf import CONF
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import pxe_utils
from ironic_lite.drivers.modules.redfish import utils as redfish_utils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)

ISO_NAME = 'boot.iso'
_CD_TYPES = (sushy.VIRTUAL_MEDIA_CD, sushy.VIRTUAL_MEDIA_DVD)
PROPERTIES = {
    'deploy_kernel': 'Glance image UUID or URL (http://, https://, file://) of the deploy '
                     'kernel. Required.',
    'deploy_ramdisk': 'Glance image UUID or URL (http://, https://, file://) of the deploy '
                      'ramdisk. Required.',
}
_GRUB_CFG = """set default=0
set timeout=5
menuentry "deploy" {{
    linux /vmlinuz {params}
    initrd /initrd
}}
"""
_ISOLINUX_CFG = """default deploy
label deploy
kernel /vmlinuz
append initrd=/initrd {params}
"""


def _boot_loader(mode: str) -> str:
    """The El Torito boot image of ``mode``; names the option when it is unset or missing."""
    option = 'bootloader' if mode == 'uefi' else 'isolinux_bin'
    path = getattr(CONF.redfish, option)
    if not path or not os.path.isfile(path):
        raise exception.MissingParameterValue(
            err=f'[redfish]{option} is {"not set" if not path else f"missing ({path})"}: '
                f'the redfish-virtual-media boot interface needs it to make a {mode} '
                'bootable ISO')
    return path


def build_iso(path: str, kernel: str, ramdisk: str, params: str, mode: str) -> None:
    """Write a bootable ISO (Rock Ridge + Joliet) to ``path``. Blocking: run in a thread."""
    import pycdlib  # only virtual media boot needs it

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge='1.09', vol_ident='VMEDIA_BOOT_ISO')
    try:
        iso.add_file(kernel, '/VMLINUZ.;1', rr_name='vmlinuz', joliet_path='/vmlinuz')
        iso.add_file(ramdisk, '/INITRD.;1', rr_name='initrd', joliet_path='/initrd')
        configs = {('BOOT', 'boot'): None, ('BOOT/GRUB', 'boot/grub'): _GRUB_CFG,
                   ('ISOLINUX', 'isolinux'): _ISOLINUX_CFG}
        for (iso_dir, name), template in configs.items():
            iso.add_directory(f'/{iso_dir}', rr_name=name.rsplit('/', 1)[-1],
                              joliet_path=f'/{name}')
            if template is None:
                continue
            data = template.format(params=params).encode()
            cfg_name = 'grub.cfg' if 'grub' in name else 'isolinux.cfg'
            iso.add_fp(io.BytesIO(data), len(data),
                       f'/{iso_dir}/{cfg_name.upper().replace(".", "_")}.;1',
                       rr_name=cfg_name, joliet_path=f'/{name}/{cfg_name}')
        loader = _boot_loader(mode)
        if mode == 'uefi':
            iso.add_file(loader, '/EFIBOOT.IMG;1', rr_name='efiboot.img',
                         joliet_path='/efiboot.img')
            iso.add_eltorito('/EFIBOOT.IMG;1', efi=True, bootcatfile='/BOOT.CAT;1')
        else:
            iso.add_file(loader, '/ISOLINUX/ISOLINUX.BIN;1', rr_name='isolinux.bin',
                         joliet_path='/isolinux/isolinux.bin')
            ldlinux = os.path.join(os.path.dirname(loader), 'ldlinux.c32')
            if os.path.isfile(ldlinux):   # syslinux 5+ loads it from the ISO
                iso.add_file(ldlinux, '/ISOLINUX/LDLINUX.C32;1', rr_name='ldlinux.c32',
                             joliet_path='/isolinux/ldlinux.c32')
            iso.add_eltorito('/ISOLINUX/ISOLINUX.BIN;1', bootcatfile='/ISOLINUX/BOOT.CAT;1',
                             boot_load_size=4, boot_info_table=True)
        tmp = f'{path}.tmp'
        iso.write(tmp)
        os.replace(tmp, path)
    finally:
        iso.close()


def _cd(system: Any) -> Any:
    """The system's virtual CD/DVD drive (Redfish VirtualMedia under the system)."""
    try:
        collection = system.virtual_media
    except sushy.exceptions.MissingAttributeError:
        collection = None
    for medium in (collection.get_members() if collection else []):
        if set(medium.media_types) & set(_CD_TYPES):
            return medium
    raise sushy.exceptions.MissingAttributeError(attribute='VirtualMedia (a CD or DVD drive)',
                                                 resource=system.path)


def _insert(url: str) -> Any:
    def work(system: Any) -> None:
        medium = _cd(system)
        if medium.inserted:
            medium.eject_media()
        medium.insert_media(url, inserted=True, write_protected=True)
    return work


def _eject(system: Any) -> None:
    medium = _cd(system)
    if medium.inserted or medium.image:
        medium.eject_media()


class RedfishVirtualMediaBoot(base.BootInterface):
    """Boot the deploy ramdisk from an ISO the BMC attaches as a virtual CD."""

    def get_properties(self) -> dict[str, str]:
        return {**PROPERTIES, **redfish_utils.COMMON_PROPERTIES}

    @staticmethod
    def _check_conf(conf: Any) -> None:
        missing = [f'[deploy]{name}' for name in ('http_url', 'http_root')
                   if not getattr(conf.deploy, name)]
        if missing:
            raise exception.MissingParameterValue(
                err=f'{" and ".join(missing)} not set: the redfish-virtual-media boot '
                    'interface serves the boot ISO from an HTTP server')

    async def validate(self, task: Task) -> None:
        node, conf = task.node, task.conf
        redfish_utils.parse_driver_info(node)
        self._check_conf(conf)
        pxe_utils.deploy_images(node, conf, True)
        _boot_loader(pxe_utils.boot_mode(node))
        pxe_utils.root_device_hints(node)
        if pxe_utils.netboots_instance(node, conf):
            raise exception.InvalidParameterValue(
                err=f'Node {node.uuid}: the redfish-virtual-media boot interface supports '
                    'local boot only (instance_info/capabilities boot_option:local)')

    def _iso(self, conf: Any, node_uuid: str) -> tuple[str, str]:
        """(path, URL) of the node's boot ISO."""
        return (os.path.join(pxe_utils.node_dir(conf, True, node_uuid), ISO_NAME),
                '/'.join([conf.deploy.http_url.rstrip('/'), node_uuid, ISO_NAME]))

    async def _clean_up_all(self, task: Task) -> None:
        """Eject the medium, then remove the node's ISO and images."""
        info = redfish_utils.parse_driver_info(task.node)
        await redfish_utils.call(info, 'eject virtual media', _eject)
        await asyncio.to_thread(pxe_utils.remove_node_files, task.conf, True,
                                task.node.uuid)

    async def prepare_ramdisk(self, task: Task, ramdisk_params: dict[str, Any]) -> None:
        node, conf = task.node, task.conf
        self._check_conf(conf)
        info = redfish_utils.parse_driver_info(node)
        try:
            images = pxe_utils.deploy_images(node, conf, True)
            mode = pxe_utils.boot_mode(node)
            params = await pxe_utils.deploy_kernel_params(task, ramdisk_params)
            # No ISO or image of an earlier attempt may survive, nor its medium.
            await self._clean_up_all(task)
            await pxe_utils.cache_images(task, images)
            path, url = self._iso(conf, node.uuid)
            await asyncio.to_thread(build_iso, path, images['deploy_kernel'][1],
                                    images['deploy_ramdisk'][1], params, mode)
            await redfish_utils.call(info, 'insert virtual media', _insert(url))
            await task.driver.management.set_boot_device(task, boot_devices.CDROM,
                                                         persistent=False)
        except BaseException:
            try:
                await self._clean_up_all(task)
            except Exception:
                LOG.exception('Node %s: clean-up after a failed ramdisk preparation failed',
                              node.uuid)
            raise
        LOG.info('Node %s: deploy ISO %s inserted; the node boots from virtual CD next',
                 node.uuid, url)

    async def clean_up_ramdisk(self, task: Task) -> None:
        await self._clean_up_all(task)

    async def prepare_instance(self, task: Task) -> None:
        await self._clean_up_all(task)
        if task.node.provision_state != states.ACTIVE:   # a take-over changes nothing
            await task.driver.management.set_boot_device(task, boot_devices.DISK,
                                                         persistent=True)

    async def clean_up_instance(self, task: Task) -> None:
        await self._clean_up_all(task)
