"""Resource representations: which fields a client sees at its microversion, secrets masked."""
from __future__ import annotations

import datetime
import functools
from typing import Any

from aiohttp import web
from oslo_utils import strutils

from ironic_lite.api import microversion as mv
from ironic_lite.api import utils
from ironic_lite.db import models

MASK = '******'

NODE_FIELDS = (
    'uuid', 'name', 'driver', 'instance_uuid', 'chassis_uuid', 'power_state',
    'target_power_state', 'provision_state', 'target_provision_state', 'provision_updated_at',
    'last_error', 'maintenance', 'maintenance_reason', 'fault', 'console_enabled',
    'reservation', 'conductor_group', 'conductor', 'driver_info', 'driver_internal_info',
    'instance_info', 'properties', 'extra', 'clean_step', 'deploy_step', 'raid_config',
    'target_raid_config', 'network_data', 'resource_class', 'owner', 'lessee', 'description',
    'automated_clean', 'protected', 'protected_reason', 'retired', 'retired_reason',
    'inspection_started_at', 'inspection_finished_at', 'allocation_uuid', 'traits',
    'created_at', 'updated_at', 'links', 'ports', 'states', 'portgroups', 'volume',
) + models.NODE_INTERFACE_FIELDS

NODE_LIST_FIELDS = ('uuid', 'instance_uuid', 'maintenance', 'power_state', 'provision_state',
                    'name', 'links')

PORT_FIELDS = ('uuid', 'address', 'node_uuid', 'extra', 'internal_info',
               'local_link_connection', 'pxe_enabled', 'physical_network', 'portgroup_uuid',
               'is_smartnic', 'name', 'created_at', 'updated_at', 'links')
PORT_LIST_FIELDS = ('uuid', 'address', 'links')

# The ramdisk's agent token and the salted hash of an iSCSI deploy key are never shown.
_HIDDEN_INTERNAL = ('agent_secret_token', 'deploy_key_hash')
# Besides oslo's password keys (``strutils.mask_dict_password``): keys named like these hold
# credentials too — ``ipmi_kg_key``, ``snmp_auth_key``, ``redfish_password``, … (as upstream
# masks ``*_password`` and ``*_key`` fields of driver_info).
_SECRET_SUFFIXES = ('_password', '_key', '_secret', '_token', '_passphrase')


def _ts(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).isoformat()


# Cached per microversion: computed once per node rendered otherwise (200 times for a detail
# listing of 200 nodes). Frozen, so callers cannot change the cached value.
@functools.lru_cache(maxsize=256)
def visible_node_fields(version: mv.Version) -> frozenset[str]:
    return frozenset(f for f in NODE_FIELDS if mv.allowed(version, f, mv.NODE_FIELD_VERSIONS))


@functools.lru_cache(maxsize=256)
def visible_port_fields(version: mv.Version) -> frozenset[str]:
    return frozenset(f for f in PORT_FIELDS if mv.allowed(version, f, mv.PORT_FIELD_VERSIONS))


# Fields computed from other tables or from the hash ring, not read from the node's row: the
# controller looks them up for a whole page at once and passes them in ``related``.
RELATED_NODE_FIELDS = frozenset({'chassis_uuid', 'allocation_uuid', 'conductor'})


def wanted_node_fields(request: web.Request,
                       fields: list[str] | tuple | None = None) -> frozenset[str]:
    """The node fields a response shows: those of the negotiated version, narrowed to
    ``fields`` when given."""
    wanted = visible_node_fields(utils.version(request))
    return wanted if fields is None else wanted & frozenset(fields)


def provision_state_for_version(ver: mv.Version, value: str | None) -> str | None:
    """Older clients see the state names of their version, as upstream shows them."""
    if value == 'available' and ver < mv.AVAILABLE_STATE:
        return None  # "NOSTATE" before 1.2
    if value == 'inspect wait' and ver < mv.INSPECT_WAIT:
        return 'inspecting'
    return value


def mask_secrets(info: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of ``info`` (nested dictionaries too) with every secret value ``******``."""
    info = strutils.mask_dict_password(info or {}, MASK)
    for key, value in info.items():
        if isinstance(value, dict):
            info[key] = mask_secrets(value)
        elif value not in (None, '') and isinstance(key, str) and \
                key.lower().endswith(_SECRET_SUFFIXES):
            info[key] = MASK
    return info


def driver_info(request: web.Request | None, info: dict[str, Any]) -> dict[str, Any]:
    """Passwords and keys masked unless ``show_password`` allows (``request`` None: a public
    answer, always masked)."""
    if request is not None and utils.shows_secrets(request, 'show_password'):
        return dict(info)
    return mask_secrets(info)


def instance_info(request: web.Request | None, info: dict[str, Any]) -> dict[str, Any]:
    """As upstream: secrets and the configdrive masked, and ``image_url`` too (the agent
    deploy may keep a temporary URL there) — unless ``show_instance_secrets`` allows
    (``request`` None: a public answer, always masked)."""
    if request is not None and utils.shows_secrets(request, 'show_instance_secrets'):
        return dict(info)
    info = mask_secrets(info)
    for key in ('configdrive', 'image_url'):
        if info.get(key):
            info[key] = MASK
    return info


def driver_internal_info(info: dict[str, Any]) -> dict[str, Any]:
    info = dict(info or {})
    for key in _HIDDEN_INTERNAL:
        if key in info:
            info[key] = MASK
    return info


def node(request: web.Request, n: models.Node, fields: list[str] | tuple | None = None,
         related: dict[str, Any] | None = None) -> dict[str, Any]:
    ver = utils.version(request)
    wanted = wanted_node_fields(request, fields)
    related = related or {}
    out: dict[str, Any] = {}
    for f in wanted:
        if f == 'links':
            out[f] = utils.links(request, 'nodes', n.uuid)
        elif f in ('ports', 'states', 'portgroups', 'volume'):
            out[f] = utils.links(request, f'nodes/{n.uuid}', f)
        elif f in RELATED_NODE_FIELDS:
            out[f] = related.get(f)
        elif f == 'traits':
            # loaded with the page (controllers.nodes.related); a new node has none
            out[f] = related.get('traits', [])
        elif f == 'provision_state':
            out[f] = provision_state_for_version(ver, n.provision_state)
        elif f == 'driver_info':
            out[f] = driver_info(request, n.driver_info)
        elif f == 'driver_internal_info':
            out[f] = driver_internal_info(n.driver_internal_info)
        elif f == 'instance_info':
            out[f] = instance_info(request, n.instance_info)
        else:
            value = getattr(n, f)
            out[f] = _ts(value) if isinstance(value, datetime.datetime) else value
    return out


def port(request: web.Request, p: models.Port, node_uuid: str | None,
         fields: list[str] | tuple | None = None,
         portgroup_uuid: str | None = None) -> dict[str, Any]:
    ver = utils.version(request)
    wanted = visible_port_fields(ver)
    if fields is not None:
        wanted &= set(fields)
    out: dict[str, Any] = {}
    for f in wanted:
        if f == 'links':
            out[f] = utils.links(request, 'ports', p.uuid)
        elif f == 'node_uuid':
            out[f] = node_uuid
        elif f == 'portgroup_uuid':
            out[f] = portgroup_uuid
        elif f == 'local_link_connection':
            llc = dict(p.local_link_connection or {})
            if ver < mv.LLC_NETWORK_TYPE:
                llc.pop('network_type', None)
            out[f] = llc
        else:
            value = getattr(p, f)
            out[f] = _ts(value) if isinstance(value, datetime.datetime) else value
    return out
