"""Issue 3 acceptance for the pxe and ipxe boot interfaces, through the REST API.

An all-in-one harness (fake-hardware nodes, fake deploy) with every boot path in tmp dirs, the
dnsmasq DHCP provider writing into tmp dirs, and a real HTTP server on loopback serving the
kernels and ramdisks (it counts requests). Checks the files a deploy produces, that undeploy and
failures remove them, that 20 concurrent deploys download each image once, and the seed notes'
stale-image trap end to end.
"""
from __future__ import annotations

import asyncio
import collections
import os

import pytest

from ironic_lite.common import image_cache
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.unit.common.test_image_service import FakeImageServer

API_URL = 'http://127.0.0.1:6385'
HTTP_URL = 'http://127.0.0.1:8080'
TFTP_SERVER = '192.0.2.10'
KERNEL, RAMDISK = '/deploy/ipa.kernel', '/deploy/ipa.initramfs'
IKERNEL, IRAMDISK = '/instance/vmlinuz', '/instance/initrd'


@pytest.fixture
async def images():
    async with FakeImageServer() as server:
        for path in (KERNEL, RAMDISK, IKERNEL, IRAMDISK):
            server.put(path, f'{path} v1 '.encode() * 1000)
        yield server


@pytest.fixture
async def h(sqlite_url, tmp_path):
    harness = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01,
        'enabled_boot_interfaces': ['fake', 'pxe', 'ipxe'],
        'pxe.tftp_root': str(tmp_path / 'tftpboot'),
        'pxe.tftp_master_path': str(tmp_path / 'tftpboot' / 'master_images'),
        'pxe.tftp_server': TFTP_SERVER,
        'pxe.kernel_append_params': 'nofb console=ttyS0',
        'deploy.http_root': str(tmp_path / 'httpboot'),
        'deploy.http_url': HTTP_URL,
        'conductor.api_url': API_URL,
        'dhcp.dhcp_provider': 'dnsmasq',
        'dnsmasq.dhcp_hostsdir': str(tmp_path / 'dnsmasq' / 'hostsdir.d'),
        'dnsmasq.dhcp_optsdir': str(tmp_path / 'dnsmasq' / 'optsdir.d'),
    }).start()
    try:
        yield harness
    finally:
        await harness.stop()


def root(h, iface: str) -> str:
    conf = h.env.conf
    return conf.deploy.http_root if iface == 'ipxe' else conf.pxe.tftp_root


def mac_link(h, iface: str, mac: str) -> str:
    name = mac.replace(':', '-') if iface == 'ipxe' else '01-' + mac.replace(':', '-')
    return os.path.join(root(h, iface), 'pxelinux.cfg', name)


def host_file(h, mac: str) -> str:
    return os.path.join(h.env.conf.dnsmasq.dhcp_hostsdir, f'ironic-{mac}.conf')


def opts_file(h, node_uuid: str) -> str:
    return os.path.join(h.env.conf.dnsmasq.dhcp_optsdir, f'ironic-{node_uuid}.conf')


def master(h, href: str) -> str:
    return os.path.join(h.env.conf.pxe.tftp_master_path, image_cache.master_key(href, False))


