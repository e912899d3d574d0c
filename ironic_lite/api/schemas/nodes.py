"""Schemas of node request bodies: create, JSON patch, and the node's action endpoints."""
from __future__ import annotations

from ironic_lite.api.schemas.types import BOOL, DICT, NULL_BOOL, NULL_STR, NULL_UUID, STEPS, TEXT
from ironic_lite.common import boot_devices, states

_INTERFACES = ('bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management',
               'network', 'power', 'raid', 'rescue', 'storage', 'vendor')

NODE_CREATE = {
    'type': 'object',
    'title': 'Node',
    'properties': {
        'driver': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'name': NULL_STR, 'uuid': NULL_UUID, 'instance_uuid': NULL_UUID,
        'chassis_uuid': NULL_UUID,
        'driver_info': DICT, 'properties': DICT, 'extra': DICT, 'instance_info': DICT,
        'network_data': DICT,
        'resource_class': NULL_STR, 'conductor_group': NULL_STR, 'owner': NULL_STR,
        'lessee': NULL_STR, 'description': TEXT, 'shard': NULL_STR, 'parent_node': NULL_STR,
        'automated_clean': NULL_BOOL, 'protected': NULL_BOOL, 'retired': NULL_BOOL,
        'protected_reason': TEXT, 'retired_reason': TEXT, 'maintenance_reason': TEXT,
        'disable_power_off': NULL_BOOL,
        **{f'{i}_interface': NULL_STR for i in _INTERFACES},
    },
    'required': ['driver'],
}

JSON_PATCH = {
    'type': 'array',
    'title': 'JSON patch (RFC 6902): add, replace and remove',
    'items': {
        'type': 'object',
        'properties': {
            'op': {'type': 'string', 'enum': ['add', 'replace', 'remove']},
            'path': {'type': 'string', 'pattern': '^/.+'},
            'value': {},
        },
        'required': ['op', 'path'],
    },
}

# Manual cleaning steps, checked as upstream's API does (400 before anything is cast): an
# interface that can have clean steps, a step name, optional args; nothing else.
CLEAN_STEPS = {
    'type': 'array',
    'items': {
        'type': 'object',
        'properties': {
            'interface': {'enum': ['bios', 'deploy', 'firmware', 'management', 'power',
                                   'raid', 'vendor']},
            'step': {'type': 'string', 'minLength': 1},
            'args': {'type': 'object'},
        },
        'required': ['interface', 'step'],
        'additionalProperties': False,
    },
}

# Deploy steps of a provision request (1.69), upstream's DEPLOY_STEP_SCHEMA: every key
# required, a priority given as a number or a string of digits. Checked by the controller
# once the version allows the field, so that older versions answer 406 first, as upstream.
DEPLOY_STEPS = {
    'type': 'array',
    'items': {
        'type': 'object',
        'properties': {
            'interface': {'enum': ['bios', 'deploy', 'firmware', 'management', 'power',
                                   'raid', 'vendor']},
            'step': {'type': 'string', 'minLength': 1},
            'args': {'type': 'object'},
            'priority': {'anyOf': [{'type': 'integer', 'minimum': 0},
                                   {'type': 'string', 'minLength': 1, 'pattern': '^[0-9]+$'}]},
        },
        'required': ['interface', 'step', 'args', 'priority'],
        'additionalProperties': False,
    },
}

PROVISION = {
    'type': 'object',
    'title': 'Provision state change',
    'properties': {
        'target': {'type': 'string', 'enum': sorted(states.VERBS)},
        'configdrive': {'type': ['string', 'object', 'null']},
        'clean_steps': CLEAN_STEPS, 'deploy_steps': STEPS, 'service_steps': STEPS,
        'rescue_password': {'type': 'string', 'maxLength': 255},
        'disable_ramdisk': BOOL,
        'runbook': NULL_STR,
    },
    'required': ['target'],
}

POWER = {
    'type': 'object',
    'title': 'Power state change',
    'properties': {
        'target': {'type': 'string', 'enum': [states.POWER_ON, states.POWER_OFF,
                                              states.REBOOT, states.SOFT_POWER_OFF,
                                              states.SOFT_REBOOT]},
        'timeout': {'type': ['integer', 'null'], 'minimum': 1},
    },
    'required': ['target'],
}

CONSOLE = {'type': 'object', 'title': 'Console state', 'properties': {'enabled': BOOL},
           'required': ['enabled']}
BOOT_MODE = {'type': 'object', 'properties': {'target': {'type': 'string',
                                                         'enum': ['uefi', 'bios']}},
             'required': ['target']}
SECURE_BOOT = {'type': 'object', 'properties': {'target': BOOL}, 'required': ['target']}
RAID = {'type': 'object', 'title': 'Target RAID configuration',
        'properties': {'logical_disks': {'type': 'array', 'items': DICT}},
        'required': ['logical_disks']}
MAINTENANCE = {'type': 'object', 'title': 'Maintenance', 'properties': {'reason': TEXT}}
BOOT_DEVICE = {
    'type': 'object',
    'title': 'Boot device',
    'properties': {'boot_device': {'type': 'string', 'enum': list(boot_devices.ALL)},
                   'persistent': {'type': ['boolean', 'string']}},
    'required': ['boot_device'],
}
INDICATOR = {'type': 'object', 'properties': {'state': {'type': 'string',
                                                        'enum': ['ON', 'OFF', 'BLINKING']}},
             'required': ['state']}
TRAITS = {
    'type': 'object',
    'title': 'Traits',
    'properties': {'traits': {'type': 'array', 'items': {'type': 'string', 'minLength': 1,
                                                         'maxLength': 255}}},
    'required': ['traits'],
}
VIF = {
    'type': 'object',
    'title': 'VIF attachment',
    'properties': {'id': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                   'port_uuid': NULL_UUID, 'portgroup_uuid': NULL_UUID},
    'required': ['id'],
}
HEARTBEAT = {
    'type': 'object',
    'title': 'Agent heartbeat',
    'properties': {
        'callback_url': {'type': 'string'},
        'agent_version': NULL_STR, 'agent_token': NULL_STR,
        'agent_verify_ca': TEXT,   # a PEM certificate: longer than 255
        'agent_status': NULL_STR, 'agent_status_message': TEXT,
    },
    'required': ['callback_url'],
}
# POST /v1/heartbeat with the node in the body, as upstream's pecan controller accepts it.
HEARTBEAT_NODE_IN_BODY = {
    **HEARTBEAT,
    'title': 'Agent heartbeat (node in the body)',
    'properties': {**HEARTBEAT['properties'],
                   'node_ident': {'type': 'string', 'minLength': 1, 'maxLength': 255}},
    'required': ['node_ident', 'callback_url'],
}
