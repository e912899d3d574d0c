"""The pxe and ipxe boot interfaces, called directly under a real task (harness, SQLite).

Images come from a real HTTP server on loopback; every boot path and the dnsmasq provider's
directories are tmp dirs.
"""
from __future__ import annotations

import os

import pytest

from ironic_lite.common import exception, states
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.drivers.modules import pxe_utils
from ironic_lite.testing.harness import Harness
from tests.unit.common.test_image_service import FakeImageServer

MAC = '52:54:00:12:34:56'
API_URL = 'http://192.0.2.1:6385'
HTTP_URL = 'http://192.0.2.1:8080'


@pytest.fixture
async def images():
    async with FakeImageServer() as server:
        for path in ('/k', '/r', '/ik', '/ir'):
            server.put(path, f'{path} v1 '.encode() * 100)
        yield server


@pytest.fixture
async def h(sqlite_url, tmp_path):
    harness = await Harness(sqlite_url, **{
        'enabled_boot_interfaces': ['fake', 'pxe', 'ipxe'],
        'pxe.tftp_root': str(tmp_path / 'tftp'),
        'pxe.tftp_master_path': str(tmp_path / 'tftp' / 'master_images'),
        'pxe.tftp_server': '192.0.2.1',
        'deploy.http_root': str(tmp_path / 'http'),
        'deploy.http_url': HTTP_URL,
        'conductor.api_url': API_URL,
        'dhcp.dhcp_provider': 'dnsmasq',
        'dnsmasq.dhcp_hostsdir': str(tmp_path / 'hosts'),
        'dnsmasq.dhcp_optsdir': str(tmp_path / 'opts'),
    }).start()
    try:
        yield harness
    finally:
        await harness.stop()


async def make_node(h, images, iface='pxe', ports=(MAC,), state=states.DEPLOYING, **values):
    driver_info = {'deploy_kernel': images.url('/k'), 'deploy_ramdisk': images.url('/r')}
    driver_info.update(values.pop('driver_info', {}))
    node = await h.db.create_node({'driver': 'fake-hardware', 'boot_interface': iface,
                                   'provision_state': state, 'driver_info': driver_info,
                                   **values})
    for mac in ports:
        await h.db.create_port({'node_id': node.id, 'address': mac, 'pxe_enabled': True})
    return node


def task(h, node):
    return acquire(h.env, node.id, purpose='test')


def netboot_info(images) -> dict:
    return {'image_source': images.url('/disk'), 'kernel': images.url('/ik'),
            'ramdisk': images.url('/ir'), 'capabilities': {'boot_option': 'netboot'}}


