"""Helpers shared by the ``pxe`` and ``ipxe`` boot interfaces: paths, options, configs, links.

On-disk layout (``<root>`` is ``[pxe]tftp_root`` for pxe and ``[deploy]http_root`` for ipxe;
``<sub>`` is ``[pxe]pxe_config_subdir``, ``pxelinux.cfg``)::

    <root>/<node uuid>/config                  per-node PXE/GRUB config or iPXE script
    <root>/<node uuid>/deploy_kernel|deploy_ramdisk   hard links to [pxe]tftp_master_path
    <root>/<node uuid>/kernel|ramdisk          instance kernel/ramdisk (netboot only)
    <tftp_root>/<sub>/01-aa-bb-cc-dd-ee-ff     pxe: symlink -> ../<node uuid>/config
    <tftp_root>/grub.cfg-01-aa-bb-cc-dd-ee-ff  pxe, UEFI (GRUB): symlink -> <node uuid>/config
    <tftp_root>/aa:bb:cc:dd:ee:ff.conf         pxe, UEFI (GRUB): symlink -> <node uuid>/config
    <http_root>/<sub>/aa-bb-cc-dd-ee-ff        ipxe: symlink -> ../<node uuid>/config
    <http_root>/boot.ipxe                      ipxe: chains to <sub>/${mac:hexhyp}

Configs and links are written to a temp name and renamed into place; a node's links are found
by what they point at, so removing them needs no port list (ports may have changed).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import urllib.parse
from typing import TYPE_CHECKING, Any

import jinja2
from oslo_config import cfg

from ironic_lite.common import exception, fileutils, image_cache, network

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')
DEPLOY_LABELS = ('deploy_kernel', 'deploy_ramdisk')
INSTANCE_LABELS = ('kernel', 'ramdisk')
BOOT_MODES = ('bios', 'uefi')
BOOT_OPTIONS = ('netboot', 'local')
ROOT_DEVICE_HINTS = ('size', 'model', 'wwn', 'serial', 'vendor', 'wwn_with_extension',
                     'wwn_vendor_extension', 'name', 'rotational', 'hctl', 'by_path')
ISCSI_IQN_PREFIX = 'iqn.2008-10.org.openstack:'
NETBOOT_FLAG = 'pxe_netboot_instance'  # driver_internal_info: the config boots the instance

# DHCP option codes (RFC 2132, 5859, 5071)
DHCP_TFTP_SERVER_NAME = '66'
DHCP_BOOTFILE_NAME = '67'
DHCP_TFTP_SERVER_ADDRESS = '150'
DHCP_TFTP_PATH_PREFIX = '210'


# -- node settings --------------------------------------------------------------------------
def parse_capabilities(value: Any, where: str) -> dict[str, str]:
    """Capabilities as a dict: a dict, a JSON object string or ``"k1:v1,k2:v2"``."""
    if not value:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pairs = [item.split(':', 1) for item in value.split(',') if item.strip()]
            if any(len(p) != 2 for p in pairs):
                raise exception.InvalidParameterValue(
                    err=f'Malformed {where} capabilities {value!r}: expected '
                        '"key1:value1,key2:value2"') from None
            return {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(value, dict):
        raise exception.InvalidParameterValue(
            err=f'{where} capabilities must be a dict or a string, not {value!r}')
    return {str(k): str(v) for k, v in value.items()}


def _instance_caps(node) -> dict[str, str]:
    return parse_capabilities((node.instance_info or {}).get('capabilities'), 'instance_info')


def boot_mode(node) -> str:
    """``bios`` or ``uefi``: instance_info capabilities, then properties capabilities."""
    mode = (_instance_caps(node).get('boot_mode')
            or (node.instance_info or {}).get('deploy_boot_mode')
            or parse_capabilities((node.properties or {}).get('capabilities'),
                                  'properties').get('boot_mode')
            or 'bios').lower()
    if mode not in BOOT_MODES:
        raise exception.InvalidParameterValue(
            err=f'Invalid boot_mode {mode!r} for node {node.uuid}; valid: {", ".join(BOOT_MODES)}')
    return mode


def boot_option(node, conf: cfg.ConfigOpts) -> str:
    """``netboot`` or ``local``: instance_info capabilities, then [deploy]default_boot_option."""
    option = (_instance_caps(node).get('boot_option')
              or conf.deploy.default_boot_option).lower()
    if option not in BOOT_OPTIONS:
        raise exception.InvalidParameterValue(
            err=f'Invalid boot_option {option!r} for node {node.uuid}; '
                f'valid: {", ".join(BOOT_OPTIONS)}')
    return option


def is_whole_disk_image(node) -> bool:
    """As upstream: recorded by the deploy, else "no instance kernel and no ramdisk"."""
    recorded = (node.driver_internal_info or {}).get('is_whole_disk_image')
    if recorded is not None:
        return bool(recorded)
    info = node.instance_info or {}
    return not info.get('kernel') and not info.get('ramdisk')


def netboots_instance(node, conf: cfg.ConfigOpts) -> bool:
    """True when the instance boots its kernel/ramdisk over the network."""
    return boot_option(node, conf) == 'netboot' and not is_whole_disk_image(node)


def root_device_hints(node) -> str | None:
    """``properties.root_device`` as the ramdisk's ``key=value,...`` (values URL-quoted)."""
    hints = (node.properties or {}).get('root_device')
    if not hints:
        return None
    if not isinstance(hints, dict):
        raise exception.InvalidParameterValue(
            err=f'properties.root_device of node {node.uuid} must be a dict, not {hints!r}')
    unknown = sorted(set(hints) - set(ROOT_DEVICE_HINTS))
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown root device hint(s) {", ".join(unknown)} for node {node.uuid}; '
                f'valid: {", ".join(ROOT_DEVICE_HINTS)}')
    return ','.join(f'{key}={urllib.parse.quote(str(hints[key]), safe="")}'
                    for key in sorted(hints))


