"""fake-hardware's fake RAID and inspect interfaces, loaded like every interface type."""
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def test_fake_hardware_has_fake_raid_and_inspect(harness):
    driver = await ok(await harness.request('GET', '/v1/drivers/fake-hardware'))
    assert driver['enabled_raid_interfaces'] == ['fake', 'no-raid']
    assert driver['default_raid_interface'] == 'fake'
    assert driver['enabled_inspect_interfaces'] == ['fake', 'no-inspect']
    assert driver['default_inspect_interface'] == 'fake'
    node = await api.create_node(harness)
    assert node['raid_interface'] == 'fake' and node['inspect_interface'] == 'fake'
    checked = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert checked['raid'] == {'result': True} and checked['inspect'] == {'result': True}
    plain = await api.create_node(harness, raid_interface='no-raid',
                                  inspect_interface='no-inspect')
    checked = await ok(await harness.request('GET', f'/v1/nodes/{plain["uuid"]}/validate'))
    assert checked['raid']['result'] is False and 'raid' in checked['raid']['reason']
    assert checked['inspect']['result'] is False
    await fault(await harness.request('POST', '/v1/nodes', json={
        'driver': 'fake-hardware', 'raid_interface': 'hardware'}), 400)


async def test_inspection_of_a_fake_node(harness):
    node = await api.create_node(harness)
    await api.move(harness, node['uuid'], 'manage', 'manageable')
    await api.move(harness, node['uuid'], 'inspect', 'manageable')
    # no-inspect: refused before it is accepted, as upstream (400, still manageable)
    plain = await api.create_node(harness, inspect_interface='no-inspect')
    await api.move(harness, plain['uuid'], 'manage', 'manageable')
    inner = await fault(await api.provision(harness, plain['uuid'], 'inspect'), 400)
    assert 'inspect' in inner['faultstring']
    await harness.drain()
    kept = await api.get_node(harness, plain['uuid'])
    assert kept['provision_state'] == 'manageable' and kept['target_provision_state'] is None


async def test_reset_interfaces_covers_raid_and_inspect(sqlite_url):
    h = await Harness(sqlite_url, enabled_hardware_types=['fake-hardware', 'ipmi'],
                      enabled_power_interfaces=['fake', 'ipmitool'],
                      enabled_management_interfaces=['fake', 'ipmitool']).start()
    try:
        node = await api.create_node(h)
        path = f'/v1/nodes/{node["uuid"]}'
        # another driver with reset_interfaces: its defaults
        reset = await ok(await h.request('PATCH', f'{path}?reset_interfaces=true', json=[
            {'op': 'replace', 'path': '/driver', 'value': 'ipmi'}]))
        assert reset['raid_interface'] == 'no-raid', reset
        assert reset['inspect_interface'] == 'no-inspect', reset
        back = await ok(await h.request('PATCH', f'{path}?reset_interfaces=true', json=[
            {'op': 'replace', 'path': '/driver', 'value': 'fake-hardware'}]))
        assert back['raid_interface'] == 'fake' and back['inspect_interface'] == 'fake'
        # an explicit value in the same patch wins over the reset
        mixed = await ok(await h.request('PATCH', f'{path}?reset_interfaces=true', json=[
            {'op': 'replace', 'path': '/driver', 'value': 'ipmi'},
            {'op': 'replace', 'path': '/raid_interface', 'value': 'fake'}]))
        assert mixed['raid_interface'] == 'fake' and mixed['inspect_interface'] == 'no-inspect'
        # removing the field gives the default back
        removed = await ok(await h.request('PATCH', path, json=[
            {'op': 'remove', 'path': '/raid_interface'}]))
        assert removed['raid_interface'] == 'no-raid'
    finally:
        await h.stop()


async def test_enabled_raid_and_inspect_interfaces_options(sqlite_url):
    h = await Harness(sqlite_url, enabled_raid_interfaces=['no-raid'],
                      enabled_inspect_interfaces=['no-inspect']).start()
    try:
        driver = await ok(await h.request('GET', '/v1/drivers/fake-hardware'))
        assert driver['enabled_raid_interfaces'] == ['no-raid']
        assert driver['enabled_inspect_interfaces'] == ['no-inspect']
        node = await api.create_node(h)
        assert node['raid_interface'] == 'no-raid'
        await fault(await h.request('POST', '/v1/nodes', json={
            'driver': 'fake-hardware', 'raid_interface': 'fake'}), 400)
        await fault(await h.request(
            'GET', '/v1/drivers/fake-hardware/raid/logical_disk_properties'), 404)
    finally:
        await h.stop()


async def test_raid_logical_disk_properties(harness):
    path = '/v1/drivers/fake-hardware/raid/logical_disk_properties'
    props = await ok(await harness.request('GET', path))
    assert {'raid_level', 'size_gb', 'is_root_volume', 'volume_name', 'controller',
            'physical_disks'} <= set(props)
    assert all(isinstance(v, str) and v for v in props.values())
    await fault(await harness.request('GET', path, headers=ver('1.11')), 406)
    await fault(await harness.request(
        'GET', '/v1/drivers/nope/raid/logical_disk_properties'), 404)
    # as upstream's pecan routes serve it without /v1 too
    assert await ok(await harness.request(
        'GET', '/drivers/fake-hardware/raid/logical_disk_properties')) == props


async def test_conductor_of_an_older_release_has_no_raid_or_inspect(harness):
    """During a rolling upgrade a conductor may publish no raid/inspect interfaces: the API
    takes that as no-raid/no-inspect instead of failing."""
    from sqlalchemy import select, update

    from ironic_lite.api import keys
    from ironic_lite.db import models
    with harness.db.sync.engine.begin() as conn:
        row = conn.execute(select(models.Conductor.id, models.Conductor.hardware_interfaces)
                           .where(models.Conductor.hostname == harness.host)).one()
        published = {hw: {t: v for t, v in types.items() if t not in ('raid', 'inspect')}
                     for hw, types in row.hardware_interfaces.items()}
        conn.execute(update(models.Conductor).where(models.Conductor.id == row.id)
                     .values(hardware_interfaces=published))
    harness.client.server.app[keys.DRIVERS_CACHE].fetched_at = None
    node = await api.create_node(harness)
    assert node['raid_interface'] == 'no-raid' and node['inspect_interface'] == 'no-inspect'
    driver = await ok(await harness.request('GET', '/v1/drivers/fake-hardware'))
    assert driver['enabled_raid_interfaces'] == ['no-raid']
    await fault(await harness.request(
        'GET', '/v1/drivers/fake-hardware/raid/logical_disk_properties'), 404)
