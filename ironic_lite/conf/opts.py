"""Option listing for oslo-config-generator (entry point oslo.config.opts: ironic_lite)."""
import ironic_lite.conf.agent as agent
import ironic_lite.conf.dhcp as dhcp
import ironic_lite.conf.images as images
import ironic_lite.conf.ipmi as ipmi
import ironic_lite.conf.iscsi as iscsi
import ironic_lite.conf.pxe as pxe
import ironic_lite.conf.redfish as redfish
from ironic_lite.conf import api, auth, conductor, default, deploy, fake


def list_opts():
    return [
        ('DEFAULT', default.opts + default.rpc_opts + auth.opts),
        ('agent', agent.opts),
        ('api', api.opts),
        ('conductor', conductor.opts),
        ('deploy', deploy.opts),
        ('fake', fake.opts),
        ('ipmi', ipmi.opts),
        ('redfish', redfish.opts),
        *images.list_opts(),
        *pxe.list_opts(),
        *iscsi.list_opts(),
        *dhcp.list_opts(),
    ]
