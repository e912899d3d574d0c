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
    cfg.IntOpt('ramdisk_max_body_size', default=64 * 1024, min=1024,
               help='Largest request body accepted, in bytes, by the endpoints deploy '
                    'ramdisks call without credentials: lookup, heartbeat and the bash '
                    'ramdisk\'s vendor passthru callbacks (pass_deploy_info, '
                    'pass_bootloader_install_info). Their bodies are a few hundred bytes (a '
                    'heartbeat with an agent certificate about 2 KiB); larger ones are '
                    'refused with 413 before they are read.'),
    cfg.FloatOpt('client_header_timeout', default=30.0, min=1.0,
                 help='Seconds a client connection may stay idle or take to send the '
                      'headers of its next request before the API closes it (an idle '
                      'keep-alive connection is closed after the same time).'),
    cfg.FloatOpt('client_body_timeout', default=60.0, min=1.0,
                 help='Seconds a client may take to send a request body; a body that does '
                      'not arrive in time gets 408 and the connection is closed.'),
    cfg.IntOpt('ramdisk_heartbeat_timeout', default=300, min=1,
               help='Maximum interval (seconds) for agent heartbeats; sent to ramdisks '
                    'in the lookup response.'),
    cfg.IntOpt('rpc_timeout', default=60, min=1,
               help='Seconds the API waits for a conductor to answer an RPC call.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='api')