def read(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


async def enrolled(h, images, iface: str, mac: str, **values) -> dict:
    values.setdefault('driver_info', {})
    values['driver_info'].update({'deploy_kernel': images.url(KERNEL),
                                  'deploy_ramdisk': images.url(RAMDISK)})
    node = await api.create_node(h, boot_interface=iface, **values)
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': mac, 'pxe_enabled': True}), 201)
    return node


async def available(h, images, iface: str, mac: str, **values) -> dict:
    node = await enrolled(h, images, iface, mac, **values)
    await api.move(h, node['uuid'], 'manage', 'manageable')
    return await api.move(h, node['uuid'], 'provide', 'available')


def assert_linked(h, path: str, href: str) -> None:
    st, mst = os.stat(path), os.stat(master(h, href))
    assert st.st_ino == mst.st_ino and st.st_nlink >= 2


def assert_no_boot_files(h, iface: str, node_uuid: str, mac: str) -> None:
    assert not os.path.exists(os.path.join(root(h, iface), node_uuid))
    assert not os.path.lexists(mac_link(h, iface, mac))
    assert not os.path.exists(opts_file(h, node_uuid))
    # dnsmasq keeps host records it read until SIGHUP: the entry is rewritten to "ignore"
    assert read(host_file(h, mac)) == f'{mac},ignore\n'.encode()


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_deploy_produces_boot_files_and_undeploy_removes_them(h, images, iface):
    mac = '52:54:00:12:34:56'
    node = await available(h, images, iface, mac,
                           properties={'root_device': {'serial': 'S N1'}})
    uuid = node['uuid']
    node = await api.move(h, uuid, 'active', 'active')
    folder = os.path.join(root(h, iface), uuid)

    # per-node config with the deploy ramdisk's kernel parameters
    config = read(os.path.join(folder, 'config')).decode()
    for param in (f'ipa-api-url={API_URL}', f'deployment_id={uuid}', 'boot_option=local',
                  'boot_mode=bios', 'root_device=serial=S%20N1', 'nofb console=ttyS0'):
        assert param in config, (param, config)
    if iface == 'ipxe':
        assert config.startswith('#!ipxe\n')
        assert f'kernel {HTTP_URL}/{uuid}/deploy_kernel ' in config
        assert f'--name ramdisk {HTTP_URL}/{uuid}/deploy_ramdisk ' in config
        assert 'BOOTIF=${mac}' in config
        assert 'pxelinux.cfg/${mac:hexhyp}' in read(os.path.join(root(h, iface),
                                                                 'boot.ipxe')).decode()
    else:
        assert f'kernel {folder}/deploy_kernel\n' in config
        assert f'append initrd={folder}/deploy_ramdisk ' in config
        assert 'ipappend 2' in config
    # per-MAC entry → the config
    link = mac_link(h, iface, mac)
    assert os.readlink(link) == f'../{uuid}/config'
    assert os.path.samefile(link, os.path.join(folder, 'config'))
    # DHCP host entry and options (dnsmasq provider)
    tag = node['driver_internal_info']['dnsmasq_tag']
    assert read(host_file(h, mac)) == f'{mac},set:{tag},set:ironic\n'.encode()
    opts = read(opts_file(h, uuid)).decode().splitlines()
    if iface == 'ipxe':
        assert f'tag:{tag},tag:!ipxe,67,undionly.kpxe' in opts
        assert f'tag:{tag},tag:ipxe,67,{HTTP_URL}/boot.ipxe' in opts
    else:
        assert f'tag:{tag},67,pxelinux.0' in opts
        assert f'tag:{tag},210,{h.env.conf.pxe.tftp_root}/' in opts
    assert f'tag:{tag},option:server-ip-address,{TFTP_SERVER}' in opts
    # images: hard links of the masters, the bytes the server serves
    for label, href in (('deploy_kernel', KERNEL), ('deploy_ramdisk', RAMDISK)):
        assert_linked(h, os.path.join(folder, label), images.url(href))
        assert read(os.path.join(folder, label)) == images.files[href]
    assert node['driver_internal_info']['fake_boot_device'] == {'boot_device': 'pxe',
                                                                 'persistent': False}
    # download progress is visible on the node
    size = {label: len(images.files[href]) for label, href in (('deploy_kernel', KERNEL),
                                                                ('deploy_ramdisk', RAMDISK))}
    assert node['driver_internal_info']['image_download_progress'] == {
        label: {'bytes': n, 'total': n} for label, n in size.items()}

    await api.move(h, uuid, 'deleted', 'available')
    assert_no_boot_files(h, iface, uuid, mac)
    node = await api.get_node(h, uuid)
    assert 'dnsmasq_tag' not in node['driver_internal_info']
    for href in (KERNEL, RAMDISK):  # masters stay cached, now unlinked
        assert os.stat(master(h, images.url(href))).st_nlink == 1


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_netboot_switches_config_to_the_instance(h, images, iface):
    mac = '52:54:00:aa:bb:01'
    node = await available(h, images, iface, mac, driver_info={'fake_deploy_wait': True})
    uuid = node['uuid']
    patch = [{'op': 'add', 'path': '/instance_info', 'value': {
        'image_source': images.url('/instance/disk.img'), 'kernel': images.url(IKERNEL),
        'ramdisk': images.url(IRAMDISK), 'capabilities': {'boot_option': 'netboot'}}}]
    await api.ok(await h.request('PATCH', f'/v1/nodes/{uuid}', json=patch))
    await api.move(h, uuid, 'active', 'wait call-back')
    folder = os.path.join(root(h, iface), uuid)
    assert 'boot_option=netboot' in read(os.path.join(folder, 'config')).decode()
    for label in ('deploy_kernel', 'deploy_ramdisk', 'kernel', 'ramdisk'):
        assert os.path.exists(os.path.join(folder, label))
    # the deploy found the root partition
    db_node = await h.db.get_node(uuid)
    await h.db.update_node(db_node.id, {'driver_internal_info': {
        **db_node.driver_internal_info, 'root_uuid_or_disk_id': 'abcd-1234'}})
    resp = await h.request('POST', f'/v1/nodes/{uuid}/vendor_passthru?method=pass_deploy_info',
                           json={'address': '127.0.0.1', 'key': 'k', 'error': None})
    assert resp.status == 202, await resp.text()
    await h.drain()
    node = await api.get_node(h, uuid)
    assert node['provision_state'] == 'active', node
    config = read(os.path.join(folder, 'config')).decode()
    assert 'root=UUID=abcd-1234 ro text' in config and 'ipa-api-url' not in config
    location = f'{HTTP_URL}/{uuid}' if iface == 'ipxe' else folder
    assert f'{location}/kernel ' in config or f'{location}/kernel\n' in config
    assert os.readlink(mac_link(h, iface, mac)) == f'../{uuid}/config'
    assert_linked(h, os.path.join(folder, 'kernel'), images.url(IKERNEL))
    assert node['driver_internal_info']['fake_boot_device'] == {'boot_device': 'pxe',
                                                                 'persistent': True}
    await api.move(h, uuid, 'deleted', 'available')
    assert_no_boot_files(h, iface, uuid, mac)


async def test_local_boot_removes_the_pxe_config(h, images):
    mac = '52:54:00:aa:bb:02'
    node = await available(h, images, 'pxe', mac, driver_info={'fake_deploy_wait': True})
    uuid = node['uuid']
    await api.move(h, uuid, 'active', 'wait call-back')
    assert os.path.lexists(mac_link(h, 'pxe', mac))
    resp = await h.request('POST', f'/v1/nodes/{uuid}/vendor_passthru/pass_deploy_info',
                           json={'address': '127.0.0.1', 'key': 'k', 'error': None})
    assert resp.status == 202, await resp.text()
    await h.drain()
    node = await api.get_node(h, uuid)
    assert node['provision_state'] == 'active'
    assert not os.path.exists(os.path.join(root(h, 'pxe'), uuid))
    assert not os.path.lexists(mac_link(h, 'pxe', mac))
    assert node['driver_internal_info']['fake_boot_device'] == {'boot_device': 'disk',
                                                                 'persistent': True}


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_failure_after_caching_removes_boot_files(h, images, iface):
    """The ramdisk reports an error: deploy failed, nothing of the node is left to boot."""
    mac = '52:54:00:aa:bb:03'
    node = await available(h, images, iface, mac, driver_info={'fake_deploy_wait': True})
    uuid = node['uuid']
    await api.move(h, uuid, 'active', 'wait call-back')
    assert os.path.exists(os.path.join(root(h, iface), uuid, 'deploy_kernel'))
    resp = await h.request('POST', f'/v1/nodes/{uuid}/vendor_passthru/pass_deploy_info',
                           json={'address': '127.0.0.1', 'key': 'k', 'error': 'disk on fire'})
    assert resp.status == 202
    await h.drain()
    node = await api.get_node(h, uuid)
    assert node['provision_state'] == 'deploy failed' and 'disk on fire' in node['last_error']
    assert_no_boot_files(h, iface, uuid, mac)


async def test_abort_removes_boot_files(h, images):
    mac = '52:54:00:aa:bb:04'
    node = await available(h, images, 'ipxe', mac, driver_info={'fake_deploy_wait': True})
    await api.move(h, node['uuid'], 'active', 'wait call-back')
    await api.move(h, node['uuid'], 'abort', 'deploy failed')
    assert_no_boot_files(h, 'ipxe', node['uuid'], mac)


async def test_image_download_failure_fails_deploy_and_leaves_nothing(h, images):
    """The instance kernel 404s while the deploy images were fetched: all-or-nothing."""
    mac = '52:54:00:aa:bb:05'
    node = await available(h, images, 'pxe', mac, instance_info={
        'image_source': images.url('/instance/disk.img'), 'kernel': images.url('/missing'),
        'ramdisk': images.url(IRAMDISK), 'capabilities': {'boot_option': 'netboot'}})
    uuid = node['uuid']
    node = await api.move(h, uuid, 'active', 'deploy failed')
    assert images.url('/missing') in node['last_error']
    assert not os.path.exists(os.path.join(root(h, 'pxe'), uuid))
    assert not os.path.lexists(mac_link(h, 'pxe', mac))
    assert not os.path.exists(opts_file(h, uuid))
    for href in (KERNEL, RAMDISK, IRAMDISK):  # whatever got cached is not linked by the node
        if os.path.exists(master(h, images.url(href))):
            assert os.stat(master(h, images.url(href))).st_nlink == 1


async def test_missing_deploy_images_named_in_last_error(h, images):
    node = await api.create_node(h, boot_interface='pxe',
                                 driver_info={'deploy_kernel': images.url(KERNEL)})
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': '52:54:00:aa:bb:06'}), 201)
    validation = await api.ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert validation['boot'] == {
        'result': False, 'reason': 'Missing the following driver_info parameters for booting '
                                   f'the deploy ramdisk of node {node["uuid"]}: deploy_ramdisk'}
    await api.move(h, node['uuid'], 'manage', 'manageable')
    await api.move(h, node['uuid'], 'provide', 'available')
    node = await api.move(h, node['uuid'], 'active', 'deploy failed')
    assert 'deploy_ramdisk' in node['last_error'] and 'deploy_kernel' not in node['last_error']


async def test_twenty_concurrent_deploys_download_each_image_once(h, images, monkeypatch):
    macs = [f'52:54:00:00:01:{i:02x}' for i in range(20)]
    nodes = [await available(h, images, 'pxe' if i % 2 else 'ipxe', mac)
             for i, mac in enumerate(macs)]
    # The server holds the image bodies until all 20 deploys wait for both images, so the
    # deploys really overlap (small images would otherwise finish one by one).
    images.gate = asyncio.Event()
    waiting: collections.Counter = collections.Counter()
    real_wait = image_cache._Inflight.wait

    async def counting_wait(self):
        waiting[self.request[0]] += 1
        if len(waiting) == 2 and min(waiting.values()) == 20:
            images.gate.set()
        return await real_wait(self)

    monkeypatch.setattr(image_cache._Inflight, 'wait', counting_wait)
    for node in nodes:  # all accepted before the conductor runs any of them
        resp = await api.provision(h, node['uuid'], 'active')
        assert resp.status == 202
    await h.drain()
    assert images.gate.is_set()
    for node, mac in zip(nodes, macs, strict=True):
        body = await api.get_node(h, node['uuid'])
        assert body['provision_state'] == 'active', body
        iface = body['boot_interface']
        assert os.path.samefile(mac_link(h, iface, mac),
                                os.path.join(root(h, iface), node['uuid'], 'config'))
    for href in (KERNEL, RAMDISK):
        assert images.gets(href) == 1
        assert images.requests[('HEAD', href)] == 1  # one shared fetch, not 20 checks
        assert os.stat(master(h, images.url(href))).st_nlink == 21  # master + 20 nodes


@pytest.mark.parametrize('iface', ['pxe', 'ipxe'])
async def test_stale_image_trap(h, images, iface):
    """Seed notes: a failed deploy left master_images and the node folder, and the next
    deploy booted the old image. Here: fail after caching, change the image, redeploy."""
    mac = '52:54:00:aa:bb:07'
    node = await available(h, images, iface, mac, driver_info={'fake_deploy_wait': True})
    uuid = node['uuid']
    kernel = os.path.join(root(h, iface), uuid, 'deploy_kernel')
    await api.move(h, uuid, 'active', 'wait call-back')
    old = images.files[KERNEL]
    assert read(kernel) == old
    resp = await h.request('POST', f'/v1/nodes/{uuid}/vendor_passthru/pass_deploy_info',
                           json={'address': '127.0.0.1', 'key': 'k', 'error': 'boom'})
    assert resp.status == 202
    await h.drain()
    assert (await api.get_node(h, uuid))['provision_state'] == 'deploy failed'

    images.put(KERNEL, b'the NEW deploy kernel' * 500)  # same URL, new bytes
    await api.move(h, uuid, 'active', 'wait call-back')
    assert read(kernel) == images.files[KERNEL] != old
    assert read(master(h, images.url(KERNEL))) == images.files[KERNEL]
    assert_linked(h, kernel, images.url(KERNEL))
    assert images.gets(KERNEL) == 2 and images.gets(RAMDISK) == 1
