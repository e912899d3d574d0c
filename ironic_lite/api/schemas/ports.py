"""Schemas of port request bodies."""
from __future__ import annotations

from ironic_lite.api.schemas.types import BOOL, DICT, NULL_STR, NULL_UUID, UUID

PORT_CREATE = {
    'type': 'object',
    'title': 'Port',
    'properties': {
        'address': {'type': 'string', 'description': 'MAC address', 'maxLength': 64},
        'node_uuid': UUID,
        'uuid': NULL_UUID,
        'extra': DICT,
        'local_link_connection': DICT,
        'pxe_enabled': BOOL,
        'portgroup_uuid': NULL_UUID,
        'physical_network': NULL_STR,
        'is_smartnic': BOOL,
        'name': NULL_STR,
    },
    'required': ['address'],
}
