"""[DEFAULT] options: identity of this host, enabled drivers (auth options: conf/auth.py)."""
import socket

from oslo_config import cfg

INTERFACE_TYPES = ('boot', 'deploy', 'management', 'power', 'vendor',
                   'bios', 'console', 'network', 'rescue', 'storage', 'raid', 'inspect')

# Upstream Ironic's defaults (ironic/conf/default.py), keeping only the interfaces implemented
# here (upstream also enables e.g. redfish-virtual-media, redfish bios, cinder), so an
# ironic.conf that sets only enabled_hardware_types = ipmi (or redfish) loads what that
# hardware type needs. None: as upstream, the first supported interface of every enabled
# hardware type (ipmitool for ipmi, redfish for redfish).
_DEFAULT_IFACES: dict[str, list[str] | None] = {
    'boot': ['ipxe', 'pxe'],
    'deploy': ['direct'],
    'management': None,
    'power': None,
    'vendor': ['no-vendor'],
    'bios': ['no-bios'],
    'console': ['no-console'],
    'network': ['flat', 'noop'],
    'rescue': ['no-rescue'],
    'storage': ['noop'],
    'raid': ['no-raid'],
    'inspect': ['no-inspect'],
}

# fake-hardware's interfaces: all the all-in-one loads by default (importing no other driver
# keeps its memory small).
FAKE_INTERFACES: dict[str, list[str]] = {
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


def embedded_driver_defaults(
        hardware_types: list[str] | tuple[str, ...] = ('fake-hardware',),
) -> dict[str, list[str] | None]:
    """The all-in-one's driver defaults (``ironic-lite``, tools/run-aio.sh; also the test
    harnesses): fake-hardware with its fake interfaces; once another hardware type is enabled,
    upstream's interface defaults plus the fakes, so that enabling ``ipmi`` needs nothing
    else."""
    only_fake = set(hardware_types) <= {'fake-hardware'}
    out: dict[str, list[str] | None] = {'enabled_hardware_types': list(hardware_types)}
    for itype, fakes in FAKE_INTERFACES.items():
        upstream = _DEFAULT_IFACES[itype]
        if only_fake:
            value: list[str] | None = fakes
        elif upstream is None:
            value = None  # the first supported of each enabled hardware type
        else:
            value = list(dict.fromkeys(fakes + upstream))
        out[f'enabled_{itype}_interfaces'] = value
    return out


EMBEDDED_DRIVER_DEFAULTS = embedded_driver_defaults()

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
    cfg.ListOpt('enabled_hardware_types', default=['ipmi', 'redfish'],
                help='Hardware types this conductor loads (stevedore entry points in '
                     'ironic_lite.hardware.types). A hardware type none of whose supported '
                     'interfaces of some kind is enabled stops the conductor from starting. '
                     'The all-in-one ironic-lite enables fake-hardware by default.'),
]
for _iface in INTERFACE_TYPES:
    _auto = _DEFAULT_IFACES[_iface] is None
    opts.append(cfg.ListOpt(
        f'enabled_{_iface}_interfaces', default=_DEFAULT_IFACES[_iface],
        help=f'{_iface.capitalize()} interfaces this conductor loads. Every conductor '
             f'should enable the same ones for a hardware type.'
             + (' Unset: the first supported one of each enabled hardware type, as '
                'upstream.' if _auto else '')))
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
    cfg.FloatOpt('rpc_send_timeout', default=10, min=0.1,
                 help='Seconds an RPC message may take to reach the message broker. A state '
                      'change whose message cannot be sent in this time is still answered '
                      '202 (its request is recorded and a conductor starts it later); any '
                      'other request gets 503. Reconnection attempts to the broker are capped '
                      'to fit in this time. Calls also end within [api]rpc_timeout.'),
]


def set_embedded_driver_defaults(conf: cfg.ConfigOpts) -> None:
    """The all-in-one's defaults, after the config files are read (they depend on
    ``enabled_hardware_types``); what an operator sets still wins."""
    for name, value in embedded_driver_defaults(conf.enabled_hardware_types).items():
        if name != 'enabled_hardware_types':
            conf.set_default(name, value)
