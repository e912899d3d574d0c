"""[ipmi] options of the ``ipmitool`` power and management interfaces (pyghmi underneath).

Names follow upstream Ironic's ``[ipmi]`` group where it has the same option. How long a power
change may take is upstream's ``[conductor]power_state_change_timeout`` and
``soft_power_off_timeout`` (``conf/conductor.py``).
"""
from oslo_config import cfg

opts = [
    cfg.IntOpt('command_retry_timeout', default=60, min=1, mutable=True,
               help='Maximum time in seconds one IPMI operation (e.g. reading the power state '
                    'or setting the boot device) may take, retries included: a busy BMC, a '
                    'lost session or a time-out is retried with a fresh session until this '
                    'expires; wrong credentials and refused commands fail at once. Setting '
                    'this too high lets an unresponsive BMC hold a power state sync worker '
                    'for that long.'),
    cfg.FloatOpt('min_command_interval', default=0.5, min=0, mutable=True,
                 help='Minimum time, in seconds, between two IPMI operations sent to the '
                      'same BMC; it also paces polling while waiting for a power state '
                      'change (never faster than every 0.1 s). Upstream recommends 5 s '
                      'because ipmitool opens a new session for every command; here sessions '
                      'are reused, so a BMC sees one light command per interval, and the '
                      'interval does not slow a power state sync of many nodes (each BMC '
                      'is asked once). Raise it for fragile BMCs.'),
    cfg.ListOpt('cipher_suite_versions', default=[], item_type=cfg.types.Integer(),
                help='Cipher suites a BMC may use when its node has no ipmi_cipher_suite in '
                     'driver_info. pyghmi supports 3 (SHA-1) and 17 (SHA-256): it asks for '
                     '17 and falls back to 3. Empty: accept either; [3]: always use 3; '
                     '[17]: refuse BMCs that only offer 3.'),
    cfg.BoolOpt('disable_boot_timeout', default=True, mutable=True,
                help='Send the raw IPMI command that disables the 60 second timeout after '
                     'which a BMC forgets a boot device override that no reboot has used. '
                     'Overridden per node by ipmi_disable_boot_timeout in driver_info.'),
    cfg.IntOpt('max_concurrent_operations', default=200, min=1,
               help='Maximum number of IPMI operations in flight at once in one process, '
                    'over all BMCs (a power state sync of many nodes queues beyond it). One '
                    'thread runs all pyghmi sessions, so this bounds bursts of packets and '
                    'logins, not threads.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='ipmi')
