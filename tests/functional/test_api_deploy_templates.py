"""Deploy templates (1.55): CRUD with step validation, names as traits, gating."""
from tests.functional.api_helpers import fault, ok, ver

STEP = {'interface': 'bios', 'step': 'apply_configuration',
        'args': {'settings': [{'name': 'LogicalProc', 'value': 'Enabled'}]}, 'priority': 150}


async def test_crud(harness):
    resp = await harness.request('POST', '/v1/deploy_templates', json={
        'name': 'CUSTOM_HYPERTHREADING_ON', 'steps': [STEP], 'extra': {'a': 1}})
    tpl = await ok(resp, 201)
    assert resp.headers['Location'].endswith(f'/v1/deploy_templates/{tpl["uuid"]}')
    assert tpl['steps'] == [STEP] and tpl['extra'] == {'a': 1}
    assert await ok(await harness.request(
        'GET', '/v1/deploy_templates/CUSTOM_HYPERTHREADING_ON')) == tpl
    listed = await ok(await harness.request('GET', '/v1/deploy_templates'))
    assert listed['deploy_templates'] == [{'uuid': tpl['uuid'], 'name': tpl['name'],
                                           'links': tpl['links']}]
    detail = await ok(await harness.request('GET', '/v1/deploy_templates?detail=true'))
    assert detail['deploy_templates'][0]['steps'] == [STEP]
    patched = await ok(await harness.request('PATCH', f'/v1/deploy_templates/{tpl["uuid"]}',
                                             json=[{'op': 'replace', 'path': '/steps/0/priority',
                                                    'value': 10},
                                                   {'op': 'replace', 'path': '/name',
                                                    'value': 'CUSTOM_HT'}]))
    assert patched['steps'][0]['priority'] == 10 and patched['name'] == 'CUSTOM_HT'
    assert (await harness.request('DELETE', '/v1/deploy_templates/CUSTOM_HT')).status == 204
    await fault(await harness.request('GET', '/v1/deploy_templates/CUSTOM_HT'), 404)


async def test_validation_conflicts_and_gating(harness):
    await ok(await harness.request('POST', '/v1/deploy_templates', json={
        'name': 'CUSTOM_A', 'steps': [STEP]}), 201)
    await fault(await harness.request('POST', '/v1/deploy_templates', json={
        'name': 'CUSTOM_A', 'steps': [STEP]}), 409)
    # a standard trait name is fine too
    await ok(await harness.request('POST', '/v1/deploy_templates', json={
        'name': 'HW_CPU_X86_VMX', 'steps': [STEP]}), 201)
    for bad in ({'name': 'not-a-trait', 'steps': [STEP]},
                {'name': 'CUSTOM_B', 'steps': []},
                {'name': 'CUSTOM_B'},
                {'name': 'CUSTOM_B', 'steps': [{**STEP, 'interface': 'boot'}]},
                {'name': 'CUSTOM_B', 'steps': [{**STEP, 'priority': -1}]},
                {'name': 'CUSTOM_B', 'steps': [{**STEP, 'args': []}]},
                {'name': 'CUSTOM_B', 'steps': [{**STEP, 'bogus': 1}]},
                {'name': 'CUSTOM_B', 'steps': [STEP, STEP]},
                {'name': 'CUSTOM_B', 'steps': [STEP], 'bogus': 1}):
        await fault(await harness.request('POST', '/v1/deploy_templates', json=bad), 400)
    await fault(await harness.request('PATCH', '/v1/deploy_templates/CUSTOM_A', json=[
        {'op': 'remove', 'path': '/steps'}]), 400)
    await fault(await harness.request('GET', '/v1/deploy_templates', headers=ver('1.54')), 404)
