"""Query parameters of the list and show routes, as the OpenAPI document describes them
(declared on each :class:`~ironic_lite.api.route.Route`; the controllers parse them)."""
from __future__ import annotations

from typing import Any


def query(name: str, schema: dict[str, Any], description: str = '') -> dict[str, Any]:
    return {'name': name, 'in': 'query', 'required': False, 'schema': schema,
            'description': description}


FIELDS = (query('fields', {'type': 'string'}),)
LIST = (
    query('limit', {'type': 'integer', 'minimum': 0}, 'Page size'),
    query('marker', {'type': 'string', 'format': 'uuid'}, 'Last UUID of the previous page'),
    query('sort_key', {'type': 'string'}), query('sort_dir', {'enum': ['asc', 'desc']}),
    query('fields', {'type': 'string'}, 'Comma-separated fields to return (1.8)'),
)
NODE_LIST = LIST + (
    query('associated', {'type': 'boolean'}), query('maintenance', {'type': 'boolean'}),
    query('retired', {'type': 'boolean'}), query('provision_state', {'type': 'string'}),
    query('driver', {'type': 'string'}), query('resource_class', {'type': 'string'}),
    query('instance_uuid', {'type': 'string', 'format': 'uuid'}),
    query('conductor_group', {'type': 'string'}), query('owner', {'type': 'string'}),
    query('lessee', {'type': 'string'}), query('fault', {'type': 'string'}),
    query('detail', {'type': 'boolean'}),
)
PORT_LIST = LIST + (query('node', {'type': 'string'}), query('address', {'type': 'string'}),
                    query('detail', {'type': 'boolean'}))
PORT_DETAIL = LIST + (query('node', {'type': 'string'}),)
DRIVER_LIST = (query('detail', {'type': 'boolean'}),
               query('type', {'enum': ['classic', 'dynamic']}))
LOOKUP = (query('addresses', {'type': 'string'}, 'Comma-separated MACs'),
          query('node_uuid', {'type': 'string', 'format': 'uuid'}))
