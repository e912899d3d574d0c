"""[agent] options of the ``direct`` deploy interface and its agent command client.

Names, groups and defaults follow upstream Ironic's ``[agent]`` group, so an operator's
ironic.conf carries over.
"""
from oslo_config import cfg

opts = [
    cfg.StrOpt('agent_api_version', default='v1',
               help='API version to use for communicating with the ramdisk agent.'),
    cfg.IntOpt('command_timeout', default=60, min=1,
               help='Timeout (in seconds) for IPA commands: connecting to the agent and '
                    'waiting for its answer to one request.'),
    cfg.IntOpt('max_command_attempts', default=3, min=1,
               help='How many times a command is sent to the agent when the connection '
                    'fails, before the error is reported.'),
    cfg.StrOpt('image_download_source', default='http', choices=[
        ('http', 'The agent downloads http(s) image sources directly; other sources '
                 '(file://, Glance) are cached by the conductor and served from '
                 '[deploy]http_url.'),
        ('local', 'Every image is cached by the conductor (converted to raw when '
                  '[DEFAULT]force_raw_images is set) and served from [deploy]http_url.'),
    ], help='Where the agent downloads the instance image from. Overridden per node by '
            'driver_info/image_download_source or instance_info/image_download_source.'),
    cfg.IntOpt('post_deploy_get_power_state_retries', default=6, min=0,
               help='Number of times to check the power state after asking the agent to '
                    'power the node off, before powering it off through the BMC.'),
    cfg.FloatOpt('post_deploy_get_power_state_retry_interval', default=5, min=0,
                 help='Seconds between those power state checks.'),
    cfg.StrOpt('verify_ca', default='True',
               help='How the conductor verifies the TLS certificate of an agent whose '
                    'callback URL is https and that did not send its own certificate '
                    '(agent_verify_ca, automatic TLS of ironic-python-agent with API 1.68): '
                    'True uses the system CA store, False disables verification, anything '
                    'else is the path of a CA bundle file or a directory of CA '
                    'certificates. Overridden per node by driver_info/agent_verify_ca; '
                    'ignored when the agent sent its certificate.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group='agent')
