"""[deploy] options shared by deploy interfaces."""
from oslo_config import cfg

opts = [
    cfg.StrOpt('http_root', default='/httpboot',
               help="ironic_lite's HTTP root path (iPXE and agent image cache)."),
    cfg.StrOpt('http_url',
               help="ironic_lite's HTTP server URL, e.g. http://192.1.2.3:8080"),
    cfg.BoolOpt('power_off_after_deploy_failure', default=True,
                help='Whether to power off a node after a deploy failed, so that it does '
                     'not keep running its deploy ramdisk.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='deploy')
