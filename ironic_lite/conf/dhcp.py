"""DHCP provider options: ``[dhcp]`` and ``[dnsmasq]`` (upstream Ironic's names)."""
from oslo_config import cfg

dhcp_opts = [
    cfg.StrOpt('dhcp_provider', default='none', choices=[
                   ('none', 'No DHCP management: an operator-run DHCP server sends the '
                            'boot options.'),
                   ('dnsmasq', 'Write per-node host and option files for a dnsmasq '
                               'started with --dhcp-hostsdir and --dhcp-optsdir.')],
               help='DHCP provider that sends the nodes their PXE/iPXE boot options.'),
    cfg.StrOpt('provisioning_interface',
               help='Network interface (e.g. eth1) on the provisioning network whose '
                    'IPv4 address is used when [pxe]tftp_server or [conductor]api_url is '
                    'not set. Unset: the interface of the default route '
                    '(ironic_lite only).'),
]

dnsmasq_opts = [
    cfg.StrOpt('dhcp_optsdir', default='/etc/dnsmasq.d/optsdir.d',
               help='Directory where the "dnsmasq" provider writes option files for an '
                    'external dnsmasq to read. Use the same path for its dhcp-optsdir '
                    'directive.'),
    cfg.StrOpt('dhcp_hostsdir', default='/etc/dnsmasq.d/hostsdir.d',
               help='Directory where the "dnsmasq" provider writes host files for an '
                    'external dnsmasq to read. Use the same path for its dhcp-hostsdir '
                    'directive.'),
    cfg.StrOpt('dhcp_leasefile', default='/var/lib/dnsmasq/dnsmasq.leases',
               help='Dnsmasq leases file, read to find the IP addresses of nodes. Use '
                    'the same path for its dhcp-leasefile directive.'),
]

GROUPS = [
    ('dhcp', dhcp_opts),
    ('dnsmasq', dnsmasq_opts),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, group_opts in GROUPS:
        conf.register_opts(group_opts, group=group)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(group, list(group_opts)) for group, group_opts in GROUPS]
