"""TLS between the conductor and the agent: IPA's automatic TLS (``agent_verify_ca``, API 1.68).

Real parts: the all-in-one harness of ``test_agent_deploy`` (API on a loopback port, conductor,
SQLite, image servers), ``direct`` deploys of ``fake-hardware`` nodes (TLS does not depend on the
BMC), :class:`~ironic_lite.tools.agent_sim.SimAgent` serving its command API over real https with
a certificate made by ``cryptography`` — or by ironic-python-agent's own ``tls_utils`` — and the
conductor's aiohttp client verifying it.
"""
from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ironic_lite.common import exception
from ironic_lite.drivers.modules import agent_client
from ironic_lite.testing.harness import Harness
from ironic_lite.tools import agent_sim_tls
from ironic_lite.tools.agent_sim import SimAgent
from tests.functional import api_helpers as api
from tests.functional import test_agent_deploy as _deploy
from tests.functional.test_agent_deploy import RAW, deploy, read, sha256, wait_for_state

# The agent-deploy harness and servers, reused as they are (pytest finds fixtures by name).
h, images, http_root, qcow2_image = _deploy.h, _deploy.images, _deploy.http_root, \
    _deploy.qcow2_image

_macs = (f'52:54:00:dd:00:{i:02x}' for i in range(1, 256))


def certificate(tmp_path, name: str, address: str = '127.0.0.1') -> tuple[str, str, str]:
    """``(cert path, key path, PEM)`` of a fresh self-signed certificate for ``address``."""
    cert, key = str(tmp_path / f'{name}.crt'), str(tmp_path / f'{name}.key')
    return cert, key, agent_sim_tls.generate_tls_certificate(address, cert, key)


async def direct_node(h, images, mac: str, **values) -> dict:
    """An available fake-hardware node with the ``direct`` deploy and a port of ``mac``."""
    node = await api.create_node(
        h, deploy_interface='direct', boot_interface='fake', power_interface='fake',
        instance_info={'image_source': images.url('/images/disk.raw'),
                       'image_checksum': sha256(RAW)}, **values)
    await api.ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': node['uuid'], 'address': mac}), 201)
    await api.move(h, node['uuid'], 'manage', 'manageable')
    await api.move(h, node['uuid'], 'provide', 'available')
    return node


def agent(h, mac: str, disk: str, **kwargs) -> SimAgent:
    sim = SimAgent(h.url, [mac], disk, heartbeat_interval=0.2, lookup_interval=0.05, **kwargs)
    h.agents.append(sim)
    return sim


async def test_auto_tls_agent_is_deployed_over_verified_https(h, images, tmp_path):
    mac = next(_macs)
    node = await direct_node(h, images, mac)
    seen: dict = {}

    async def power_off(sim: SimAgent) -> None:
        # The conductor is finishing the deploy (under the node's lock): what it recorded.
        seen.update((await h.db.get_node(node['uuid'])).driver_internal_info)

    sim = await agent(h, mac, str(tmp_path / 'disk'), enable_auto_tls=True,
                      on_power_off=power_off).start()
    assert sim.scheme == 'https' and sim.callback_url.startswith('https://127.0.0.1:')
    assert sim.agent_verify_ca.startswith('-----BEGIN CERTIFICATE-----')
    node = await deploy(h, node['uuid'])
    assert node['provision_state'] == 'active', node['last_error']
    assert read(sim.disk_path) == RAW
    assert [c['command_name'] for c in sim.commands] == ['prepare_image', 'power_off']
    assert seen['agent_url'] == sim.callback_url
    assert seen['agent_verify_ca'] == sim.agent_verify_ca
    # the agent run is over: its URL, token and certificate are forgotten
    info = node['driver_internal_info']
    assert not {'agent_url', 'agent_verify_ca', 'agent_secret_token'} & set(info), info


