"""Issue 4, agent half: the ``direct`` deploy through the ironic-python-agent protocol.

Real parts only: an all-in-one harness (API on a loopback port, conductor, SQLite), ``ipmi``
nodes whose BMCs are :class:`~ironic_lite.tools.fakebmc.FakeBmcFleet` on loopback UDP ports,
``pxe`` boot writing into tmp dirs, a real HTTP server for the images and another one serving
``[deploy]http_root``, and :class:`~ironic_lite.tools.agent_sim.SimAgent` ramdisks that look
the node up, heartbeat, and download, verify and write the image into their disk files. The
simulated agent's ``standby.power_off`` turns its fake BMC off, as the real agent powers its
machine off.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ironic_lite.api import microversion as mv
from ironic_lite.testing.harness import Harness
from ironic_lite.tools.agent_sim import SimAgent
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.functional import api_helpers as api
from tests.unit.common.test_image_service import FakeImageServer

N_BMCS = 30
KERNEL, RAMDISK = '/deploy/ipa.kernel', '/deploy/ipa.initramfs'
RAW = bytes(range(256)) * 4096 + os.urandom(64 * 1024)    # 1 MiB + 64 KiB


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


@pytest.fixture(scope='module')
def fleet():
    from ironic_lite.drivers.modules import ipmi_client
    with FakeBmcFleet(ports=[0] * N_BMCS) as f:
        yield f
    ipmi_client.shutdown()


_bmc_ports = iter(range(N_BMCS))


@pytest.fixture(scope='module')
def qcow2_image(tmp_path_factory) -> bytes:
    """RAW converted to qcow2 by qemu-img (the Debian package qemu-utils)."""
    folder = tmp_path_factory.mktemp('qcow2')
    (folder / 'disk.raw').write_bytes(RAW)
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                    str(folder / 'disk.raw'), str(folder / 'disk.qcow2')], check=True)
    return (folder / 'disk.qcow2').read_bytes()


@pytest.fixture
async def images(qcow2_image):
    async with FakeImageServer() as server:
        for path in (KERNEL, RAMDISK):
            server.put(path, f'{path} '.encode() * 100)
        server.put('/images/disk.raw', RAW)
        server.put('/images/disk.qcow2', qcow2_image)
        yield server


@pytest.fixture
async def http_root(tmp_path):
    """The conductor's HTTP server: serves [deploy]http_root (agent image cache)."""
    root = tmp_path / 'httpboot'
    root.mkdir()
    app = web.Application()
    app.router.add_static('/', str(root))
    server = TestServer(app, host='127.0.0.1', port=0)
    await server.start_server()
    try:
        yield root, str(server.make_url('')).rstrip('/')
    finally:
        await server.close()


@pytest.fixture
async def h(sqlite_url, tmp_path, http_root):
    root, url = http_root
    harness = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01,
        'enabled_hardware_types': ['ipmi', 'fake-hardware'],
        'enabled_boot_interfaces': ['fake', 'pxe'],
        'enabled_deploy_interfaces': ['direct', 'fake'],
        'enabled_power_interfaces': ['ipmitool', 'fake'],
        'enabled_management_interfaces': ['ipmitool', 'fake'],
        'pxe.tftp_root': str(tmp_path / 'tftpboot'),
        'pxe.tftp_master_path': str(tmp_path / 'tftpboot' / 'master_images'),
        'pxe.instance_master_path': str(tmp_path / 'master_images'),
        'pxe.tftp_server': '192.0.2.10',
        'conductor.api_url': 'http://127.0.0.1:6385',
        'deploy.http_root': str(root),
        'deploy.http_url': url,
        'ipmi.min_command_interval': 0.01,
        'agent.post_deploy_get_power_state_retry_interval': 0.05,
        'agent.command_timeout': 10,
    }).start()
    harness.agents = []
    try:
        yield harness
    finally:
        await asyncio.gather(*(a.stop() for a in harness.agents))
        await harness.stop()


def start_agent(h, fleet, port: int, mac: str, disk: str, **kwargs) -> SimAgent:
    def power_off(agent: SimAgent) -> None:
        fleet.set_state(port, power='off')   # the agent powers its machine off
    agent = SimAgent(h.url, [mac], disk, heartbeat_interval=0.2, lookup_interval=0.05,
                     on_power_off=power_off, **kwargs)
    h.agents.append(agent)
    return agent


