"""Issue 12: deploying a ``redfish`` node with the ``direct`` deploy, booting the ramdisk by
``ipxe`` or from an ISO on the BMC's virtual CD (``redfish-virtual-media``).

Real parts only: an all-in-one harness (API on a loopback port, conductor, SQLite), sushy-tools'
emulator as the node's BMC (fake systems, real HTTP), ``ipxe`` boot writing into a tmp HTTP
root served by a real HTTP server, a real HTTP image server, and a
:class:`~ironic_lite.tools.agent_sim.SimAgent` ramdisk that looks the node up, heartbeats,
downloads, verifies and writes the image. The agent's ``standby.power_off`` powers its system
off through the emulator's Redfish API, as the real agent powers its machine off.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import os

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ironic_lite.drivers.modules.redfish import utils as redfish_utils
from ironic_lite.testing.harness import Harness
from ironic_lite.testing.redfish import RedfishEmulator
from ironic_lite.tools.agent_sim import SimAgent
from tests.functional import api_helpers as api
from tests.unit.common.test_image_service import FakeImageServer

KERNEL, RAMDISK, IMAGE = '/deploy/ipa.kernel', '/deploy/ipa.initramfs', '/images/disk.raw'
RAW = bytes(range(256)) * 4096 + os.urandom(64 * 1024)    # 1 MiB + 64 KiB


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish')), count=3,
                         password='password') as emulator:
        yield emulator


@pytest.fixture
async def images():
    async with FakeImageServer() as server:
        for path in (KERNEL, RAMDISK):
            server.put(path, f'{path} '.encode() * 100)
        server.put(IMAGE, RAW)
        yield server


@pytest.fixture
async def h(sqlite_url, tmp_path):
    """The harness, with [deploy]http_root served over HTTP (iPXE scripts, kernels, ISOs)."""
    boot_loader = tmp_path / 'efiboot.img'       # any bytes do: nothing boots it here
    boot_loader.write_bytes(b'\0' * 2048 * 4)
    root = tmp_path / 'httpboot'
    root.mkdir()
    app = web.Application()
    app.router.add_static('/', str(root))
    http = TestServer(app, host='127.0.0.1', port=0)
    await http.start_server()
    harness = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01,
        'enabled_hardware_types': ['redfish', 'fake-hardware'],
        'enabled_boot_interfaces': ['fake', 'ipxe', 'redfish-virtual-media'],
        'enabled_deploy_interfaces': ['direct', 'fake'],
        'enabled_power_interfaces': ['redfish', 'fake'],
        'enabled_management_interfaces': ['redfish', 'fake'],
        'pxe.tftp_root': str(tmp_path / 'tftpboot'),
        'pxe.tftp_master_path': str(tmp_path / 'tftpboot' / 'master_images'),
        'pxe.instance_master_path': str(tmp_path / 'master_images'),
        'pxe.tftp_server': '192.0.2.10',
        'conductor.api_url': 'http://127.0.0.1:6385',
        'deploy.http_root': str(root),
        'deploy.http_url': str(http.make_url('')).rstrip('/'),
        'agent.post_deploy_get_power_state_retry_interval': 0.05,
        'agent.command_timeout': 10,
        'redfish.bootloader': str(boot_loader),
        'redfish.isolinux_bin': str(boot_loader),
    }).start()
    harness.agents = []
    try:
        yield harness
    finally:
        await asyncio.gather(*(a.stop() for a in harness.agents))
        await harness.stop()
        await http.close()
        redfish_utils.shutdown()


async def wait_for_state(h, uuid: str, states: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        node = await api.get_node(h, uuid)
        if node['provision_state'] in states and node['reservation'] is None:
            return node
        assert asyncio.get_running_loop().time() < deadline, node
        await asyncio.sleep(0.05)


async def test_ipxe_direct_deploy_of_a_redfish_node_then_undeploy(h, images, bmc, tmp_path):
    system, mac = bmc.systems[0], bmc.fake_systems[0]['nics'][0]['mac']
    bmc.set_power(system, 'ForceOff')
    node = await api.create_node(
        h, driver='redfish', boot_interface='ipxe', deploy_interface='direct',
        driver_info={**bmc.driver_info(system), 'deploy_kernel': images.url(KERNEL),
                     'deploy_ramdisk': images.url(RAMDISK)},
        instance_info={'image_source': images.url(IMAGE),
                       'image_checksum': hashlib.sha256(RAW).hexdigest()})
    uuid = node['uuid']
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': uuid, 'address': mac, 'pxe_enabled': True}), 201)
    await api.move(h, uuid, 'manage', 'manageable')
    await api.move(h, uuid, 'provide', 'available')
    validation = await api.ok(await h.request('GET', f'/v1/nodes/{uuid}/validate'))
    assert all(validation[i]['result'] for i in ('boot', 'deploy', 'power', 'management')), \
        validation

    async def power_off(agent: SimAgent) -> None:   # the ramdisk powers its machine off
        await asyncio.to_thread(bmc.set_power, system, 'ForceOff')
    agent = SimAgent(h.url, [mac], str(tmp_path / 'disk'), heartbeat_interval=0.2,
                     lookup_interval=0.05, on_power_off=power_off)
    h.agents.append(agent)

    resp = await api.provision(h, uuid, 'active')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, uuid, ('wait call-back', 'deploy failed', 'active'))
    assert node['provision_state'] == 'wait call-back', node['last_error']
    # the conductor boots the machine into the ramdisk over the network, by iPXE
    booted = bmc.system(system)
    assert booted['PowerState'] == 'On'
    assert booted['Boot']['BootSourceOverrideTarget'] == 'Pxe'
    assert os.path.exists(os.path.join(h.env.conf.deploy.http_root, 'pxelinux.cfg',
                                       mac.replace(':', '-')))
    await agent.start()
    node = await wait_for_state(h, uuid, ('active', 'deploy failed'))
    assert node['provision_state'] == 'active', node['last_error']
    assert node['last_error'] is None and node['power_state'] == 'power on'
    with open(agent.disk_path, 'rb') as f:
        assert f.read() == RAW
    assert [c['command_name'] for c in agent.commands] == ['prepare_image', 'power_off']
    booted = bmc.system(system)
    assert booted['PowerState'] == 'On'
    assert booted['Boot']['BootSourceOverrideTarget'] == 'Hdd'     # local boot from now on
    assert not os.path.exists(os.path.join(h.env.conf.deploy.http_root, uuid))

    resp = await api.provision(h, uuid, 'deleted')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, uuid, ('available', 'error', 'clean failed'))
    assert node['provision_state'] == 'available' and node['last_error'] is None, node
    assert bmc.power_state(system) == 'Off'


async def test_deploy_with_a_changed_bmc_password_fails_clearly(h, images, bmc):
    system = bmc.systems[1]
    node = await api.create_node(
        h, driver='redfish', boot_interface='ipxe', deploy_interface='direct',
        driver_info={**bmc.driver_info(system), 'deploy_kernel': images.url(KERNEL),
                     'deploy_ramdisk': images.url(RAMDISK)},
        instance_info={'image_source': images.url(IMAGE),
                       'image_checksum': hashlib.sha256(RAW).hexdigest()})
    uuid = node['uuid']
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': uuid, 'address': '52:54:00:bb:00:01'}), 201)
    await api.move(h, uuid, 'manage', 'manageable')
    await api.move(h, uuid, 'provide', 'available')
    # the BMC's password changes behind ironic's back
    resp = await h.request('PATCH', f'/v1/nodes/{uuid}', json=[
        {'op': 'replace', 'path': '/driver_info/redfish_password', 'value': 'changed'}])
    assert resp.status == 200, await resp.text()
    resp = await api.provision(h, uuid, 'active')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, uuid, ('deploy failed', 'active', 'wait call-back'))
    assert node['provision_state'] == 'deploy failed', node
    assert 'access denied' in node['last_error'] and bmc.url in node['last_error'], node
    assert not os.path.exists(os.path.join(h.env.conf.deploy.http_root, uuid))


def iso_files(path: str) -> dict[str, bytes]:
    """Rock Ridge path -> content of every file of an ISO."""
    import pycdlib
    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        out = {}
        for root, _dirs, files in iso.walk(rr_path='/'):
            for name in files:
                data = io.BytesIO()
                iso.get_file_from_iso_fp(data, rr_path=f'{root.rstrip("/")}/{name}')
                out[f'{root.rstrip("/")}/{name}'] = data.getvalue()
        out['El Torito'] = b'yes' if iso.eltorito_boot_catalog else b''
        return out
    finally:
        iso.close()


@pytest.mark.parametrize('boot_mode', ['uefi', 'bios'])
async def test_virtual_media_direct_deploy_then_undeploy(h, images, bmc, tmp_path, boot_mode):
    system, mac = bmc.systems[2], bmc.fake_systems[2]['nics'][0]['mac']
    bmc.set_power(system, 'ForceOff')
    node = await api.create_node(
        h, driver='redfish', boot_interface='redfish-virtual-media', deploy_interface='direct',
        properties={'capabilities': f'boot_mode:{boot_mode}'},
        driver_info={**bmc.driver_info(system), 'deploy_kernel': images.url(KERNEL),
                     'deploy_ramdisk': images.url(RAMDISK)},
        instance_info={'image_source': images.url(IMAGE),
                       'image_checksum': hashlib.sha256(RAW).hexdigest()})
    uuid = node['uuid']
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': uuid, 'address': mac, 'pxe_enabled': False}), 201)
    await api.move(h, uuid, 'manage', 'manageable')
    await api.move(h, uuid, 'provide', 'available')
    validation = await api.ok(await h.request('GET', f'/v1/nodes/{uuid}/validate'))
    assert validation['boot']['result'] is True, validation

    resp = await api.provision(h, uuid, 'active')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, uuid, ('wait call-back', 'deploy failed', 'active'))
    assert node['provision_state'] == 'wait call-back', node['last_error']
    iso_path = os.path.join(h.env.conf.deploy.http_root, uuid, 'boot.iso')
    iso_url = f"{h.env.conf.deploy.http_url}/{uuid}/boot.iso"
    cd = bmc.virtual_cd(system)
    assert (cd['Image'], cd['Inserted']) == (iso_url, True), cd   # the BMC downloaded it
    booted = bmc.system(system)
    assert booted['PowerState'] == 'On'
    assert booted['Boot']['BootSourceOverrideTarget'] == 'Cd'
    files = await asyncio.to_thread(iso_files, iso_path)
    assert files['/vmlinuz'] == images.files[KERNEL]
    assert files['/initrd'] == images.files[RAMDISK]
    config = files['/boot/grub/grub.cfg' if boot_mode == 'uefi' else '/isolinux/isolinux.cfg']
    assert f'deployment_id={uuid}'.encode() in config and b'ipa-api-url=' in config
    assert f'boot_mode={boot_mode}'.encode() in config
    assert files['El Torito']

    async def power_off(agent: SimAgent) -> None:
        await asyncio.to_thread(bmc.set_power, system, 'ForceOff')
    agent = SimAgent(h.url, [mac], str(tmp_path / 'disk'), heartbeat_interval=0.2,
                     lookup_interval=0.05, on_power_off=power_off)
    h.agents.append(agent)
    await agent.start()
    node = await wait_for_state(h, uuid, ('active', 'deploy failed'))
    assert node['provision_state'] == 'active', node['last_error']
    with open(agent.disk_path, 'rb') as f:
        assert f.read() == RAW
    assert bmc.virtual_cd(system)['Inserted'] is False            # ejected
    assert bmc.system(system)['Boot']['BootSourceOverrideTarget'] == 'Hdd'
    assert not os.path.exists(iso_path)

    resp = await api.provision(h, uuid, 'deleted')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, uuid, ('available', 'error', 'clean failed'))
    assert node['provision_state'] == 'available' and node['last_error'] is None, node
    assert bmc.power_state(system) == 'Off'
