"""API microversions: negotiation, and the version each field, filter and verb appeared in.

Clients send ``X-OpenStack-Ironic-API-Version: 1.x`` (or ``OpenStack-API-Version: baremetal
1.x``, or ``latest``); no header means the minimum. Everything introduced after the negotiated
version is hidden, as upstream Ironic does: fields are absent, filters and request fields are
406, endpoints 404, 405 or 406 as upstream answers each (``api/endpoint_versions.py``).

Served: 1.1 to 1.73. What the versions after 1.31 add:
1.32 volume connectors/targets (node ``volume``), 1.33 ``storage_interface``, 1.34 port
``physical_network``, 1.35 configdrive on rebuild, 1.36 heartbeat ``agent_version``, 1.37
traits, 1.38 rescue/unrescue and ``rescue_interface``, 1.39 ``inspect wait`` state, 1.40 BIOS
and ``bios_interface``, 1.41 abort of inspection, 1.42 ``fault``, 1.43 ``detail=`` on lists,
1.44 ``deploy_step``, 1.45 ``reset_interfaces`` on PATCH, 1.46 ``conductor_group``, 1.47
``automated_clean``, 1.48 ``protected``, 1.49 ``conductor`` and /v1/conductors, 1.50
``owner``, 1.51 ``description``, 1.52 allocations, 1.53 port ``is_smartnic``, 1.54 events,
1.55 deploy templates, 1.56 configdrive as JSON, 1.57 allocation PATCH, 1.58 allocation
backfill, 1.59 configdrive ``vendor_data``, 1.60 allocation ``owner``, 1.61 ``retired``,
1.62 agent token, 1.63 indicators, 1.64 ``local_link_connection`` ``network_type``, 1.65
``lessee``, 1.66 ``network_data``, 1.67 VIF attach by ``port_uuid``/``portgroup_uuid``, 1.68
heartbeat ``agent_verify_ca``, 1.69 ``deploy_steps`` in the provision request, 1.70
``disable_ramdisk`` for manual cleaning, 1.71 signals keystone system-scoped roles (the
policy's personas, ``api/policy_rules.py``; nothing else changes), 1.72 heartbeat
``agent_status`` and ``agent_status_message``, 1.73 the ``deploy`` and ``undeploy`` verbs
(aliases of ``active`` and ``deleted``).
"""
from __future__ import annotations

import re

from ironic_lite.common import exception

MIN_VERSION = (1, 1)
MAX_VERSION = (1, 73)

HEADER = 'X-OpenStack-Ironic-API-Version'
MIN_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version'
MAX_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version'
GENERIC_HEADER = 'OpenStack-API-Version'

_VERSION_RE = re.compile(r'^(\d+)\.(\d+)$')

Version = tuple[int, int]


def fmt(version: Version) -> str:
    return f'{version[0]}.{version[1]}'


def _requested(headers) -> str | None:
    """The requested version string: ``OpenStack-API-Version: baremetal 1.x`` wins (it may
    list other services too, comma-separated), then the legacy Ironic header."""
    for value in headers.getall(GENERIC_HEADER, []):
        for item in value.split(','):
            parts = item.split()
            if parts and parts[0].lower() == 'baremetal':
                return ' '.join(parts[1:])
    return headers.get(HEADER)


def parse(headers) -> Version:
    raw = _requested(headers)
    if raw is None:
        return MIN_VERSION
    raw = raw.strip()
    if raw.lower() == 'latest':
        return MAX_VERSION
    match = _VERSION_RE.match(raw)
    if not match:
        raise exception.InvalidParameterValue(
            err=f'Invalid value for {HEADER} header: {raw!r}. '
                'Expected "1.<minor>" or "latest".')
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise exception.NotAcceptable(
            f'Version {raw} was requested but the minor version is not supported by this '
            f'service. The supported version range is: [{fmt(MIN_VERSION)}, '
            f'{fmt(MAX_VERSION)}].')
    return version