async def ipmi_node(h, images, fleet, mac: str, image: str = '/images/disk.raw',
                    checksum: str | None = None, **instance_info) -> tuple[dict, int]:
    port = fleet.ports[next(_bmc_ports)]
    fleet.set_state(port, power='off')
    node = await api.create_node(
        h, driver='ipmi', boot_interface='pxe', deploy_interface='direct',
        driver_info={'ipmi_address': '127.0.0.1', 'ipmi_port': port,
                     'ipmi_username': 'admin', 'ipmi_password': 'password',
                     'deploy_kernel': images.url(KERNEL),
                     'deploy_ramdisk': images.url(RAMDISK)},
        instance_info={'image_source': images.url(image),
                       'image_checksum': checksum or sha256(images.files[image]),
                       **instance_info})
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': mac, 'pxe_enabled': True}), 201)
    await api.move(h, node['uuid'], 'manage', 'manageable')
    await api.move(h, node['uuid'], 'provide', 'available')
    return node, port


async def wait_for_state(h, uuid: str, states: tuple[str, ...], timeout: float = 60,
                         periodics: bool = False) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if periodics:
            await h.run_periodics()
        node = await api.get_node(h, uuid)
        if node['provision_state'] in states and node['reservation'] is None:
            return node
        assert asyncio.get_running_loop().time() < deadline, node
        await asyncio.sleep(0.05)


async def deploy(h, uuid: str, expect: str = 'active', **kwargs) -> dict:
    resp = await api.provision(h, uuid, 'active')
    assert resp.status == 202, await resp.text()
    return await wait_for_state(h, uuid, (expect, 'deploy failed', 'active'), **kwargs)


async def test_direct_deploy_of_an_ipmi_node_then_undeploy(h, images, fleet, tmp_path):
    mac = '52:54:00:aa:00:01'
    node, port = await ipmi_node(h, images, fleet, mac)
    agent = await start_agent(h, fleet, port, mac, str(tmp_path / 'disk')).start()
    node = await deploy(h, node['uuid'])
    assert node['provision_state'] == 'active', node['last_error']
    assert node['last_error'] is None and node['power_state'] == 'power on'
    assert read(agent.disk_path) == RAW
    assert agent.images_written == 1
    assert [c['command_name'] for c in agent.commands] == ['prepare_image', 'power_off']
    assert agent.commands[0]['command_params']['image_info']['urls'] == [
        images.url('/images/disk.raw')]   # http source: the agent downloads it directly
    bmc = fleet.state(port)
    assert (bmc['power'], bmc['boot_device'], bmc['persistent']) == ('on', 'hd', True)
    # the ramdisk's token died with it (a new ramdisk must look up again)
    assert 'agent_secret_token' not in (await h.db.get_node(node['uuid'])).driver_internal_info
    # nothing of the deploy ramdisk is left
    assert not os.path.exists(os.path.join(h.env.conf.pxe.tftp_root, node['uuid']))

    resp = await api.provision(h, node['uuid'], 'deleted')
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, node['uuid'], ('available',))
    assert node['last_error'] is None
    assert fleet.state(port)['power'] == 'off'


async def test_agent_heartbeating_at_1_36_looks_up_at_1_62_and_deploys(h, images, fleet,
                                                                         tmp_path):
    """As IPA: heartbeats at 1.36 carry the token of a lookup made at 1.62 (tokens are
    required at every version, issue 9 §1)."""
    mac = '52:54:00:aa:00:0a'
    node, port = await ipmi_node(h, images, fleet, mac)
    agent = await start_agent(h, fleet, port, mac, str(tmp_path / 'disk'),
                              api_version='1.36').start()
    node = await deploy(h, node['uuid'])
    assert node['provision_state'] == 'active', node['last_error']
    assert read(agent.disk_path) == RAW


