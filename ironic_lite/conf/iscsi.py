"""iSCSI deploy options: ``[iscsi]`` and the per-node image folder (``[pxe]images_path``).

Names follow upstream Ironic (``[iscsi]portal_port``, ``[pxe]images_path``); the options
marked "ironic_lite only" have no upstream counterpart.
"""
from oslo_config import cfg

iscsi_opts = [
    cfg.PortOpt('portal_port', default=3260,
                help='The port number on which the iSCSI portal of the deploy ramdisk '
                     'listens, when its pass_deploy_info names no "port".'),
    cfg.PortOpt('ramdisk_notify_port', default=10000,
                help='TCP port on which the bash deploy ramdisk waits for "done" when its '
                     'pass_deploy_info names no "notify_port" (ironic_lite only).'),
    cfg.IntOpt('notify_timeout', default=30, min=1,
               help='Seconds to connect to the ramdisk and send it "done" '
                    '(ironic_lite only).'),
    cfg.IntOpt('write_timeout', default=3600, min=1,
               help='Seconds one "qemu-img convert" to the ramdisk\'s iSCSI target may take '
                    'before the deploy fails (ironic_lite only).'),
    cfg.StrOpt('qemu_img', default='qemu-img',
               help='qemu-img binary with the libiscsi block driver (Debian packages '
                    'qemu-utils and qemu-block-extra) (ironic_lite only).'),
]

pxe_opts = [
    cfg.StrOpt('images_path', default='/var/lib/ironic/images/',
               help='On the conductor, directory where instance images are linked from the '
                    'master cache ([pxe]instance_master_path) for nodes being deployed. Must '
                    'be on the same filesystem as the master cache.'),
]

GROUPS = [
    ('iscsi', iscsi_opts),
    ('pxe', pxe_opts),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, group_opts in GROUPS:
        conf.register_opts(group_opts, group=group)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(group, list(group_opts)) for group, group_opts in GROUPS]