def check_missing(values: dict[str, Any], where: str, purpose: str) -> None:
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise exception.MissingParameterValue(
            err=f'Missing the following {where} parameters for {purpose}: '
                f'{", ".join(missing)}')


# -- paths ----------------------------------------------------------------------------------
def root_dir(conf: cfg.ConfigOpts, ipxe: bool) -> str:
    root = conf.deploy.http_root if ipxe else conf.pxe.tftp_root
    if not root:  # never the current directory
        raise exception.MissingParameterValue(
            err='[deploy]http_root is not set' if ipxe else '[pxe]tftp_root is not set')
    return os.path.abspath(root)


def node_dir(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str) -> str:
    return os.path.join(root_dir(conf, ipxe), node_uuid)


def config_path(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str) -> str:
    return os.path.join(node_dir(conf, ipxe, node_uuid), 'config')


def mac_link_paths(conf: cfg.ConfigOpts, ipxe: bool, mac: str, uefi: bool) -> list[str]:
    """Where a boot loader looks for the config of the NIC ``mac``."""
    root, mac = root_dir(conf, ipxe), mac.lower()
    dashed = mac.replace(':', '-')
    subdir = os.path.join(root, conf.pxe.pxe_config_subdir)
    if ipxe:
        return [os.path.join(subdir, dashed)]  # iPXE's ${mac:hexhyp}
    paths = [os.path.join(subdir, f'01-{dashed}')]  # pxelinux: ARP type 1 + MAC
    if uefi:  # GRUB's network config lookup
        paths += [os.path.join(root, f'grub.cfg-01-{dashed}'), os.path.join(root, f'{mac}.conf')]
    return paths


def deploy_images(node, conf: cfg.ConfigOpts, ipxe: bool) -> dict[str, tuple[str, str]]:
    """``{label: (href, path)}`` of the deploy kernel/ramdisk; names what is missing."""
    info = node.driver_info or {}
    check_missing({label: info.get(label) for label in DEPLOY_LABELS}, 'driver_info',
                  f'booting the deploy ramdisk of node {node.uuid}')
    return {label: (str(info[label]), os.path.join(node_dir(conf, ipxe, node.uuid), label))
            for label in DEPLOY_LABELS}


def instance_images(node, conf: cfg.ConfigOpts, ipxe: bool) -> dict[str, tuple[str, str]]:
    """``{label: (href, path)}`` of the instance kernel/ramdisk; empty unless netbooting."""
    if not netboots_instance(node, conf):
        return {}
    info = node.instance_info or {}
    check_missing({label: info.get(label) for label in INSTANCE_LABELS}, 'instance_info',
                  f'netbooting the partition image of node {node.uuid}')
    return {label: (str(info[label]), os.path.join(node_dir(conf, ipxe, node.uuid), label))
            for label in INSTANCE_LABELS}


