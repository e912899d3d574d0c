"""PXE / iPXE boot options (``[pxe]``), plus the two options of other groups that boot needs.

Names follow upstream Ironic. ``[pxe]tftp_master_path``, ``instance_master_path``,
``image_cache_size`` and ``image_cache_ttl`` belong to the image cache and are registered in
``ironic_lite.conf.images``. Template options left unset use the templates shipped in
``ironic_lite/drivers/modules/templates/``.
"""
from oslo_config import cfg

pxe_opts = [
    cfg.StrOpt('tftp_root', default='/tftpboot',
               help="The conductor's TFTP root path. The conductor must have read/write "
                    "access to it. Per-node folders and pxelinux.cfg/ are created in it."),
    cfg.StrOpt('tftp_server',
               help="IP address of the conductor's TFTP server, sent to nodes in DHCP "
                    "options. Unset: the address of [dhcp]provisioning_interface, or of "
                    "the interface of the default route (found with pyroute2)."),
    cfg.StrOpt('kernel_append_params', default='nofb nomodeset vga=normal',
               deprecated_opts=[cfg.DeprecatedOpt('pxe_append_params', group='pxe')],
               help='Additional kernel parameters for the deploy ramdisk and for netbooted '
                    'instances.'),
    cfg.StrOpt('pxe_config_template',
               help='Template file for the per-node PXE (pxelinux) configuration (BIOS). '
                    'Unset: the template shipped with ironic_lite.'),
    cfg.StrOpt('uefi_pxe_config_template',
               help='Template file for the per-node PXE configuration in UEFI boot mode '
                    '(GRUB). Unset: the template shipped with ironic_lite.'),
    cfg.StrOpt('ipxe_config_template',
               help='Template file for the per-node iPXE script. Unset: the template '
                    'shipped with ironic_lite.'),
    cfg.StrOpt('ipxe_boot_script',
               help='Template of the main iPXE script, rendered to <[deploy]http_root>/'
                    'boot.ipxe; it chains to the per-MAC script of the booting NIC. '
                    'Unset: the script shipped with ironic_lite.'),
    cfg.StrOpt('pxe_bootfile_name', default='pxelinux.0',
               help='Bootfile DHCP parameter (BIOS boot mode).'),
    cfg.StrOpt('uefi_pxe_bootfile_name', default='bootx64.efi',
               help='Bootfile DHCP parameter for UEFI boot mode.'),
    cfg.StrOpt('ipxe_bootfile_name', default='undionly.kpxe',
               help='Bootfile DHCP parameter sent to non-iPXE firmware of nodes with the '
                    'ipxe boot interface (BIOS): it loads iPXE over TFTP.'),
    cfg.StrOpt('uefi_ipxe_bootfile_name', default='snponly.efi',
               help='Bootfile DHCP parameter sent to non-iPXE firmware of nodes with the '
                    'ipxe boot interface in UEFI boot mode.'),
    cfg.IntOpt('ipxe_timeout', default=0, min=0,
               help='Timeout in seconds for downloading an image via iPXE. 0: no timeout.'),
    cfg.StrOpt('pxe_config_subdir', default='pxelinux.cfg',
               help='Directory (relative to the TFTP or HTTP root) holding the per-MAC '
                    'links to the node configurations.'),
    cfg.IntOpt('dir_permission',
               help='Permission of the folders created in the TFTP/HTTP roots (e.g. '
                    '0o755). Unset: the process umask decides.'),
    cfg.IntOpt('file_permission', default=0o644,
               help='Permission of the configuration files written in the TFTP/HTTP roots.'),
]

# Upstream keeps these in [conductor] and [deploy]; they are registered here because only
# the boot interfaces read them so far.
conductor_opts = [
    cfg.URIOpt('api_url', schemes=('http', 'https'),
               help='URL of the API service that deploy ramdisks call back '
                    '(ipa-api-url= / ironic_api_url= kernel parameters), e.g. '
                    'http://192.0.2.1:6385. Unset: http://<[api]host_ip or the '
                    'provisioning address>:<[api]port>.'),
]

deploy_opts = [
    cfg.StrOpt('default_boot_option', default='local', choices=[
                   ('netboot', 'The instance boots its kernel/ramdisk over the network.'),
                   ('local', 'The instance boots from its disk.')],
               help='Boot option used when a node\'s instance_info capabilities name '
                    'none.'),
]

GROUPS = [
    ('pxe', pxe_opts),
    ('conductor', conductor_opts),
    ('deploy', deploy_opts),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, group_opts in GROUPS:
        conf.register_opts(group_opts, group=group)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(group, list(group_opts)) for group, group_opts in GROUPS]
