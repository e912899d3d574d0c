"""[DEFAULT] options: identity of this host, enabled drivers (auth options: conf/auth.py)."""
import socket

from oslo_config import cfg

INTERFACE_TYPES = ('boot', 'deploy', 'management', 'power', 'vendor',
                   'bios', 'console', 'network', 'rescue', 'storage', 'raid', 'inspect')

_DEFAULT_IFACES = {
    'boot': ['fake'],
    'deploy': ['fake'],
    'management': ['fake'],
    'power': ['fake'],
    'vendor': ['fake', 'no-vendor'],
    'bios': ['fake', 'no-bios'],
    'console': ['fake', 'no-console'],
    'network': ['noop', 'flat'],
    'rescue': ['fake', 'no-rescue'],
    'storage': ['fake', 'noop'],
    'raid': ['fake', 'no-raid'],
    'inspect': ['fake', 'no-inspect'],
}

opts = [
    cfg.StrOpt('host', default=socket.gethostname(), sample_default='localhost',
               help='Name of this node (conductor). Must be unique among conductors; '
                    'node reservations are taken in this name.'),
    cfg.StrOpt('state_path', default='/var/lib/ironic_lite',
               help="Top-level directory for maintaining the service's state."),
    cfg.StrOpt('rpc_transport', default='oslo', choices=['oslo', 'none'],
               help="'oslo' talks to conductors over oslo.messaging (transport_url); "
                    "'none' is the all-in-one mode: API and conductor in one process "
                    "over an in-process transport."),
    cfg.ListOpt('enabled_hardware_types', default=['fake-hardware'],
                help='Hardware types this conductor loads (stevedore entry points in '
                     'ironic_lite.hardware.types).'),
]
for _iface in INTERFACE_TYPES:
    opts.append(cfg.ListOpt(
        f'enabled_{_iface}_interfaces', default=_DEFAULT_IFACES[_iface],
        help=f'{_iface.capitalize()} interfaces this conductor loads.'))
    opts.append(cfg.StrOpt(
        f'default_{_iface}_interface',
        help=f'{_iface.capitalize()} interface used for new nodes that name none. '
             'Unset: the first of the hardware type\'s supported interfaces that is enabled.'))


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)
    conf.register_opts(rpc_opts)


rpc_opts = [
    cfg.StrOpt('rpc_version_cap',
               help='Highest conductor RPC API version the API sends (for rolling upgrades). '
                    'Unset: the newest this code knows.'),
]
