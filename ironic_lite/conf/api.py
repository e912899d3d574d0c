"""[api] options: where and how the REST API listens."""
from oslo_config import cfg

opts = [
    cfg.HostAddressOpt('host_ip', default='0.0.0.0',
                       help='The IP address or hostname on which the API listens. The '
                            'all-in-one ironic-lite listens on 127.0.0.1 unless this is set.'),
    cfg.PortOpt('port', default=6385, help='The TCP port on which the API listens.'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='The maximum number of items returned in a single response '
                    'from a collection resource.'),
    cfg.StrOpt('public_endpoint',
               help='Public URL to use in links, e.g. https://ironic.example.com. '
                    'Unset: the URL the request came in on.'),
    cfg.IntOpt('max_request_body_size', default=64 * 1024 * 1024, min=1024,
               help='Largest request body accepted, in bytes (configdrives can be large).'),
    cfg.IntOpt('ramdisk_heartbeat_timeout', default=300, min=1,
               help='Maximum interval (seconds) for agent heartbeats; sent to ramdisks '
                    'in the lookup response.'),
    cfg.IntOpt('rpc_timeout', default=60, min=1,
               help='Seconds the API waits for a conductor to answer an RPC call.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='api')
