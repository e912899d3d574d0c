"""[redfish] options of the ``redfish`` power and management interfaces (sushy underneath).

Names and defaults follow upstream Ironic's ``[redfish]`` group where it has the same option.
How long a power change may take is ``[conductor]power_state_change_timeout`` and
``soft_power_off_timeout``, as for IPMI.
"""
from oslo_config import cfg

opts = [
    cfg.IntOpt('connection_attempts', default=5, min=1, mutable=True,
               help='How many times one Redfish request is tried when the BMC cannot be '
                    'reached, times out or answers with a server error (5xx), before the '
                    'operation fails. Wrong credentials, a missing resource and refused '
                    'requests fail at once.'),
    cfg.FloatOpt('connection_retry_interval', default=4, min=0, mutable=True,
                 help='Seconds between two attempts of a Redfish request.'),
    cfg.IntOpt('connection_cache_size', default=1000, min=0,
               help='Maximum number of Redfish connections (sessions) kept open, one per '
                    'BMC address and credentials; the least recently used is closed '
                    'beyond it. 0 disables the cache: every operation logs in again.'),
    cfg.FloatOpt('connect_timeout', default=10, min=0.1, mutable=True,
                 help='Seconds to wait for a TCP (and TLS) connection to a BMC.'),
    cfg.FloatOpt('read_timeout', default=60, min=0.1, mutable=True,
                 help='Seconds to wait for a BMC to answer one Redfish request.'),
    cfg.StrOpt('auth_type', default='auto', choices=['basic', 'session', 'auto'],
               mutable=True,
               help='Authentication for nodes whose driver_info names no redfish_auth_type: '
                    '"basic" (HTTP basic auth on every request), "session" (a Redfish '
                    'session, renewed when it expires) or "auto" (a session when the BMC '
                    'offers the session service, else basic).'),
    cfg.IntOpt('max_concurrent_requests', default=32, min=1,
               help='Threads making Redfish requests in one process (sushy is blocking; '
                    'the event loop only awaits them). Operations beyond this wait in '
                    'line, e.g. during a power state sync of many nodes.'),
    cfg.StrOpt('bootloader',
               help='Path of an EFI system partition image (FAT, with the EFI boot loader, '
                    'e.g. shim + GRUB) made the El Torito boot image of the ISOs that the '
                    'redfish-virtual-media boot interface builds for nodes in UEFI boot mode. '
                    '(Upstream: [conductor]bootloader, which also takes image URLs.)'),
    cfg.StrOpt('isolinux_bin', default='/usr/lib/ISOLINUX/isolinux.bin',
               help='Path of ISOLINUX\'s isolinux.bin, the El Torito boot image of the ISOs '
                    'built for nodes in BIOS boot mode; ldlinux.c32 next to it is added too. '
                    '(Upstream: [DEFAULT]isolinux_bin.)'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='redfish')
