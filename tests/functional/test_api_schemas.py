"""Request bodies are checked against JSON Schemas in one place; the OpenAPI description is
generated from the same route table, schemas and policy table."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import jsonschema
import pytest

from ironic_lite.api import policy, route, route_table
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok


@pytest.mark.parametrize('body,field', [
    ({'driver': 'fake-hardware', 'driver_info': ['a']}, 'driver_info'),
    ({'driver': 'fake-hardware', 'properties': 'x'}, 'properties'),
    ({'driver': 5}, 'driver'),
    ({'driver': 'fake-hardware', 'name': 7}, 'name'),
    ({'driver': 'fake-hardware', 'automated_clean': 'yes'}, 'automated_clean'),
    ({'name': 'no-driver'}, 'driver'),
])
async def test_node_create_body(harness, body, field):
    inner = await fault(await harness.request('POST', '/v1/nodes', json=body), 400)
    assert field in inner['faultstring']


@pytest.mark.parametrize('patch,field', [
    ([{'op': 'move', 'path': '/extra/a', 'value': 1}], 'op'),
    ([{'op': 'add', 'path': 'extra', 'value': 1}], 'path'),
    ([{'path': '/extra/a', 'value': 1}], 'op'),
    ([5], '0'),
    ({'op': 'add'}, 'list'),
])
async def test_json_patch_body(harness, patch, field):
    node = await api.create_node(harness)
    resp = await harness.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=patch)
    inner = await fault(resp, 400)
    assert field in inner['faultstring']


@pytest.mark.parametrize('sub,body,field', [
    ('/states/power', {'target': 'sideways'}, 'target'),
    ('/states/power', {'target': 'power on', 'timeout': 'soon'}, 'timeout'),
    ('/states/power', {'target': 'power on', 'timeout': 0}, 'timeout'),
    ('/states/provision', {'target': 'manage', 'clean_steps': 'all'}, 'clean_steps'),
    ('/states/provision', {}, 'target'),
    ('/management/boot_device', {'boot_device': 'floppy-disk'}, 'boot_device'),
    ('/management/boot_device', {'persistent': True}, 'boot_device'),
    ('/maintenance', {'reason': 5}, 'reason'),
])
async def test_action_bodies(harness, sub, body, field):
    node = await api.create_node(harness)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}{sub}', json=body)
    inner = await fault(resp, 400)
    assert field in inner['faultstring']
    assert 'Traceback' not in inner['faultstring']


async def test_port_create_body(harness):
    node = await api.create_node(harness)
    resp = await harness.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:00:00:01', 'pxe_enabled': 'sure'})
    assert 'pxe_enabled' in (await fault(resp, 400))['faultstring']
    resp = await harness.request('POST', '/v1/ports', json={'node_uuid': node['uuid']})
    assert 'address' in (await fault(resp, 400))['faultstring']


async def test_endpoint_above_version_is_not_validated(harness):
    """Below the version of an endpoint the controller's 404 wins over body checks."""
    node = await api.create_node(harness)
    resp = await harness.request('POST', f'/v1/heartbeat/{node["uuid"]}', json={},
                                 headers=api.ver('1.21'))
    await fault(resp, 404)


def test_every_schema_is_valid():
    for declared in route_table.ROUTES:
        schema = declared.body
        if schema is None:
            continue
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert schema['type'] in ('object', 'array'), declared.key


async def test_openapi_document(harness):
    doc = await ok(await harness.client.get('/v1/openapi.json'))
    assert doc['openapi'].startswith('3.')
    assert doc['info']['version'] == '1.68' or doc['info']['version'].startswith('1.')
    served = {(m.upper(), route.template(p)) for p, item in doc['paths'].items()
              for m in item}
    app_routes = {(r.method, route.template(r.resource.canonical))
                  for r in harness.client.app.router.routes() if r.method != 'HEAD'}
    assert served == app_routes
    create = doc['paths']['/v1/nodes']['post']
    assert create['requestBody']['content']['application/json']['schema'] == \
        route_table.BY_KEY[('POST', '/v1/nodes')].body
    assert 'baremetal:node:create' in create['description']
    provision = doc['paths']['/v1/nodes/{node_ident}/states/provision']['put']
    assert {p['name'] for p in provision['parameters']} >= {'node_ident',
                                                           api.VERSION_HEADER}


def test_tools_script_writes_the_same_document(tmp_path):
    out = tmp_path / 'openapi.json'
    script = pathlib.Path(__file__).parents[2] / 'tools' / 'openapi.py'
    result = subprocess.run([sys.executable, str(script), '-o', str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert '/v1/nodes/{node_ident}' in doc['paths']
    assert doc['paths']['/v1/nodes/{node_ident}']['patch']['requestBody']


def test_policy_rules_are_registered_for_every_route(harness):
    names = {r.name for r in policy.list_rules()}
    declarations = harness.client.app[route.ROUTE]
    for served in harness.client.app.router.routes():
        rule = declarations[served].rule
        assert rule in names, (served.method, served.resource.canonical, rule)
    assert {declared.rule for declared in route_table.ROUTES} <= names


def test_policy_sample_generator_lists_the_defaults():
    result = subprocess.run(
        [sys.executable, '-c', 'from oslo_policy.generator import generate_sample; '
         'import sys; sys.argv=["x", "--namespace", "ironic_lite"]; generate_sample()'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"baremetal:node:set_provision_state"' in result.stdout
    assert 'role:admin and system_scope:all' in result.stdout


@pytest.mark.parametrize('path,body,field', [
    ('/v1/chassis', {'extra': ['x']}, 'extra'),
    ('/v1/portgroups', {'name': 'pg'}, 'node_uuid'),
    ('/v1/allocations', {'resource_class': 'x', 'traits': 'CUSTOM_A'}, 'traits'),
    ('/v1/deploy_templates', {'name': 'CUSTOM_X', 'steps': {}}, 'steps'),
    ('/v1/events', {'events': []}, 'events'),
])
async def test_resource_bodies(harness, path, body, field):
    inner = await fault(await harness.request('POST', path, json=body), 400)
    assert field in inner['faultstring']
