"""Routes as upstream Ironic serves them: paths without ``/v1`` and legacy forms."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def test_paths_without_v1_are_served_as_v1(harness):
    node = await ok(await harness.request('POST', '/nodes', json={'driver': 'fake-hardware'}),
                    201)
    listed = await ok(await harness.request('GET', '/nodes'))
    assert [n['uuid'] for n in listed['nodes']] == [node['uuid']]
    # trailing slash, names, sub-resources and PATCH, as under /v1
    await ok(await harness.request('GET', '/nodes/'))
    shown = await ok(await harness.request('GET', f'/nodes/{node["uuid"]}/states'))
    assert shown['provision_state'] == 'enroll'
    patched = await ok(await harness.request(
        'PATCH', f'/nodes/{node["uuid"]}',
        json=[{'op': 'add', 'path': '/extra/a', 'value': 'b'}]))
    assert patched['extra'] == {'a': 'b'}
    # body schemas and versions apply as under /v1
    await fault(await harness.request('POST', '/nodes', json={'driver': 5}), 400)
    await fault(await harness.request('GET', '/portgroups', headers=ver('1.22')), 404)
    # links keep the /v1 form
    await api.create_node(harness)
    page = await ok(await harness.request('GET', '/nodes?limit=1', headers=ver('1.43')))
    assert '/v1/nodes?' in page['next']


async def test_unknown_short_paths_answer_as_their_v1_twin(harness):
    await fault(await harness.request('GET', '/nodes/nope'), 404)
    await fault(await harness.request('GET', '/v2/nodes'), 404)
    resp = await harness.request('PUT', '/nodes')
    await fault(resp, 405)
    assert 'GET' in resp.headers['Allow']
    await fault(await harness.request('POST', '/v1'), 405)
    root = await ok(await harness.request('GET', '/'))
    assert root['name'] == 'OpenStack Ironic API'


@pytest.mark.parametrize('path', ['/v1/nodes', '/nodes'])
async def test_create_through_either_form_is_the_same_node(harness, path):
    node = await ok(await harness.request('POST', path, json={'driver': 'fake-hardware',
                                                              'name': 'n-1'}), 201)
    assert (await api.get_node(harness, 'n-1'))['uuid'] == node['uuid']