@pytest.mark.parametrize('source', ['http', 'local'])
async def test_qcow2_image_is_written_raw(h, images, fleet, tmp_path, source):
    mac = '52:54:00:aa:00:02' if source == 'http' else '52:54:00:aa:00:03'
    node, port = await ipmi_node(h, images, fleet, mac, image='/images/disk.qcow2',
                                 image_download_source=source)
    agent = await start_agent(h, fleet, port, mac, str(tmp_path / 'disk')).start()
    node = await deploy(h, node['uuid'])
    assert node['provision_state'] == 'active', node['last_error']
    assert read(agent.disk_path) == RAW
    image_info = agent.commands[0]['command_params']['image_info']
    if source == 'local':   # the conductor converted and served it from [deploy]http_url
        assert image_info['urls'] == [f"{h.env.conf.deploy.http_url}/agent_images/"
                                      f"{node['uuid']}"]
        assert image_info['disk_format'] == 'raw'
        assert image_info['os_hash_value'] == sha256(RAW)
        progress = node['driver_internal_info']['image_download_progress']['instance_image']
        assert progress['bytes'] > 0  # the download was visible on the node
        # the served copy goes once the deploy is done
        assert not os.path.exists(os.path.join(h.env.conf.deploy.http_root, 'agent_images',
                                               node['uuid']))


async def test_agent_error_fails_the_deploy_with_its_message(h, images, fleet, tmp_path):
    mac = '52:54:00:aa:00:04'
    node, port = await ipmi_node(h, images, fleet, mac, checksum='0' * 64)
    agent = await start_agent(h, fleet, port, mac, str(tmp_path / 'disk')).start()
    node = await deploy(h, node['uuid'], expect='deploy failed')
    assert node['provision_state'] == 'deploy failed'
    assert 'the agent reported an error in prepare_image' in node['last_error']
    assert 'Image failed to verify against checksum' in node['last_error']
    assert not os.path.exists(agent.disk_path)
    # the agent's token is gone: its heartbeats are refused from now on
    assert 'agent_secret_token' not in (await h.db.get_node(node['uuid'])).driver_internal_info


async def test_agent_that_never_calls_back_times_out(h, images, fleet):
    node, _ = await ipmi_node(h, images, fleet, '52:54:00:aa:00:05')
    h.fixture.config(deploy_callback_timeout=1, group='conductor')
    node = await deploy(h, node['uuid'], expect='deploy failed', periodics=True)
    assert node['provision_state'] == 'deploy failed'
    assert 'Timeout reached while waiting for callback' in node['last_error']
    assert 'deploy_callback_timeout' in node['last_error']


async def test_dead_agent_is_a_clear_error(h, images, fleet):
    node, _ = await ipmi_node(h, images, fleet, '52:54:00:aa:00:06')
    resp = await api.provision(h, node['uuid'], 'active')
    assert resp.status == 202
    await wait_for_state(h, node['uuid'], ('wait call-back',))
    body = await api.ok(await h.request('GET', '/v1/lookup?addresses=52:54:00:aa:00:06'))
    token = body['config']['agent_token']
    sock_free = 'http://127.0.0.1:9'   # discard port: nothing listens there
    resp = await h.request('POST', f"/v1/heartbeat/{node['uuid']}",
                           json={'callback_url': sock_free, 'agent_token': token})
    assert resp.status == 202, await resp.text()
    node = await wait_for_state(h, node['uuid'], ('deploy failed',))
    assert 'is not reachable' in node['last_error'] and sock_free in node['last_error']


async def test_lookup_token_and_heartbeat_checks(h, images, fleet):
    mac = '52:54:00:aa:00:07'
    node, _ = await ipmi_node(h, images, fleet, mac)
    uuid = node['uuid']
    await api.ok(await api.provision(h, uuid, 'active'), 202)
    await wait_for_state(h, uuid, ('wait call-back',))
    # two concurrent lookups: exactly one gets the token
    answers = await asyncio.gather(*(h.request('GET', f'/v1/lookup?addresses={mac}')
                                     for _ in range(5)))
    tokens = [(await api.ok(r))['config']['agent_token'] for r in answers]
    real = [t for t in tokens if t != '******']
    assert len(real) == 1 and tokens.count('******') == 4, tokens
    token = real[0]
    body = await api.ok(await h.request('GET', f'/v1/lookup?node_uuid={uuid}'))
    assert body['config']['agent_token'] == '******'
    assert body['config']['agent_token_required'] is True
    assert token not in str(body) and token not in str(await api.get_node(h, uuid))
    # below 1.62 no token is handed out
    old = await api.ok(await h.request('GET', f'/v1/lookup?addresses={mac}',
                                       headers=api.ver('1.61')))
    assert 'agent_token' not in old['config']

    async def heartbeat(**body):
        body.setdefault('callback_url', 'http://127.0.0.1:9')
        return await h.request('POST', f'/v1/heartbeat/{uuid}', json=body)

    before = await h.db.get_node(uuid)
    inner = await api.fault(await heartbeat(), 400)
    assert 'token is required' in inner['faultstring']
    await api.fault(await heartbeat(agent_token='wrong'), 400)
    verify_ca = await h.request('POST', f'/v1/heartbeat/{uuid}', headers=api.ver('1.67'),
                                json={'callback_url': 'http://127.0.0.1:9',
                                      'agent_token': token, 'agent_verify_ca': '/ca.pem'})
    await api.fault(verify_ca, 400)
    old_version = await h.request('POST', f'/v1/heartbeat/{uuid}', headers=api.ver('1.30'),
                                  json={'callback_url': 'http://127.0.0.1:9',
                                        'agent_version': '13.0.0', 'agent_token': token})
    await api.fault(old_version, 400)
    after = await h.db.get_node(uuid)
    assert after.driver_internal_info == before.driver_internal_info
    assert after.provision_state == 'wait call-back'
    # a changed callback URL is refused once an agent URL is on file
    await h.db.update_node(after.id, {'driver_internal_info': {
        **after.driver_internal_info, 'agent_url': 'http://127.0.0.1:8'}})
    inner = await api.fault(await heartbeat(agent_token=token), 400)
    assert 'callback_url' in inner['faultstring']