async def test_certificate_not_matching_the_sent_ca_fails_the_deploy(h, images, tmp_path):
    """The agent serves one certificate and sends another in its heartbeats: the conductor
    trusts only the one it was sent, refuses the connection, and says why."""
    mac = next(_macs)
    node = await direct_node(h, images, mac)
    _, _, other = certificate(tmp_path, 'other')
    sim = await agent(h, mac, str(tmp_path / 'disk'), enable_auto_tls=True,
                      agent_verify_ca=other).start()
    node = await deploy(h, node['uuid'], expect='deploy failed')
    assert node['provision_state'] == 'deploy failed'
    error = node['last_error']
    assert f'TLS with the agent of node {node["uuid"]} at {sim.callback_url}' in error, error
    assert 'the certificate the agent sent in its heartbeat (agent_verify_ca)' in error
    assert 'CERTIFICATE_VERIFY_FAILED' in error and 'Traceback' not in error
    assert sim.commands == [] and sim.images_written == 0   # nothing reached the agent
    assert 'agent_verify_ca' not in node['driver_internal_info']


@pytest.mark.parametrize('how', ['path', 'driver_info', 'false', 'true'])
async def test_verify_ca_for_agents_that_send_no_certificate(h, images, tmp_path, how):
    """An https agent with a static certificate (IPA's ``listen_tls``) sends none: the
    node's ``driver_info/agent_verify_ca`` or ``[agent]verify_ca`` decides."""
    mac = next(_macs)
    cert, key, _ = certificate(tmp_path, 'static')
    driver_info = {'agent_verify_ca': cert} if how == 'driver_info' else {}
    node = await direct_node(h, images, mac, driver_info=driver_info)
    h.fixture.config(verify_ca={'path': cert, 'false': 'False'}.get(how, 'True'),
                     group='agent')
    sim = await agent(h, mac, str(tmp_path / 'disk'), tls_cert_file=cert,
                      tls_key_file=key).start()
    assert sim.scheme == 'https' and sim.agent_verify_ca is None
    node = await deploy(h, node['uuid'])
    if how == 'true':   # a self-signed certificate is in no system CA store
        assert node['provision_state'] == 'deploy failed'
        assert 'checked against the system CA store ([agent]verify_ca)' in node['last_error']
        assert 'CERTIFICATE_VERIFY_FAILED' in node['last_error']
    else:
        assert node['provision_state'] == 'active', node['last_error']
        assert read(sim.disk_path) == RAW


async def test_changed_ca_is_refused_and_1_67_rejects_the_field(h, images, tmp_path):
    mac = next(_macs)
    node = await direct_node(h, images, mac)
    uuid = node['uuid']
    await api.ok(await api.provision(h, uuid, 'active'), 202)
    await wait_for_state(h, uuid, ('wait call-back',))
    # in maintenance the conductor records heartbeats but does not act on them
    await api.ok(await h.request('PUT', f'/v1/nodes/{uuid}/maintenance', json={}), 202)
    token = (await api.ok(await h.request(
        'GET', f'/v1/lookup?addresses={mac}')))['config']['agent_token']
    _, _, first = certificate(tmp_path, 'first')
    _, _, second = certificate(tmp_path, 'second')
    url = 'https://127.0.0.1:9'

    async def heartbeat(ca: str | None, version: str = '1.68'):
        body = {'callback_url': url, 'agent_token': token, 'agent_version': '13.0.0'}
        if ca is not None:
            body['agent_verify_ca'] = ca
        return await h.request('POST', f'/v1/heartbeat/{uuid}', json=body,
                               headers=api.ver(version))

    # before 1.68 the field does not exist (upstream: 400 "not recognised")
    inner = await api.fault(await heartbeat(first, '1.67'), 400)
    assert 'agent_verify_ca' in inner['faultstring'] and '1.68' in inner['faultstring']
    assert 'agent_url' not in (await h.db.get_node(uuid)).driver_internal_info

    assert (await heartbeat(first)).status == 202
    await h.drain()
    info = (await h.db.get_node(uuid)).driver_internal_info
    assert (info['agent_url'], info['agent_verify_ca']) == (url, first)

    # another certificate for the same agent run: refused before the conductor, as upstream
    inner = await api.fault(await heartbeat(second), 400)
    assert 'Detected change in ramdisk provided "agent_verify_ca"' in inner['faultstring']
    # ... and by the conductor too, under the lock (a heartbeat that raced past the API)
    await h.service.manager.heartbeat({}, uuid, url, '13.0.0', agent_verify_ca=second)
    after = (await h.db.get_node(uuid)).driver_internal_info
    assert after['agent_verify_ca'] == first
    assert after['agent_last_heartbeat'] == info['agent_last_heartbeat']
    # the same certificate again, or none (1.67 agents never send one): accepted, kept
    assert (await heartbeat(first)).status == 202
    assert (await heartbeat(None, '1.67')).status == 202
    await h.drain()
    assert (await h.db.get_node(uuid)).driver_internal_info['agent_verify_ca'] == first


