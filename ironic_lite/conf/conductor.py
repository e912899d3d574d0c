"""[conductor] options: workers, locks, heartbeats and periodic tasks."""
from oslo_config import cfg

opts = [
    cfg.IntOpt('workers_pool_size', default=100, min=1,
               help='Maximum number of background operations (deploys, tear-downs, power '
                    'actions) a conductor runs at once. Accepted work beyond this stays '
                    'queued in the database and starts as workers free up.'),
    cfg.IntOpt('heartbeat_interval', default=10, min=1,
               help='Seconds between conductor heartbeats to the database.'),
    cfg.IntOpt('heartbeat_timeout', default=60, min=2,
               help='A conductor that has not heartbeated for this long is considered dead: '
                    'its nodes move to other conductors on the hash ring. Takeover (the API '
                    'routing its nodes to the others, and the others starting the requests '
                    'sent to it) happens within heartbeat_timeout + hash_ring_reset_interval '
                    'of its death.'),
    cfg.IntOpt('node_locked_retry_attempts', default=3, min=0,
               help='Number of retries to get an exclusive node lock.'),
    cfg.FloatOpt('node_locked_retry_interval', default=1.0, min=0,
                 help='Seconds between node lock retries.'),
    cfg.IntOpt('deploy_callback_timeout', default=1800, min=0,
               help='Seconds to wait for a deploy ramdisk callback. 0 disables the timeout.'),
    cfg.IntOpt('check_provision_state_interval', default=60, min=1,
               help='Seconds between checks for provisioning timeouts and for nodes '
                    'left in a working state by a conductor that died.'),
    cfg.IntOpt('intent_redrive_after', default=30, min=1,
               help='An accepted request (e.g. a deploy) that no conductor has started is '
                    'started by a live conductor by the time it is this many seconds old: '
                    'covers lost RPC casts, a conductor that stopped, and full worker '
                    'pools. The re-drive runs every sixth of this (at least every second). '
                    'Requests for a conductor that died without stopping wait until '
                    'heartbeat_timeout has passed, when its nodes move to the others.'),
    cfg.StrOpt('conductor_group', default='',
               help='Name of the conductor group to join. Nodes with a matching '
                    'conductor_group are managed by this group only.'),
    cfg.IntOpt('graceful_shutdown_timeout', default=60, min=0,
               help='Seconds a stopping conductor waits for in-flight work before failing it '
                    'and releasing its locks.'),
    cfg.IntOpt('hash_partition_exponent', default=5, min=1,
               help='Exponent of the number of partitions in the consistent hash ring.'),
    cfg.IntOpt('hash_ring_reset_interval', default=15, min=1,
               help='Seconds a cached hash ring is trusted before the live conductors are '
                    're-read from the database (sooner when a member\'s heartbeat is about to '
                    'pass heartbeat_timeout); also how often a conductor checks whether '
                    'another one died and takes over its nodes.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='conductor')

opts.append(cfg.BoolOpt(
    'automated_clean', default=True,
    help='Clean nodes when they are made available (provide) and after tear down. '
         'Drivers without clean steps finish at once.'))

opts.extend([
    cfg.IntOpt('sync_power_state_interval', default=60,
               help='Seconds between power state syncs with the hardware. '
                    '0 or less disables the sync.'),
    cfg.IntOpt('sync_power_state_workers', default=8, min=1,
               help='How many nodes a power state sync queries at once.'),
    cfg.BoolOpt('force_power_state_during_sync', default=True,
                help='When the hardware disagrees with the database: True sets the hardware '
                     'to the state in the database; False records the hardware state.'),
    cfg.IntOpt('power_state_change_timeout', default=60, min=2,
               help='Seconds to wait for a node to reach the target power state after a '
                    'power on, power off or reboot request; a node that has not got there '
                    'by then fails the action with a clear last_error.'),
    cfg.IntOpt('soft_power_off_timeout', default=600, min=1,
               help='Seconds to wait for a node to power off after a soft power off (ACPI '
                    'shutdown) or during a soft reboot, when the request names no timeout.'),
    cfg.IntOpt('power_state_sync_max_retries', default=3, min=1,
               help='Consecutive failed (or unrepaired) power syncs after which a node is put '
                    'in maintenance with fault "power failure".'),
])