async def test_twenty_nodes_concurrently(h, images, fleet, tmp_path):
    nodes = []
    for i in range(20):
        mac = f'52:54:00:bb:00:{i:02x}'
        node, port = await ipmi_node(h, images, fleet, mac)
        agent = await start_agent(h, fleet, port, mac, str(tmp_path / f'disk{i}')).start()
        nodes.append((node, port, agent))
    resps = await asyncio.gather(*(api.provision(h, n['uuid'], 'active') for n, _, _ in nodes))
    assert [r.status for r in resps] == [202] * 20
    for node, port, agent in nodes:
        final = await wait_for_state(h, node['uuid'], ('active', 'deploy failed'), timeout=120)
        assert final['provision_state'] == 'active', final['last_error']
        assert read(agent.disk_path) == RAW
        assert agent.images_written == 1   # no double writes
        assert [c['command_name'] for c in agent.commands].count('prepare_image') == 1
        assert fleet.state(port)['power'] == 'on'
    await h.drain()
    assert not [n.uuid for n in await h.db.list_nodes({'reserved': True})]


_IPA_CLIENT = r'''
import json, sys, types
from oslo_config import cfg
from ironic_python_agent import config, ironic_api_client
config.populate_config()
cfg.CONF([], project='ironic-python-agent')
api_url, mac = sys.argv[1:3]
client = ironic_api_client.APIClient(api_url)
hw = {'interfaces': [types.SimpleNamespace(mac_address=mac)]}
content = client.lookup_node(hardware_info=hw, timeout=30, starting_interval=0.1)
client.agent_token = content['config']['agent_token']
client.heartbeat(uuid=content['node']['uuid'], advertise_address=('127.0.0.1', 9999))
print(json.dumps({'lookup': content, 'version': client._get_ironic_api_version()}))
'''


async def test_real_ironic_python_agent_api_client(h):
    """ironic-python-agent's own APIClient (PyPI ironic-python-agent, in a subprocess: its
    oslo.config options live on the global CONF) looks the node up and heartbeats."""
    import json
    import sys
    mac = '52:54:00:cc:00:01'
    node = await api.waiting_node(h, mac)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, '-c', _IPA_CLIENT, h.url, mac,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    # IPA takes the API's maximum version from GET / (and caps what it sends itself)
    assert tuple(result['version']) == mv.MAX_VERSION
    lookup = result['lookup']
    assert lookup['node']['uuid'] == node['uuid']
    token = lookup['config']['agent_token']
    assert token and token != '******' and lookup['config']['agent_token_required'] is True
    node = await wait_for_state(h, node['uuid'], ('active',))
    assert node['driver_internal_info']['agent_url'] == 'http://127.0.0.1:9999'
    assert node['driver_internal_info']['agent_version']


