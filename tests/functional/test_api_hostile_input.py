"""Values JSON can carry that databases store differently (issue 9 §7): refused at the API's
edge with the same 400 on SQLite, PostgreSQL and MariaDB — never a 500, never ``Infinity``."""
import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

# Raw JSON texts: json.dumps would refuse some of these, a hostile client does not.
HOSTILE = [
    ('"\\ud800"', 'lone UTF-16 surrogate'),
    ('"a\\udfffb"', 'lone UTF-16 surrogate'),
    ('"nul\\u0000here"', 'NUL character'),
    ('1e400', 'out of range'),
    ('-1e400', 'out of range'),
    ('123456789012345678901234567890', 'out of range'),
    ('NaN', 'not valid JSON'),
    ('Infinity', 'not valid JSON'),
]


@pytest.fixture
async def db_harness(db_url):
    h = await Harness(db_url, **{'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        yield h
    finally:
        await h.stop()


async def _raw(h, method: str, path: str, text: str):
    headers = {'Content-Type': 'application/json'}
    return await h.request(method, path, data=text.encode(), headers=headers)


async def test_hostile_values_are_400_on_every_database(db_harness):
    h = db_harness
    node = await api.create_node(h, name='target')
    for value, message in HOSTILE:
        attempts = [
            ('POST', '/v1/nodes', f'{{"driver": "fake-hardware", "extra": {{"k": {value}}}}}'),
            ('POST', '/v1/nodes', f'{{"driver": "fake-hardware", "description": {value}}}'),
            ('PATCH', f'/v1/nodes/{node["uuid"]}',
             f'[{{"op": "add", "path": "/extra/k", "value": {value}}}]'),
            ('PATCH', f'/v1/nodes/{node["uuid"]}',
             f'[{{"op": "add", "path": "/properties/k", "value": [1, {{"x": {value}}}]}}]'),
            ('POST', '/v1/chassis', f'{{"description": {value}}}'),
        ]
        if value.startswith('"'):   # as a key, too
            attempts.append(('POST', '/v1/nodes',
                             f'{{"driver": "fake-hardware", "extra": {{{value}: 1}}}}'))
        for method, path, text in attempts:
            inner = await fault(await _raw(h, method, path, text), 400)
            assert message in inner['faultstring'], (text, inner)
    # nothing was stored, and what is there reads back as JSON
    stored = await api.get_node(h, node['uuid'])
    assert stored['extra'] == {} and stored['properties'] == {}
    nodes = await ok(await h.request('GET', '/v1/nodes'))
    assert [n['uuid'] for n in nodes['nodes']] == [node['uuid']]


async def test_ordinary_unicode_and_numbers_still_work(db_harness):
    h = db_harness
    text = ('{"driver": "fake-hardware", "extra": {"emoji": "\\ud83d\\ude00", "big": 1e300, '
            '"neg": -9223372036854775808, "esc": "tab\\there", "cjk": "\\u4e2d"}}')
    node = await ok(await _raw(h, 'POST', '/v1/nodes', text), 201)
    extra = (await api.get_node(h, node['uuid']))['extra']
    assert extra == {'emoji': '\U0001f600', 'big': 1e300, 'neg': -2 ** 63, 'esc': 'tab\there',
                     'cjk': '\u4e2d'}


@pytest.mark.parametrize('path', ['/v1/nodes/%00', '/v1/nodes/a%00b', '/v1/ports/%00',
                                  '/v1/nodes?name=%00', '/v1/nodes/%ED%A0%80',
                                  '/v1/nodes?instance_uuid=%00'])
async def test_nul_and_bad_unicode_in_path_or_query_are_4xx(db_harness, path):
    resp = await db_harness.request('GET', path)
    assert 400 <= resp.status < 500, (resp.status, await resp.text())