def image_location(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str, label: str) -> str:
    """How the boot loader names an image: the TFTP path (as upstream: the path under
    tftp_root, TFTP servers map it) or the iPXE URL."""
    if ipxe:
        return '/'.join([conf.deploy.http_url.rstrip('/'), node_uuid, label])
    return os.path.join(node_dir(conf, ipxe, node_uuid), label)


# -- kernel parameters ------------------------------------------------------------------------
def _param(key: str, value: Any) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"\'\\' for c in text):
        raise exception.InvalidParameterValue(
            err=f'Kernel parameter {key} has an unusable value {text!r}')
    return f'{key}={text}'


async def deploy_kernel_params(task: Task, ramdisk_params: dict[str, Any]) -> str:
    """What a deploy ramdisk (IPA or the bash iSCSI ramdisk) needs on its command line."""
    node, conf = task.node, task.conf
    api_url = await network.api_url(conf)
    params: dict[str, Any] = {
        'ipa-api-url': api_url,
        'ironic_api_url': api_url,            # bash ramdisk
        'deployment_id': node.uuid,
        'boot_option': boot_option(node, conf),
        'boot_mode': boot_mode(node),
    }
    if hints := root_device_hints(node):
        params['root_device'] = hints
    key = ((node.driver_internal_info or {}).get('deploy_key')
           or (node.instance_info or {}).get('deploy_key'))
    if key:
        params['iscsi_target_iqn'] = ISCSI_IQN_PREFIX + node.uuid
        params['deployment_key'] = key
    params.update(ramdisk_params or {})
    parts = [conf.pxe.kernel_append_params or '']
    parts += [_param(k, v) for k, v in params.items() if v is not None]
    return ' '.join(p for p in parts if p)


def instance_kernel_params(node, conf: cfg.ConfigOpts) -> str:
    """Command line of a netbooted instance: its root partition when the deploy found it."""
    info = node.driver_internal_info or {}
    root = info.get('root_uuid_or_disk_id') or info.get('root_uuid')
    parts = [_param('root', f'UUID={root}')] if root else []
    parts += ['ro', 'text', conf.pxe.kernel_append_params or '']
    return ' '.join(p for p in parts if p)


# -- templates ------------------------------------------------------------------------------
_ENVS: dict[str, jinja2.Environment] = {}


def template_path(conf: cfg.ConfigOpts, ipxe: bool, uefi: bool) -> str:
    if ipxe:
        return conf.pxe.ipxe_config_template or os.path.join(TEMPLATE_DIR,
                                                             'ipxe_config.template')
    if uefi:
        return conf.pxe.uefi_pxe_config_template or os.path.join(
            TEMPLATE_DIR, 'pxe_grub_config.template')
    return conf.pxe.pxe_config_template or os.path.join(TEMPLATE_DIR, 'pxe_config.template')


def boot_script_template(conf: cfg.ConfigOpts) -> str:
    return conf.pxe.ipxe_boot_script or os.path.join(TEMPLATE_DIR, 'boot.ipxe')


def render_template(path: str, params: dict[str, Any]) -> str:
    """Render a template file with Jinja2 (blocking: reads the file; call in a thread)."""
    directory, name = os.path.split(os.path.abspath(path))
    env = _ENVS.get(directory)
    if env is None:
        env = _ENVS[directory] = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory), undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
            autoescape=False)  # noqa: S701 - boot loader configs, not HTML
    try:
        return env.get_template(name).render(params)
    except jinja2.TemplateNotFound:
        raise exception.InvalidParameterValue(err=f'Boot template {path} does not exist') \
            from None
    except jinja2.TemplateError as e:
        raise exception.InvalidParameterValue(
            err=f'Boot template {path} cannot be rendered: {e}') from e


# -- files (blocking: run in a thread) -------------------------------------------------------
def ensure_dir(path: str, mode: int | None) -> None:
    if not os.path.isdir(path):
        os.makedirs(path, exist_ok=True)
        if mode is not None:
            os.chmod(path, mode)


def symlink_atomic(target: str, path: str) -> None:
    with fileutils.replacing(path, 'link') as tmp:
        os.symlink(target, tmp)


def file_has_content(path: str, content: str) -> bool:
    try:
        with open(path) as f:
            return f.read() == content
    except FileNotFoundError:
        return False