def tree(path) -> list[str]:
    """Every file and link under ``path`` (relative), sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.append(os.path.relpath(os.path.join(dirpath, name), path))
    return sorted(found)


def boot_files(root) -> list[str]:
    """Files and links of the boot root, the master image cache aside."""
    return [f for f in tree(root) if not f.startswith('master_images/')]


def read(path) -> str:
    with open(path) as f:
        return f.read()


# -- validate -----------------------------------------------------------------------------
@pytest.mark.parametrize('values, ports, message', [
    ({'driver_info': {'deploy_kernel': None, 'deploy_ramdisk': ''}}, (MAC,),
     'driver_info parameters for booting the deploy ramdisk of node {uuid}: '
     'deploy_kernel, deploy_ramdisk'),
    ({}, (), 'Node {uuid} has no port with pxe_enabled=True'),
    ({'instance_info': {'image_source': 'http://x/d', 'kernel': 'http://x/k',
                        'capabilities': {'boot_option': 'netboot'}}}, (MAC,),
     'instance_info parameters for netbooting the partition image of node {uuid}: ramdisk'),
    ({'instance_info': {'kernel': 'http://x/k', 'ramdisk': 'http://x/r',
                        'capabilities': '{"boot_option": "netboot"}'}}, (MAC,),
     'instance_info parameters for netbooting node {uuid}: image_source'),
    ({'properties': {'capabilities': 'boot_mode:efi'}}, (MAC,),
     "Invalid boot_mode 'efi' for node {uuid}; valid: bios, uefi"),
    ({'instance_info': {'capabilities': {'boot_option': 'ramdisk'}}}, (MAC,),
     "Invalid boot_option 'ramdisk'"),
    ({'properties': {'capabilities': 'boot_mode'}}, (MAC,),
     "Malformed properties capabilities 'boot_mode'"),
    ({'properties': {'root_device': {'serial': 'x', 'colour': 'blue'}}}, (MAC,),
     'Unknown root device hint(s) colour'),
])
async def test_validate_names_what_is_wrong(h, images, values, ports, message):
    node = await make_node(h, images, ports=ports, **values)
    async with task(h, node) as t:
        with pytest.raises(exception.InvalidParameterValue) as err:
            await t.driver.boot.validate(t)
    assert message.format(uuid=node.uuid) in str(err.value)


async def test_validate_ipxe_needs_http_url(h, images):
    h.fixture.config(http_url=None, group='deploy')
    node = await make_node(h, images, iface='ipxe')
    async with task(h, node) as t:
        with pytest.raises(exception.MissingParameterValue, match=r'\[deploy\]http_url not set'):
            await t.driver.boot.validate(t)


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_validate_accepts_good_nodes(h, images, iface):
    for values in ({}, {'instance_info': netboot_info(images)},
                   {'instance_info': {'capabilities': 'boot_option:netboot'}},  # whole disk
                   {'properties': {'capabilities': 'boot_mode:uefi,cpu_arch:x86_64',
                                   'root_device': {'size': 100}}}):
        node = await make_node(h, images, iface=iface, ports=(), **values)
        await h.db.create_port({'node_id': node.id, 'address': f'52:54:00:00:{node.id:02x}:01'})
        async with task(h, node) as t:
            await t.driver.boot.validate(t)
            assert set(t.driver.boot.get_properties()) == {
                'deploy_kernel', 'deploy_ramdisk', 'force_persistent_boot_device'}


# -- prepare / clean up -----------------------------------------------------------------------
async def test_kernel_params_for_iscsi_deploy_and_ramdisk_params(h, images, tmp_path):
    node = await make_node(h, images, driver_internal_info={'deploy_key': 'KEY123'},
                           properties={'root_device': {'wwn': '0x5000', 'model': 'A/B'}})
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {'ipa-debug': 1})
    config = read(tmp_path / 'tftp' / node.uuid / 'config')
    append = next(line for line in config.splitlines() if line.startswith('append '))
    assert append.split()[2:] == [
        'nofb', 'nomodeset', 'vga=normal', f'ipa-api-url={API_URL}',
        f'ironic_api_url={API_URL}', f'deployment_id={node.uuid}', 'boot_option=local',
        'boot_mode=bios', 'root_device=model=A%2FB,wwn=0x5000',
        f'iscsi_target_iqn=iqn.2008-10.org.openstack:{node.uuid}', 'deployment_key=KEY123',
        'ipa-debug=1']


async def test_unusable_kernel_parameter_is_refused(h, images, tmp_path):
    node = await make_node(h, images)
    async with task(h, node) as t:
        with pytest.raises(exception.InvalidParameterValue, match='ipa-x'):
            await t.driver.boot.prepare_ramdisk(t, {'ipa-x': 'a b\nlabel evil'})
    assert not (tmp_path / 'tftp' / node.uuid).exists()


async def test_api_url_defaults_to_the_provisioning_address(h, images, tmp_path):
    h.fixture.config(api_url=None, group='conductor')
    h.fixture.config(provisioning_interface='lo', group='dhcp')
    h.fixture.config(tftp_server=None, group='pxe')
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    assert 'ipa-api-url=http://127.0.0.1:6385 ' in read(tmp_path / 'tftp' / node.uuid / 'config')
    assert ',66,127.0.0.1\n' in read(tmp_path / 'opts' / f'ironic-{node.uuid}.conf')


async def test_uefi_pxe_uses_grub(h, images, tmp_path):
    node = await make_node(h, images, properties={'capabilities': 'boot_mode:uefi'})
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
        tag = t.node.driver_internal_info['dnsmasq_tag']
    tftp = tmp_path / 'tftp'
    config = read(tftp / node.uuid / 'config')
    assert f'linuxefi {tftp}/{node.uuid}/deploy_kernel ' in config and 'boot_mode=uefi' in config
    for link in ('pxelinux.cfg/01-52-54-00-12-34-56', 'grub.cfg-01-52-54-00-12-34-56',
                 f'{MAC}.conf'):
        assert os.path.samefile(tftp / link, tftp / node.uuid / 'config')
    assert f'tag:{tag},67,bootx64.efi\n' in read(tmp_path / 'opts' / f'ironic-{node.uuid}.conf')
    async with task(h, node) as t:
        await t.driver.boot.clean_up_instance(t)
    assert boot_files(tftp) == []


async def test_clean_up_is_idempotent_and_finds_links_of_removed_ports(h, images, tmp_path):
    node = await make_node(h, images, ports=(MAC, '52:54:00:12:34:57'))
    fresh = await make_node(h, images, ports=('52:54:00:12:34:99',))
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    links = tmp_path / 'tftp' / 'pxelinux.cfg'
    assert sorted(os.listdir(links)) == ['01-52-54-00-12-34-56', '01-52-54-00-12-34-57']
    port = (await h.db.list_ports(node_id=node.id))[1]
    await h.db.destroy_port(port.id)  # deleted while deployed
    for _ in range(2):  # twice is fine
        async with task(h, node) as t:
            await t.driver.boot.clean_up_ramdisk(t)
            await t.driver.boot.clean_up_instance(t)
    assert os.listdir(links) == []
    assert not (tmp_path / 'tftp' / node.uuid).exists()
    assert os.listdir(tmp_path / 'opts') == []
    async with task(h, fresh) as t:  # never prepared: nothing to remove, no error
        await t.driver.boot.clean_up_ramdisk(t)
        await t.driver.boot.clean_up_instance(t)


async def test_leftovers_of_an_interrupted_deploy_never_boot(h, images, tmp_path):
    """A conductor died after caching (no clean-up ran) and the image changed meanwhile."""
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    folder = tmp_path / 'tftp' / node.uuid
    (folder / 'kernel').write_bytes(b'an instance kernel of another era')
    images.put('/k', b'NEW kernel' * 100)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    assert (folder / 'deploy_kernel').read_bytes() == images.files['/k']
    assert sorted(os.listdir(folder)) == ['config', 'deploy_kernel', 'deploy_ramdisk']


async def test_invalid_redeploy_removes_the_earlier_attempt(h, images, tmp_path):
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    assert boot_files(tmp_path / 'tftp')
    await h.db.update_node(node.id, {'driver_info': {'deploy_kernel': images.url('/k')}})
    async with task(h, node) as t:
        with pytest.raises(exception.MissingParameterValue, match=': deploy_ramdisk$'):
            await t.driver.boot.prepare_ramdisk(t, {})
    assert boot_files(tmp_path / 'tftp') == []


async def test_permissions_from_config(h, images, tmp_path):
    h.fixture.config(dir_permission=0o750, file_permission=0o640, group='pxe')
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    folder = tmp_path / 'tftp' / node.uuid
    assert folder.stat().st_mode & 0o777 == 0o750
    assert (tmp_path / 'tftp' / 'pxelinux.cfg').stat().st_mode & 0o777 == 0o750
    assert (folder / 'config').stat().st_mode & 0o777 == 0o640
    assert (folder / 'deploy_kernel').stat().st_mode & 0o777 == 0o444  # the read-only master


async def test_failure_during_prepare_removes_everything(h, images, tmp_path, monkeypatch):
    node = await make_node(h, images, instance_info=netboot_info(images))

    async def bmc_down(task, device, persistent=False):
        raise exception.IPMIFailure(bmc='bmc', reason='timed out')

    async with task(h, node) as t:
        monkeypatch.setattr(t.driver.management, 'set_boot_device', bmc_down)
        with pytest.raises(exception.IPMIFailure):
            await t.driver.boot.prepare_ramdisk(t, {})
        assert 'dnsmasq_tag' not in t.node.driver_internal_info
    assert boot_files(tmp_path / 'tftp') == []
    assert os.listdir(tmp_path / 'opts') == []
    assert read(tmp_path / 'hosts' / f'ironic-{MAC}.conf') == f'{MAC},ignore\n'


async def test_missing_template_is_named_and_leaves_nothing(h, images, tmp_path):
    h.fixture.config(pxe_config_template=str(tmp_path / 'nope.template'), group='pxe')
    node = await make_node(h, images)
    async with task(h, node) as t:
        with pytest.raises(exception.InvalidParameterValue, match='nope.template'):
            await t.driver.boot.prepare_ramdisk(t, {})
    assert not (tmp_path / 'tftp' / node.uuid).exists()


async def test_custom_template(h, images, tmp_path):
    template = tmp_path / 'mine.template'
    template.write_text('default {{ mode }} # {{ kernel }} {{ kernel_params.split()[0] }}\n')
    h.fixture.config(pxe_config_template=str(template), group='pxe')
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    assert read(tmp_path / 'tftp' / node.uuid / 'config') == (
        f'default deploy # {tmp_path}/tftp/{node.uuid}/deploy_kernel nofb\n')


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_clean_up_ramdisk_keeps_a_netbooted_instance(h, images, tmp_path, iface):
    node = await make_node(h, images, iface=iface, instance_info=netboot_info(images),
                           driver_info={'force_persistent_boot_device': 'yes'})
    root = tmp_path / ('http' if iface == 'ipxe' else 'tftp')
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
        assert t.node.driver_internal_info['fake_boot_device'] == {'boot_device': 'pxe',
                                                                   'persistent': True}
        await t.driver.boot.prepare_instance(t)
        await t.driver.boot.clean_up_ramdisk(t)
        assert t.node.driver_internal_info[pxe_utils.NETBOOT_FLAG] is True
    assert sorted(os.listdir(root / node.uuid)) == ['config', 'kernel', 'ramdisk']
    config = read(root / node.uuid / 'config')
    assert 'ro text' in config and 'root=' not in config  # root partition unknown
    assert len(os.listdir(root / 'pxelinux.cfg')) == 1
    async with task(h, node) as t:
        await t.driver.boot.clean_up_instance(t)
        assert pxe_utils.NETBOOT_FLAG not in t.node.driver_internal_info
    assert not (root / node.uuid).exists() and os.listdir(root / 'pxelinux.cfg') == []


async def test_takeover_of_an_active_node_keeps_the_boot_device(h, images, tmp_path):
    node = await make_node(h, images, state=states.ACTIVE, instance_info=netboot_info(images),
                           driver_internal_info={'root_uuid_or_disk_id': 'r00t',
                                                 'fake_boot_device': {'boot_device': 'disk',
                                                                      'persistent': True}})
    async with task(h, node) as t:
        await t.driver.boot.prepare_instance(t)
        assert t.node.driver_internal_info['fake_boot_device']['boot_device'] == 'disk'
    assert 'root=UUID=r00t ro text' in read(tmp_path / 'tftp' / node.uuid / 'config')


async def test_ipxe_boot_script_written_once(h, images, tmp_path):
    first = await make_node(h, images, iface='ipxe', ports=(MAC,))
    second = await make_node(h, images, iface='ipxe', ports=('52:54:00:12:34:57',))
    async with task(h, first) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    script = tmp_path / 'http' / 'boot.ipxe'
    stat = script.stat()
    async with task(h, second) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
    assert script.stat().st_mtime_ns == stat.st_mtime_ns and script.stat().st_ino == stat.st_ino
    assert os.readlink(tmp_path / 'http' / 'pxelinux.cfg' / '52-54-00-12-34-57') == \
        f'../{second.uuid}/config'


async def test_none_dhcp_provider_writes_no_dhcp_files(h, images, tmp_path):
    h.fixture.config(dhcp_provider='none', group='dhcp')
    node = await make_node(h, images)
    async with task(h, node) as t:
        await t.driver.boot.prepare_ramdisk(t, {})
        await t.driver.boot.clean_up_instance(t)
    assert not (tmp_path / 'hosts').exists() and not (tmp_path / 'opts').exists()
