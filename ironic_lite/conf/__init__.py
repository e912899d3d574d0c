"""Configuration: every option lives in one module per group and registers on the global CONF.

Option names and groups follow upstream Ironic's wherever Ironic has the same option, so an
operator's ironic.conf carries over.
"""
from oslo_config import cfg

import ironic_lite.conf.agent as agent
import ironic_lite.conf.dhcp as dhcp
import ironic_lite.conf.images as images
import ironic_lite.conf.ipmi as ipmi
import ironic_lite.conf.iscsi as iscsi
import ironic_lite.conf.pxe as pxe
import ironic_lite.conf.redfish as redfish
from ironic_lite.conf import api, auth, conductor, default, deploy, fake

CONF = cfg.CONF

default.register_opts(CONF)
agent.register_opts(CONF)
api.register_opts(CONF)
auth.register_opts(CONF)
conductor.register_opts(CONF)
deploy.register_opts(CONF)
fake.register_opts(CONF)
images.register_opts(CONF)
ipmi.register_opts(CONF)
iscsi.register_opts(CONF)
pxe.register_opts(CONF)
redfish.register_opts(CONF)
dhcp.register_opts(CONF)