def write_config(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str, content: str,
                 link_paths: list[str]) -> None:
    """Write the node's config, then point each MAC link at it (old links go first)."""
    path = config_path(conf, ipxe, node_uuid)
    ensure_dir(os.path.dirname(path), conf.pxe.dir_permission)
    fileutils.write_atomic(path, content, conf.pxe.file_permission)
    remove_mac_links(conf, ipxe, node_uuid)
    for link in link_paths:
        ensure_dir(os.path.dirname(link), conf.pxe.dir_permission)
        symlink_atomic(os.path.relpath(path, os.path.dirname(link)), link)


def _remove_links_to(directory: str, target: str) -> None:
    with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    if os.readlink(entry.path) == target:
                        os.unlink(entry.path)


def remove_mac_links(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str) -> None:
    """Remove every link to the node's config (per-MAC, GRUB), whatever its ports are now."""
    root = root_dir(conf, ipxe)
    cfg_path = config_path(conf, ipxe, node_uuid)
    for directory in (os.path.join(root, conf.pxe.pxe_config_subdir), root):
        _remove_links_to(directory, os.path.relpath(cfg_path, directory))


def remove_node_files(conf: cfg.ConfigOpts, ipxe: bool, node_uuid: str) -> None:
    """Links first (so no loader finds a half-removed folder), then the node's folder."""
    remove_mac_links(conf, ipxe, node_uuid)
    shutil.rmtree(node_dir(conf, ipxe, node_uuid), ignore_errors=True)


def unlink_files(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# -- images and DHCP ------------------------------------------------------------------------
async def cache_images(task: Task, images: dict[str, tuple[str, str]]) -> None:
    """Fetch through the master TFTP image cache and hard-link into the node's folder.

    fetch_images removes every destination first and again on failure: the folder never
    keeps an image older than its source.
    """
    if not images:
        return
    conf = task.conf
    for folder in {os.path.dirname(path) for _href, path in images.values()}:
        await asyncio.to_thread(ensure_dir, folder, conf.pxe.dir_permission)
    if (task.node.driver_internal_info or {}).get(image_cache.PROGRESS_FIELD):
        await task.set_driver_internal_info(**{image_cache.PROGRESS_FIELD: None})
    # Downloads record their progress on the node (driver_internal_info) and in the log.
    await image_cache.fetch_images(image_cache.TFTPImageCache(conf=conf),
                                   list(images.values()), force_raw=False, task=task)


async def dhcp_options(task: Task, ipxe: bool, uefi: bool) -> list[dict[str, Any]]:
    """Boot options for the node's ports (upstream's dicts, see drivers/modules/dhcp.py)."""
    conf = task.conf
    server = await network.tftp_server(conf)
    opts: list[dict[str, Any]] = []
    if ipxe:
        bootfile = conf.pxe.uefi_ipxe_bootfile_name if uefi else conf.pxe.ipxe_bootfile_name
        script = '/'.join([conf.deploy.http_url.rstrip('/'), 'boot.ipxe'])
        # Firmware gets the iPXE binary over TFTP; iPXE itself (DHCP option 175 present,
        # tagged "ipxe" by dnsmasq's dhcp-match) gets the boot script over HTTP.
        opts.append({'opt_name': f'tag:!ipxe,{DHCP_BOOTFILE_NAME}', 'opt_value': bootfile})
        opts.append({'opt_name': f'tag:ipxe,{DHCP_BOOTFILE_NAME}', 'opt_value': script})
    else:
        bootfile = conf.pxe.uefi_pxe_bootfile_name if uefi else conf.pxe.pxe_bootfile_name
        opts.append({'opt_name': DHCP_BOOTFILE_NAME, 'opt_value': bootfile})
        opts.append({'opt_name': DHCP_TFTP_PATH_PREFIX,
                     'opt_value': os.path.join(root_dir(conf, False), '')})
    opts.append({'opt_name': DHCP_TFTP_SERVER_NAME, 'opt_value': server})
    opts.append({'opt_name': DHCP_TFTP_SERVER_ADDRESS, 'opt_value': server})
    # dnsmasq otherwise puts its own address in siaddr, which PXE clients use as TFTP server.
    opts.append({'opt_name': 'server-ip-address', 'opt_value': server})
    for opt in opts:
        opt['ip_version'] = 4
    return opts
