"""Schemas of the other resources' request bodies: chassis, portgroups, allocations, deploy
templates, volume connectors/targets and events (shapes and types; the controllers keep
their version and reference checks)."""
from __future__ import annotations

from ironic_lite.api.schemas.types import DICT, NULL_BOOL, NULL_STR, NULL_UUID, STEPS, TEXT

CHASSIS_CREATE = {
    'type': 'object', 'title': 'Chassis',
    'properties': {'uuid': NULL_UUID, 'description': TEXT, 'extra': DICT},
}
PORTGROUP_CREATE = {
    'type': 'object', 'title': 'Portgroup',
    'properties': {'uuid': NULL_UUID, 'node_uuid': {'type': 'string'},
                   'address': NULL_STR, 'name': NULL_STR, 'mode': NULL_STR,
                   'standalone_ports_supported': NULL_BOOL, 'extra': DICT,
                   'properties': DICT, 'physical_network': NULL_STR},
    'required': ['node_uuid'],
}
ALLOCATION_CREATE = {
    'type': 'object', 'title': 'Allocation',
    'properties': {'uuid': NULL_UUID, 'name': NULL_STR, 'resource_class': NULL_STR,
                   'traits': {'type': ['array', 'null'], 'items': {'type': 'string'}},
                   'candidate_nodes': {'type': ['array', 'null'],
                                       'items': {'type': 'string'}},
                   'extra': {'type': ['object', 'null']}, 'node': NULL_STR,
                   'owner': NULL_STR},
}
DEPLOY_TEMPLATE_CREATE = {
    'type': 'object', 'title': 'Deploy template',
    'properties': {'uuid': NULL_UUID, 'name': {'type': 'string'}, 'steps': STEPS,
                   'extra': DICT},
    'required': ['name', 'steps'],
}
VOLUME_CREATE = {
    'type': 'object', 'title': 'Volume connector or target',
    'properties': {'uuid': NULL_UUID, 'node_uuid': {'type': 'string'},
                   'type': NULL_STR, 'connector_id': NULL_STR,
                   'volume_type': NULL_STR, 'volume_id': NULL_STR,
                   'boot_index': {'type': ['integer', 'null']},
                   'properties': DICT, 'extra': DICT},
}
EVENTS = {
    'type': 'object', 'title': 'External events',
    'properties': {'events': {'type': 'array', 'minItems': 1, 'items': {
        'type': 'object',
        'properties': {'event': {'type': 'string'}, 'port_id': {'type': 'string'},
                       'mac_address': NULL_STR, 'status': NULL_STR, 'device_id': NULL_STR,
                       'binding:host_id': NULL_STR, 'binding:vnic_type': NULL_STR},
        'required': ['event']}}},
    'required': ['events'],
}

