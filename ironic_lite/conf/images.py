"""Image service, master image cache and image conversion options.

Names and groups are upstream Ironic's (``[DEFAULT]force_raw_images``, ``[pxe]image_cache_size``,
``[conductor]file_url_allowed_paths``, ``[disk_utils]image_convert_memory_limit`` ...), so an
operator's ironic.conf carries over. Only the few options marked "ironic_lite only" have no
upstream counterpart.
"""
import tempfile

from oslo_config import cfg

default_opts = [
    cfg.BoolOpt('force_raw_images', default=True,
                help='If True, convert backing images to "raw" disk image format before '
                     'they are written to a node (qemu-img from qemu-utils is needed).'),
    cfg.IntOpt('image_download_concurrency', default=20, min=1,
               help='How many image downloads and raw format conversions to run in '
                    'parallel. Only affects image caches.'),
    cfg.StrOpt('tempdir', default=tempfile.gettempdir(), sample_default='/tmp',
               help='Temporary working directory, default is Python temp dir. qemu-img '
                    'runs with TMPDIR set to it.'),
    cfg.StrOpt('webserver_verify_ca', default='True',
               help='CA certificates used to validate HTTPS image servers: "True" uses '
                    'the system CA bundle, "False" disables verification (insecure), any '
                    'other value is the path of a CA bundle file.'),
    cfg.IntOpt('webserver_connection_timeout', default=60, min=1,
               help='Connection (and per-read) timeout in seconds when accessing remote '
                    'web servers with images.'),
]

pxe_opts = [
    cfg.StrOpt('tftp_master_path', default='/tftpboot/master_images',
               help='On the conductor, directory where master TFTP images (deploy and '
                    'instance kernels/ramdisks) are stored on disk. Must be on the same '
                    'filesystem as [pxe]tftp_root: per-node copies are hard links. '
                    'Setting to the empty string disables image caching.'),
    cfg.StrOpt('instance_master_path', default='/var/lib/ironic/master_images',
               help='On the conductor, directory where master instance images are stored '
                    'on disk. Setting to the empty string disables image caching.'),
    cfg.IntOpt('image_cache_size', default=20480, min=0,
               help='Maximum size (in MiB) of cache for master images, including those '
                    'in use.'),
    # 10080 minutes is one week, as upstream.
    cfg.IntOpt('image_cache_ttl', default=10080, min=0,
               help='Maximum TTL (in minutes) for old master images in cache.'),
]

conductor_opts = [
    cfg.ListOpt('file_url_allowed_paths',
                default=['/var/lib/ironic', '/shared/html', '/opt/cache/files', '/vagrant',
                         '/templates'],
                help='Directories a file:// image source may be read from. Anything '
                     'outside them (after resolving symlinks and ".."), and always /dev, '
                     '/sys, /proc, /boot, /run and /etc, is refused.'),
]

glance_opts = [
    cfg.StrOpt('endpoint_override',
               help='Glance endpoint URL (e.g. http://127.0.0.1:9292) used for image '
                    'sources given as a bare image UUID or glance://<uuid>. Requests are '
                    'sent without authentication (noauth Glance).'),
    cfg.IntOpt('timeout', default=60, min=1,
               help='Timeout in seconds for connecting to Glance and for each read.'),
    cfg.BoolOpt('insecure', default=False,
                help='Do not verify the HTTPS certificate of Glance.'),
    cfg.StrOpt('cafile', help='CA bundle used to verify the HTTPS certificate of Glance.'),
    cfg.IntOpt('num_retries', default=0, min=0,
               help='Number of retries when downloading an image from glance.'),
]

disk_utils_opts = [
    cfg.IntOpt('image_convert_memory_limit', default=2048, min=1,
               help='Memory limit for "qemu-img convert" in MiB. Implemented via the '
                    'address space resource limit.'),
    cfg.IntOpt('image_convert_attempts', default=3, min=1,
               help='Number of attempts to convert an image.'),
    cfg.IntOpt('image_convert_cpu_time_limit', default=3600, min=1,
               help='CPU time limit in seconds for "qemu-img convert" (ironic_lite only): '
                    'a crafted image cannot keep a conductor CPU busy forever.'),
]

# (group, options) pairs, in the shape ironic_lite.conf.opts.list_opts() returns.
GROUPS = [
    ('DEFAULT', default_opts),
    ('pxe', pxe_opts),
    ('conductor', conductor_opts),
    ('glance', glance_opts),
    ('disk_utils', disk_utils_opts),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, group_opts in GROUPS:
        conf.register_opts(group_opts, group=None if group == 'DEFAULT' else group)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(group, list(group_opts)) for group, group_opts in GROUPS]
