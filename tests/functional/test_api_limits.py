"""Body limits and client timeouts (issue 9 §3): what ramdisks call without credentials takes
small bodies only, big JSON is parsed off the event loop, stalled connections are closed."""
import asyncio
import threading

import pytest

from ironic_lite.api import schemas, utils
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

MAC = '52:54:00:88:00:01'
DEADLINE_S = 20   # failure bound of the polling loops, far above the 1 s timeouts tested


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01, 'api.ramdisk_max_body_size': 4096,
        'api.client_header_timeout': 1.0, 'api.client_body_timeout': 1.0}).start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_ramdisk_endpoints_take_small_bodies_only(h):
    node = await api.waiting_node(h, MAC)
    token = await api.lookup_token(h, node['uuid'])
    big = {'callback_url': 'http://10.0.0.1:9999', 'agent_token': token, 'pad': 'x' * 5000}
    inner = await fault(await h.request('POST', f'/v1/heartbeat/{node["uuid"]}', json=big), 413)
    assert 'at most 4096 bytes' in inner['faultstring']
    inner = await fault(await h.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru?method=pass_deploy_info',
        json={'address': '127.0.0.1', 'key': 'k' * 5000}), 413)
    await fault(await h.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info',
        json={'address': '127.0.0.1', 'key': 'k' * 5000}), 413)
    await fault(await h.request('GET', f'/v1/lookup?addresses={MAC}', data=b'x' * 5000), 413)

    async def chunked():   # no Content-Length: reading stops at the limit
        for _ in range(10):
            yield b' ' * 1000

    resp = await h.request('POST', f'/v1/heartbeat/{node["uuid"]}', data=chunked(),
                           headers={'Content-Type': 'application/json'})
    await fault(resp, 413)
    await h.drain()
    stored = await h.db.get_node(node['uuid'])
    assert 'agent_url' not in stored.driver_internal_info
    # authenticated endpoints keep [api]max_request_body_size; a small heartbeat is fine
    await ok(await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
        {'op': 'add', 'path': '/extra/blob', 'value': 'y' * 20000}]))
    small = {'callback_url': 'http://10.0.0.1:9999', 'agent_token': token}
    assert (await h.request('POST', f'/v1/heartbeat/{node["uuid"]}', json=small)).status == 202


async def _open(h):
    return await asyncio.open_connection(h.client.server.host, h.client.server.port)


async def _read_until_closed(reader) -> bytes:
    """Everything the server sends until it closes the connection (DEADLINE_S at most)."""
    data = b''
    async with asyncio.timeout(DEADLINE_S):
        while chunk := await reader.read(65536):
            data += chunk
    return data


async def test_huge_declared_body_is_refused_before_it_is_sent(h):
    """The 59 MB heartbeats of the issue: answered 413 from the headers alone."""
    reader, writer = await _open(h)
    writer.write(b'POST /v1/heartbeat/anything HTTP/1.1\r\nHost: x\r\n'
                 b'Content-Type: application/json\r\nContent-Length: 59000000\r\n\r\n{')
    await writer.drain()
    async with asyncio.timeout(DEADLINE_S):
        status = await reader.readline()
    assert status.startswith(b'HTTP/1.1 413'), status
    writer.close()


@pytest.mark.parametrize('sent', [
    b'',                                                          # connects, says nothing
    b'POST /v1/heartbeat/x HTTP/1.1\r\nHost: x\r\n',              # headers never finish
    b'GET /v1/nodes HTTP/1.1\r\nHost: x\r\n\r\nGET /v1 HTTP/1.1\r\n',  # idle after one
])
async def test_header_stalled_connections_are_closed(h, sent):
    reader, writer = await _open(h)
    writer.write(sent)
    await writer.drain()
    data = await _read_until_closed(reader)   # returns once the server closed it
    assert b'HTTP/1.1 5' not in data
    writer.close()


async def test_body_stalled_request_gets_408_and_is_closed(h):
    node = await api.create_node(h)
    reader, writer = await _open(h)
    writer.write(f'PATCH /v1/nodes/{node["uuid"]} HTTP/1.1\r\nHost: x\r\n'
                 'X-OpenStack-Ironic-API-Version: latest\r\n'
                 'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"op"'.encode())
    await writer.drain()
    data = await _read_until_closed(reader)
    assert data.startswith(b'HTTP/1.1 408'), data
    assert b'did not arrive within 1.0 seconds' in data
    writer.close()
    assert (await api.get_node(h, node['uuid']))['extra'] == {}


async def test_big_bodies_are_parsed_off_the_event_loop(h, monkeypatch):
    threads = []
    original = utils.parse_json

    def spy(raw):
        threads.append((len(raw), threading.current_thread() is threading.main_thread()))
        return original(raw)

    monkeypatch.setattr(utils, 'parse_json', spy)
    validated = []
    original_validate = schemas.validate

    def validate_spy(schema, body):
        validated.append(threading.current_thread() is threading.main_thread())
        return original_validate(schema, body)

    monkeypatch.setattr(schemas, 'validate', validate_spy)
    node = await api.create_node(h)
    for size in (10, 200_000):
        await ok(await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
            {'op': 'add', 'path': '/extra/blob', 'value': 'z' * size}]))
    big = [on_main for length, on_main in threads if length > utils.THREAD_PARSE_BYTES]
    small = [on_main for length, on_main in threads if length <= utils.THREAD_PARSE_BYTES]
    assert big == [False] and small and all(small)
    assert validated[-1] is False   # the big PATCH was validated in a thread too
