"""API 1.72: ``agent_status`` and ``agent_status_message`` in heartbeats (what installers such
as Anaconda's report), through the HTTP API and the in-process conductor, as upstream: refused
(400, "not recognised") at 1.71, the status one of start/end/error, both recorded in the
node's ``driver_internal_info``."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ver
from tests.functional.test_api_ramdisk import _agent_on_active_node, _heartbeat


@pytest.mark.parametrize('body', [{'agent_status': 'start'},
                                  {'agent_status_message': 'installing'}])
async def test_status_not_recognised_at_1_71(harness, body):
    node, token = await _agent_on_active_node(harness)
    inner = await fault(await _heartbeat(harness, node['uuid'], token, headers=ver('1.71'),
                                         **body), 400)
    assert 'agent_status' in inner['faultstring'] and '1.72' in inner['faultstring']
    await harness.drain()
    assert 'agent_url' not in (await api.get_node(harness, node['uuid']))['driver_internal_info']


async def test_status_recorded_at_1_72(harness):
    node, token = await _agent_on_active_node(harness)
    resp = await _heartbeat(harness, node['uuid'], token, headers=ver('1.72'),
                            agent_status='end', agent_status_message='installation done')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    info = (await api.get_node(harness, node['uuid']))['driver_internal_info']
    assert info['agent_status'] == 'end'
    assert info['agent_status_message'] == 'installation done'
    assert info['agent_url'] == 'http://10.0.0.5:9999'


async def test_invalid_status_is_refused(harness):
    node, token = await _agent_on_active_node(harness)
    inner = await fault(await _heartbeat(harness, node['uuid'], token, headers=ver('1.72'),
                                         agent_status='running'), 400)
    assert 'Agent status is invalid. Valid states are start,end,error.' in inner['faultstring']


async def test_without_status_at_1_72_nothing_is_recorded(harness):
    node, token = await _agent_on_active_node(harness)
    resp = await _heartbeat(harness, node['uuid'], token, headers=ver('1.72'))
    assert resp.status == 202, await resp.text()
    await harness.drain()
    info = (await api.get_node(harness, node['uuid']))['driver_internal_info']
    assert 'agent_status' not in info and 'agent_status_message' not in info
