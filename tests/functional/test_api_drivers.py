"""Drivers: list (type, detail with each interface type's default and enabled list, gated by
version), show, properties, driver-level vendor passthru."""
from tests.functional.api_helpers import fault, ok, ver


async def test_detail_lists_interfaces_by_version(harness):
    listed = await ok(await harness.request('GET', '/v1/drivers'))
    fake = next(d for d in listed['drivers'] if d['name'] == 'fake-hardware')
    assert fake['hosts'] == [harness.host] and fake['type'] == 'dynamic'
    assert 'default_power_interface' not in fake
    detail = await ok(await harness.request('GET', '/v1/drivers?detail=true'))
    fake = next(d for d in detail['drivers'] if d['name'] == 'fake-hardware')
    for itype in ('boot', 'console', 'deploy', 'inspect', 'management', 'network', 'power',
                  'raid', 'vendor', 'storage', 'rescue', 'bios'):
        assert fake[f'default_{itype}_interface'] in fake[f'enabled_{itype}_interfaces'], itype
    assert 'default_firmware_interface' not in fake  # 1.86, above the maximum
    old = await ok(await harness.request('GET', '/v1/drivers?detail=true', headers=ver('1.32')))
    fake = next(d for d in old['drivers'] if d['name'] == 'fake-hardware')
    assert 'default_power_interface' in fake and 'default_storage_interface' not in fake
    at_139 = await ok(await harness.request('GET', '/v1/drivers/fake-hardware',
                                            headers=ver('1.39')))
    assert 'default_rescue_interface' in at_139 and 'default_bios_interface' not in at_139
    assert (await ok(await harness.request('GET', '/v1/drivers?type=classic')))['drivers'] == []
    await fault(await harness.request('GET', '/v1/drivers?type=bogus'), 400)


async def test_properties_and_vendor_passthru(harness):
    props = await ok(await harness.request('GET', '/v1/drivers/fake-hardware/properties'))
    assert isinstance(props, dict)
    assert await ok(await harness.request(
        'GET', '/v1/drivers/fake-hardware/vendor_passthru/methods')) == {}
    await fault(await harness.request('POST', '/v1/drivers/fake-hardware/vendor_passthru'
                                              '?method=nope', json={}), 400)
    await fault(await harness.request('POST', '/v1/drivers/fake-hardware/vendor_passthru',
                                      json={}), 400)
    for path in ('/v1/drivers/nope', '/v1/drivers/nope/properties',
                 '/v1/drivers/nope/vendor_passthru/methods'):
        await fault(await harness.request('GET', path), 404)
