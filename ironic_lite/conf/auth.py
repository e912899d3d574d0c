"""Authentication and policy options: ``[DEFAULT]auth_strategy`` and friends.

Names follow upstream Ironic's. ``[keystone_authtoken]`` options belong to keystonemiddleware
and ``[oslo_policy]`` options to oslo.policy; both are listed in the sample configuration.
"""
from oslo_config import cfg

opts = [
    cfg.StrOpt('auth_strategy', default='noauth',
               choices=[('noauth', 'no authentication: every request is allowed'),
                        ('keystone', 'Keystone tokens validated by keystonemiddleware '
                                     'auth_token ([keystone_authtoken] options)'),
                        ('http_basic', 'HTTP Basic authentication against the Apache '
                                       'htpasswd file http_basic_auth_user_file')],
               help='Authentication strategy used by the API. With noauth and http_basic '
                    'every authenticated request has admin rights (as upstream Ironic); '
                    'policy rules apply with keystone.'),
    cfg.StrOpt('http_basic_auth_user_file', default='/etc/ironic/htpasswd',
               help='Path to an Apache htpasswd file with bcrypt entries, used when '
                    'auth_strategy=http_basic.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)
