"""The ``ipxe`` boot interface: iPXE loads kernels and ramdisks over HTTP.

Same flow as ``pxe`` (see ``pxe.py``), rooted at ``[deploy]http_root`` and served from
``[deploy]http_url``: ``<http_root>/<node uuid>/{config,deploy_kernel,...}``, per-MAC links
``<http_root>/pxelinux.cfg/<aa-bb-cc-dd-ee-ff>`` and the shared ``<http_root>/boot.ipxe`` that
every node chains to first (it tries the config of each of its NICs by MAC). DHCP sends plain
PXE firmware the iPXE binary (``[pxe]ipxe_bootfile_name``, which the operator places in the
TFTP root) and iPXE itself ``<http_url>/boot.ipxe``.
"""
from __future__ import annotations

import os

from oslo_config import cfg

from ironic_lite.common import exception, fileutils
from ironic_lite.drivers.modules import pxe, pxe_utils

BOOT_SCRIPT_NAME = 'boot.ipxe'


class IPXEBoot(pxe.PXEBoot):
    """iPXE boot through HTTP (``[deploy]http_root`` / ``[deploy]http_url``)."""

    ipxe_enabled = True

    def _check_conf(self, conf: cfg.ConfigOpts) -> None:
        missing = [f'[deploy]{name}' for name in ('http_url', 'http_root')
                   if not getattr(conf.deploy, name)]
        if missing:
            raise exception.MissingParameterValue(
                err=f'{" and ".join(missing)} not set: the ipxe boot interface serves '
                    'kernels, ramdisks and scripts from an HTTP server')

    def _write_shared_files(self, conf: cfg.ConfigOpts) -> None:
        """Render boot.ipxe into the HTTP root, only when its content differs."""
        script = pxe_utils.render_template(
            pxe_utils.boot_script_template(conf),
            {'ipxe_for_mac_uri': conf.pxe.pxe_config_subdir + '/'})
        root = pxe_utils.root_dir(conf, True)
        path = os.path.join(root, BOOT_SCRIPT_NAME)
        if not pxe_utils.file_has_content(path, script):
            pxe_utils.ensure_dir(root, conf.pxe.dir_permission)
            fileutils.write_atomic(path, script, conf.pxe.file_permission)