# Node fields and the version that introduced them (absent: there since 1.1).
NODE_FIELD_VERSIONS: dict[str, Version] = {
    'driver_internal_info': (1, 3),
    'name': (1, 5),
    'inspection_started_at': (1, 6), 'inspection_finished_at': (1, 6),
    'clean_step': (1, 7),
    'raid_config': (1, 12), 'target_raid_config': (1, 12),
    'network_interface': (1, 20),
    'resource_class': (1, 21),
    'states': (1, 14), 'portgroups': (1, 24),
    'boot_interface': (1, 31), 'console_interface': (1, 31), 'deploy_interface': (1, 31),
    'inspect_interface': (1, 31), 'management_interface': (1, 31),
    'power_interface': (1, 31), 'raid_interface': (1, 31), 'vendor_interface': (1, 31),
    'volume': (1, 32), 'storage_interface': (1, 33), 'traits': (1, 37),
    'rescue_interface': (1, 38), 'bios_interface': (1, 40), 'fault': (1, 42),
    'deploy_step': (1, 44), 'conductor_group': (1, 46), 'automated_clean': (1, 47),
    'protected': (1, 48), 'protected_reason': (1, 48), 'conductor': (1, 49),
    'owner': (1, 50), 'description': (1, 51), 'allocation_uuid': (1, 52),
    'retired': (1, 61), 'retired_reason': (1, 61), 'lessee': (1, 65),
    'network_data': (1, 66), 'firmware_interface': (1, 86),
}

PORT_FIELD_VERSIONS: dict[str, Version] = {
    'internal_info': (1, 18),
    'local_link_connection': (1, 19), 'pxe_enabled': (1, 19),
    'portgroup_uuid': (1, 24), 'physical_network': (1, 34), 'is_smartnic': (1, 53),
    'name': (1, 88),
}

# Query parameters of GET /v1/nodes and the version that introduced them; a filter newer than
# the negotiated version is refused with 406, as upstream. Upstream checks no version for
# ``retired``, ``description_contains`` and ``project`` (accepted at any version), so neither
# does this table.
NODE_FILTER_VERSIONS: dict[str, Version] = {
    'provision_state': (1, 9), 'driver': (1, 16), 'resource_class': (1, 21),
    'fault': (1, 42), 'detail': (1, 43), 'conductor_group': (1, 46), 'conductor': (1, 49),
    'owner': (1, 50), 'lessee': (1, 65),
}

PORT_FILTER_VERSIONS: dict[str, Version] = {
    'portgroup': (1, 24), 'detail': (1, 43),
}

PROVISION_VERB_VERSIONS: dict[str, Version] = {
    'manage': (1, 4), 'provide': (1, 4), 'inspect': (1, 6), 'abort': (1, 13),
    'clean': (1, 15), 'adopt': (1, 17), 'rescue': (1, 38), 'unrescue': (1, 38),
    'deploy': (1, 73), 'undeploy': (1, 73), 'unhold': (1, 85), 'service': (1, 87),
}

AVAILABLE_STATE = (1, 2)
FIELDS_PARAM = (1, 8)
RAMDISK_ENDPOINTS = (1, 22)
PORTGROUPS = (1, 23)
PORTGROUP_PORTS = (1, 24)
UNSET_CHASSIS = (1, 25)
SOFT_POWER = (1, 27)
VIFS = (1, 28)
INJECT_NMI = (1, 29)
DYNAMIC_DRIVERS = (1, 30)
ENROLL_DEFAULT = (1, 11)
VOLUME = (1, 32)
REBUILD_CONFIGDRIVE = (1, 35)
AGENT_VERSION = (1, 36)
INSPECT_WAIT = (1, 39)
TRAITS = (1, 37)
BIOS = (1, 40)
INSPECT_ABORT = (1, 41)
RESET_INTERFACES = (1, 45)
CONDUCTORS = (1, 49)
ALLOCATIONS = (1, 52)
EVENTS = (1, 54)
DEPLOY_TEMPLATES = (1, 55)
CONFIGDRIVE_JSON = (1, 56)
ALLOCATION_UPDATE = (1, 57)
CONFIGDRIVE_VENDOR_DATA = (1, 59)
AGENT_TOKEN = (1, 62)
INDICATORS = (1, 63)
LLC_NETWORK_TYPE = (1, 64)
VIF_PORT_UUID = (1, 67)
AGENT_VERIFY_CA = (1, 68)
AGENT_STATUS = (1, 72)


def allowed(version: Version, field: str, table: dict[str, Version]) -> bool:
    return version >= table.get(field, MIN_VERSION)
