"""API 1.70: ``disable_ramdisk`` for manual cleaning, through the HTTP API and the in-process
conductor with the fake interfaces, as upstream Ironic: hidden (406) at 1.69, only with
``clean`` (400 otherwise), and then every step must be declared ``requires_ramdisk=False``
(out-of-band), else the cleaning fails with upstream's message.
"""
from __future__ import annotations

import pytest

from ironic_lite.drivers.modules import fake
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ver
from tests.functional.test_steps import SETTINGS, bios

APPLY = {'interface': 'bios', 'step': 'apply_configuration', 'args': {'settings': SETTINGS}}


async def _clean(h, ident: str, version: str = '1.70', **body):
    resp = await h.request('PUT', f'/v1/nodes/{ident}/states/provision',
                           json={'target': 'clean', 'clean_steps': [APPLY], **body},
                           headers=ver(version))
    return resp


async def _manageable(h) -> dict:
    node = await api.create_node(h)
    return await api.move(h, node['uuid'], 'manage', 'manageable')


async def test_disable_ramdisk_hidden_at_1_69(harness):
    node = await _manageable(harness)
    inner = await fault(await _clean(harness, node['uuid'], '1.69', disable_ramdisk=True), 406)
    assert '1.70' in inner['faultstring']
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'manageable'


@pytest.mark.parametrize('target', ['manage', 'provide', 'active'])
async def test_disable_ramdisk_only_with_clean(harness, target):
    node = await api.create_node(harness)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': target, 'disable_ramdisk': True},
                                 headers=ver('1.70'))
    inner = await fault(resp, 400)
    assert 'disable_ramdisk is supported only with manual cleaning' in inner['faultstring']


async def test_false_cleans_as_before(harness):
    node = await _manageable(harness)
    resp = await _clean(harness, node['uuid'], disable_ramdisk=False)
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'manageable' and done['last_error'] is None, done
    assert await bios(harness, node['uuid']) == {s['name']: s['value'] for s in SETTINGS}
    assert 'cleaning_disable_ramdisk' not in done['driver_internal_info']


async def test_a_step_needing_the_ramdisk_fails_the_cleaning(harness):
    """The fake BIOS steps are declared requiring a ramdisk, as upstream's fake ones."""
    node = await _manageable(harness)
    resp = await _clean(harness, node['uuid'], disable_ramdisk=True)
    assert resp.status == 202, await resp.text()
    await harness.drain()
    failed = await api.get_node(harness, node['uuid'])
    assert failed['provision_state'] == 'clean failed', failed
    assert f'Cannot clean node {node["uuid"]}' in failed['last_error']
    assert 'requires booting a ramdisk' in failed['last_error']
    assert await bios(harness, node['uuid']) == {}
    assert 'cleaning_disable_ramdisk' not in failed['driver_internal_info']


async def test_out_of_band_steps_run_without_ramdisk(harness, monkeypatch):
    """A step declared ``requires_ramdisk=False`` (as a BMC-driven step is) runs."""
    declared = fake.FakeBIOS.get_clean_steps

    def out_of_band(self, task):
        return [{**s, 'requires_ramdisk': False} for s in declared(self, task)]

    monkeypatch.setattr(fake.FakeBIOS, 'get_clean_steps', out_of_band)
    node = await _manageable(harness)
    resp = await _clean(harness, node['uuid'], disable_ramdisk=True)
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'manageable' and done['last_error'] is None, done
    assert await bios(harness, node['uuid']) == {s['name']: s['value'] for s in SETTINGS}
    assert 'cleaning_disable_ramdisk' not in done['driver_internal_info']