@pytest.mark.parametrize('cap', [None, '1.1'])
async def test_rpc_heartbeat_compat_with_an_older_conductor(sqlite_url, cap):
    """RPC 1.2 added agent_verify_ca to heartbeat. Capped at 1.1 (rolling upgrade), the API
    sends the 1.0 heartbeat without it, which a 1.1 conductor accepts; uncapped, it sends 1.2,
    which that conductor cannot take (503, nothing recorded)."""
    harness = await Harness(sqlite_url, rpc_version_cap=cap, **{
        'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        if cap is not None:  # capped, even the casts that provision the node suit it
            harness.service.manager.RPC_API_VERSION = '1.1'
        mac = next(_macs)
        node = await api.waiting_node(harness, mac)
        harness.service.manager.RPC_API_VERSION = '1.1'   # the not yet upgraded conductor
        token = (await api.ok(await harness.request(
            'GET', f'/v1/lookup?addresses={mac}')))['config']['agent_token']
        resp = await harness.request('POST', f"/v1/heartbeat/{node['uuid']}", json={
            'callback_url': 'https://127.0.0.1:9', 'agent_token': token,
            'agent_verify_ca': 'PEM'})
        if cap is None:
            await api.fault(resp, 503)
            node = await api.get_node(harness, node['uuid'])
            assert node['provision_state'] == 'wait call-back'
            assert 'agent_url' not in node['driver_internal_info']
            return
        assert resp.status == 202, await resp.text()
        node = await wait_for_state(harness, node['uuid'], ('active',))
        info = node['driver_internal_info']
        assert info['agent_url'] == 'https://127.0.0.1:9' and 'agent_verify_ca' not in info
    finally:
        await harness.stop()


async def test_sim_without_api_1_68_serves_plain_http(tmp_path):
    """As IPA: automatic TLS only when the API's maximum version is 1.68 or newer."""
    app = web.Application()

    async def root(request):
        return web.json_response({'default_version': {'version': '1.67'}})

    app.router.add_get('/', root)
    server = TestServer(app, host='127.0.0.1', port=0)
    await server.start_server()
    sim = SimAgent(str(server.make_url('')), [next(_macs)], str(tmp_path / 'disk'),
                   enable_auto_tls=True, lookup_interval=0.05)
    try:
        await sim.start()
        assert sim.scheme == 'http' and sim.agent_verify_ca is None
    finally:
        await sim.stop()
        await server.close()
    # and an agent negotiating below 1.68 itself does not ask for it either
    old = SimAgent('http://127.0.0.1:9', [next(_macs)], str(tmp_path / 'disk'),
                   enable_auto_tls=True, api_version='1.67')
    try:
        await old.start()
        assert old.scheme == 'http'
    finally:
        await old.stop()


async def test_ssl_contexts_are_cached_per_ca_and_bad_cas_are_clear(h, tmp_path):
    _, _, pem = certificate(tmp_path, 'cached')
    node = await api.create_node(h, driver_info={'agent_verify_ca': '/nonexistent/ca.pem'})
    node_id = (await h.db.get_node(node['uuid'])).id
    db_node = await h.db.update_node(node_id, {'driver_internal_info': {
        'agent_url': 'https://127.0.0.1:9', 'agent_verify_ca': pem}})
    client = agent_client.AgentClient(h.env.conf)
    first, what = await client._tls(db_node, 'https://127.0.0.1:9/v1/commands/')
    again, _ = await client._tls(db_node, 'https://127.0.0.1:9/v1/commands/')
    assert first is again and 'agent_verify_ca' in what
    # the agent's certificate and nothing else: no system CAs for this agent
    assert first.cert_store_stats()['x509'] == 1
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    # a CA path that does not exist (driver_info) is a clear error, not a traceback
    no_ca = await h.db.update_node(node_id, {'driver_internal_info': {}})
    with pytest.raises(exception.InvalidParameterValue, match='neither a path nor a boolean'):
        await client._tls(no_ca, 'https://127.0.0.1:9/v1/commands/')
    # a certificate that is no certificate: the deploy would fail saying so
    broken = await h.db.update_node(node_id, {'driver_internal_info': {
        'agent_verify_ca': '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n'}})
    with pytest.raises(agent_client.AgentConnectionFailed, match='not a usable CA'):
        await client._tls(broken, 'https://127.0.0.1:9/v1/commands/')


_IPA_TLS = r'''
import json, sys, types
from oslo_config import cfg
from ironic_python_agent import config, ironic_api_client, tls_utils
config.populate_config()
cfg.CONF([], project='ironic-python-agent')
api_url, mac, cert, key = sys.argv[1:5]
# the certificate IPA's automatic TLS makes (its own code), for 127.0.0.1
pem = tls_utils._generate_tls_certificate(cert, key, 'ipa-sim', '127.0.0.1')
client = ironic_api_client.APIClient(api_url)
hw = {'interfaces': [types.SimpleNamespace(mac_address=mac)]}
content = client.lookup_node(hardware_info=hw, timeout=30, starting_interval=0.1)
client.agent_token = content['config']['agent_token']
client.heartbeat(uuid=content['node']['uuid'], advertise_address=('127.0.0.1', 9999),
                 advertise_protocol='https', generated_cert=pem)
print(json.dumps({'pem': pem}))
'''


async def test_real_ironic_python_agent_certificate_and_heartbeat(h, images, tmp_path):
    """ironic-python-agent's own ``tls_utils`` makes the certificate and its ``APIClient``
    heartbeats with it (https callback_url + agent_verify_ca); then a simulated agent serving
    that very certificate is deployed by the conductor verifying it."""
    mac = next(_macs)
    waiting = await api.waiting_node(h, mac)
    cert, key = str(tmp_path / 'ipa.crt'), str(tmp_path / 'ipa.key')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, '-c', _IPA_TLS, h.url, mac, cert, key,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    pem = json.loads(out.decode().strip().splitlines()[-1])['pem']
    assert pem.startswith('-----BEGIN CERTIFICATE-----') and os.path.exists(key)
    waiting = await wait_for_state(h, waiting['uuid'], ('active',))
    info = waiting['driver_internal_info']
    assert info['agent_url'] == 'https://127.0.0.1:9999' and info['agent_verify_ca'] == pem

    mac = next(_macs)
    node = await direct_node(h, images, mac)
    sim = await agent(h, mac, str(tmp_path / 'disk'), tls_cert_file=cert, tls_key_file=key,
                      agent_verify_ca=pem).start()
    node = await deploy(h, node['uuid'])
    assert node['provision_state'] == 'active', node['last_error']
    assert read(sim.disk_path) == RAW