async def test_deploy_with_the_openstack_cli(h, images, fleet, tmp_path):
    """The real ``openstack baremetal node deploy`` (python-ironicclient) starts it."""
    import sys
    mac = '52:54:00:cc:00:02'
    node, port = await ipmi_node(h, images, fleet, mac)
    agent = await start_agent(h, fleet, port, mac, str(tmp_path / 'disk')).start()
    cli = os.path.join(os.path.dirname(sys.executable), 'openstack')
    env = {**os.environ, 'OS_AUTH_TYPE': 'none', 'OS_ENDPOINT': h.url}
    proc = await asyncio.create_subprocess_exec(
        cli, 'baremetal', 'node', 'deploy', node['uuid'], '--wait', '120', env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, (out.decode(), err.decode())
    node = await wait_for_state(h, node['uuid'], ('active', 'deploy failed'))
    assert node['provision_state'] == 'active', node['last_error']
    assert read(agent.disk_path) == RAW


@pytest.mark.parametrize('tls', [True, False])
async def test_agent_sim_command_line(h, tmp_path, tls):
    """``ironic-lite-agent-sim`` (the console script) runs agents until SIGTERM; here it
    finishes a fake-hardware deploy waiting for its callback. As IPA, it uses automatic TLS
    (https + agent_verify_ca) unless ``--no-enable-auto-tls``."""
    import signal
    import sys
    mac = '52:54:00:cc:00:03' if tls else '52:54:00:cc:00:06'
    node = await api.waiting_node(h, mac)
    script = os.path.join(os.path.dirname(sys.executable), 'ironic-lite-agent-sim')
    proc = await asyncio.create_subprocess_exec(
        script, '--api-url', h.url, '--agent', f'{mac}={tmp_path / "disk"}',
        '--heartbeat-interval', '0.2', '--lookup-interval', '0.1',
        *([] if tls else ['--no-enable-auto-tls']),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()
        assert line[:2] == ['READY', mac] and int(line[2]) > 0, line
        node = await wait_for_state(h, node['uuid'], ('active',))
        info = node['driver_internal_info']
        scheme = 'https' if tls else 'http'
        assert info['agent_url'] == f'{scheme}://127.0.0.1:{line[2]}'
        assert info.get('agent_verify_ca', '').startswith(
            '-----BEGIN CERTIFICATE-----') is tls
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()


async def test_one_token_per_ramdisk_run_on_every_database(db_url):
    """The token's compare-and-set on SQLite, PostgreSQL and MariaDB: of concurrent lookups
    exactly one gets the token; a new deploy (new ramdisk) gets a new one."""
    harness = await Harness(db_url, **{'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        mac = '52:54:00:cc:00:04'
        node = await api.create_node(harness, driver_info={'fake_deploy_wait': True})
        await api.ok(await harness.request('POST', '/v1/ports', json={
            'node_uuid': node['uuid'], 'address': mac}), 201)
        await api.move(harness, node['uuid'], 'manage', 'manageable')
        await api.move(harness, node['uuid'], 'provide', 'available')
        await api.move(harness, node['uuid'], 'active', 'wait call-back')
        answers = await asyncio.gather(*(harness.request(
            'GET', f'/v1/lookup?addresses={mac}') for _ in range(8)))
        tokens = [(await api.ok(r))['config']['agent_token'] for r in answers]
        assert len([t for t in tokens if t != '******']) == 1, tokens
        stored = (await harness.db.get_node(node['uuid'])).driver_internal_info
        assert stored['agent_secret_token'] in tokens
    finally:
        await harness.stop()


async def test_a_new_deploy_hands_out_a_new_token(h):
    """A deploy that failed after a lookup leaves no token behind for the next ramdisk."""
    mac = '52:54:00:cc:00:05'
    node = await api.create_node(h, driver_info={'fake_deploy_wait': True})
    uuid = node['uuid']
    await api.ok(await h.request('POST', '/v1/ports', json={'node_uuid': uuid,
                                                            'address': mac}), 201)
    await api.move(h, uuid, 'manage', 'manageable')
    await api.move(h, uuid, 'provide', 'available')
    await api.move(h, uuid, 'active', 'wait call-back')
    first = (await api.ok(await h.request('GET', f'/v1/lookup?addresses={mac}')))['config']
    resp = await h.request('POST', f'/v1/nodes/{uuid}/vendor_passthru?method=pass_deploy_info',
                           json={'address': '127.0.0.1', 'key': 'k', 'error': 'disk on fire'})
    assert resp.status == 202, await resp.text()
    await wait_for_state(h, uuid, ('deploy failed',))
    await api.move(h, uuid, 'active', 'wait call-back')
    second = (await api.ok(await h.request('GET', f'/v1/lookup?addresses={mac}')))['config']
    assert second['agent_token'] not in ('******', first['agent_token'])
