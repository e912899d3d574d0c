"""[fake] options: artificial delays of the fake interfaces (upstream has the same group)."""
from oslo_config import cfg

opts = [
    cfg.FloatOpt('power_delay', default=0, min=0,
                 help='Seconds a fake power action takes.'),
    cfg.FloatOpt('boot_delay', default=0, min=0,
                 help='Seconds a fake boot action takes.'),
    cfg.FloatOpt('deploy_delay', default=0, min=0,
                 help='Seconds a fake deploy takes.'),
    cfg.FloatOpt('vendor_delay', default=0, min=0,
                 help='Seconds a fake vendor passthru call takes.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='fake')
