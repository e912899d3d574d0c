"""Image sources against real HTTP servers on loopback.

The web server is a real aiohttp app on 127.0.0.1 with a free port. Glance itself cannot run
here, so it is replaced by a small fake HTTP app speaking the two Glance v2 calls we use
(``GET /v2/images/{id}`` and ``GET /v2/images/{id}/file``), also real HTTP on loopback.
"""
from __future__ import annotations

import asyncio
import collections
import email.utils
import hashlib
import os
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from oslo_config import cfg

from ironic_lite.common import exception
from ironic_lite.common import image_service as images
from ironic_lite.conf import images as images_conf

ALGOS = ['md5', 'sha256', 'sha512']


class FakeImageServer:
    """A web server holding images that tests can change; counts requests by method/path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.validators: dict[str, dict[str, str]] = {}
        self.requests: collections.Counter = collections.Counter()
        self.fail_next: list[int] = []     # answer these statuses first
        self.fail_next_get: list[int] = []  # the same, for GETs only
        self.truncate_next = 0             # cut the body of this many GETs half-way
        self.send_validators = True
        self.head_allowed = True
        self.gate: asyncio.Event | None = None   # GET bodies wait for it
        self.get_started = asyncio.Event()
        self._version = 0
        app = web.Application()
        app.router.add_route('*', '/{tail:.*}', self._handle)
        self.server = TestServer(app, host='127.0.0.1', port=0)

    async def __aenter__(self) -> FakeImageServer:
        await self.server.start_server(shutdown_timeout=5)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.gate is not None:
            self.gate.set()
        await self.server.close()

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def put(self, path: str, data: bytes) -> None:
        """Publish (or replace) a file: new bytes, new ETag and Last-Modified."""
        self._version += 1
        self.files[path] = data
        self.validators[path] = {
            'ETag': f'"{hashlib.sha256(data).hexdigest()[:16]}-{self._version}"',
            'Last-Modified': email.utils.formatdate(1_700_000_000 + self._version, usegmt=True),
        }

    def gets(self, path: str) -> int:
        return self.requests[('GET', path)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[(request.method, path)] += 1
        if path.startswith('/redirect/'):
            raise web.HTTPFound('/' + path[len('/redirect/'):])
        if request.method == 'HEAD' and not self.head_allowed:
            return web.Response(status=405)
        if self.fail_next:
            return web.Response(status=self.fail_next.pop(0))
        if request.method == 'GET' and self.fail_next_get:
            return web.Response(status=self.fail_next_get.pop(0))
        if path not in self.files:
            return web.Response(status=404)
        data = self.files[path]
        headers = dict(self.validators[path]) if self.send_validators else {}
        if request.method == 'HEAD':
            return web.Response(body=data, headers=headers)
        self.get_started.set()
        resp = web.StreamResponse(headers=headers)
        resp.content_length = len(data)
        await resp.prepare(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.truncate_next:
            self.truncate_next -= 1
            await resp.write(data[:len(data) // 2])
            request.transport.close()  # the client sees a short body: a payload error
            return resp
        for i in range(0, len(data), 65536):
            await resp.write(data[i:i + 65536])
        await resp.write_eof()
        return resp


class FakeGlance:
    """Replaces Glance (which cannot run here): the v2 image show and download calls."""

    def __init__(self) -> None:
        self.images: dict[str, dict] = {}
        self.data: dict[str, bytes] = {}
        self.requests: collections.Counter = collections.Counter()
        app = web.Application()
        app.router.add_get('/v2/images/{id}', self._show)
        app.router.add_get('/v2/images/{id}/file', self._file)
        self.server = TestServer(app, host='127.0.0.1', port=0)

    async def __aenter__(self) -> FakeGlance:
        await self.server.start_server(shutdown_timeout=5)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.close()

    @property
    def endpoint(self) -> str:
        return str(self.server.make_url(''))

    def put(self, data: bytes, image_id: str | None = None, *, status: str = 'active',
            updated_at: str = '2026-11-01T00:00:00Z', serve: bytes | None = None) -> str:
        image_id = image_id or str(uuid.uuid4())
        self.images[image_id] = {
            'id': image_id, 'status': status, 'size': len(data), 'disk_format': 'raw',
            'checksum': hashlib.md5(data).hexdigest(), 'os_hash_algo': 'sha512',
            'os_hash_value': hashlib.sha512(data).hexdigest(), 'updated_at': updated_at}
        self.data[image_id] = data if serve is None else serve
        return image_id

    async def _show(self, request: web.Request) -> web.Response:
        image_id = request.match_info['id']
        self.requests[('show', image_id)] += 1
        if image_id not in self.images:
            return web.Response(status=404)
        return web.json_response(self.images[image_id])

    async def _file(self, request: web.Request) -> web.Response:
        image_id = request.match_info['id']
        self.requests[('file', image_id)] += 1
        return web.Response(body=self.data[image_id])


def make_conf(tmp_path) -> cfg.ConfigOpts:
    """A private configuration: image options only, file:// allowed under tmp_path/allowed."""
    conf = cfg.ConfigOpts()
    images_conf.register_opts(conf)
    (tmp_path / 'allowed').mkdir()
    conf.set_override('file_url_allowed_paths', [str(tmp_path / 'allowed')], group='conductor')
    conf.set_override('image_convert_attempts', 1, group='disk_utils')
    return conf


@pytest.fixture
def conf(tmp_path):
    return make_conf(tmp_path)


@pytest.fixture
async def web_server():
    async with FakeImageServer() as server:
        yield server


@pytest.fixture
async def glance(conf):
    async with FakeGlance() as fake:
        conf.set_override('endpoint_override', fake.endpoint, group='glance')
        yield fake


def digest(algo: str, data: bytes) -> str:
    return hashlib.new(algo, data).hexdigest()


def http(conf, **kwargs) -> images.HttpImageService:
    return images.HttpImageService(conf, retry_wait=0, **kwargs)


# -- checksums -------------------------------------------------------------------------------

@pytest.mark.parametrize('algo', ALGOS)
def test_parse_checksum_bare_and_prefixed(algo):
    value = digest(algo, b'x')
    assert images.parse_checksum(value) == images.Checksum(algo, value)
    assert images.parse_checksum(f'{algo}:{value.upper()}') == images.Checksum(algo, value)


def test_parse_checksum_os_hash_wins_and_errors():
    md5, sha512 = digest('md5', b'x'), digest('sha512', b'x')
    assert images.parse_checksum(md5, 'sha512', sha512) == images.Checksum('sha512', sha512)
    assert images.parse_checksum(None) is None
    for bad in ('sha1:' + digest('sha1', b'x'), 'abc', 'md5:' + 'z' * 32, 'sha256:' + md5):
        with pytest.raises(exception.InvalidParameterValue):
            images.parse_checksum(bad)


async def test_checksum_file_url(web_server, conf):
    data = b'image bytes'
    web_server.put('/imgs/disk.img', data)
    web_server.put('/SHA256SUMS', (f'{digest("sha256", b"other")}  other.img\n'
                                   f'{digest("sha256", data)} *disk.img\n').encode())
    web_server.put('/one.md5', f'{digest("md5", data)}\n'.encode())
    href = web_server.url('/imgs/disk.img')
    assert await images.resolve_checksum(web_server.url('/SHA256SUMS'), href, conf=conf) == \
        images.Checksum('sha256', digest('sha256', data))
    assert (await images.resolve_checksum(web_server.url('/one.md5'), href, conf=conf)).algo \
        == 'md5'
    with pytest.raises(exception.ImageRefValidationFailed):
        await images.resolve_checksum(web_server.url('/SHA256SUMS'),
                                      web_server.url('/nope.img'), conf=conf)


# -- http(s) ---------------------------------------------------------------------------------

async def test_http_show(web_server, conf):
    web_server.put('/a.img', b'a' * 1000)
    info = await http(conf).show(web_server.url('/a.img'))
    assert info.size == 1000
    assert info.etag == web_server.validators['/a.img']['ETag']
    assert info.last_modified == web_server.validators['/a.img']['Last-Modified']
    web_server.head_allowed = False  # falls back to the headers of a GET
    assert (await http(conf).show(web_server.url('/a.img'))).size == 1000


@pytest.mark.parametrize('algo', ALGOS)
async def test_http_download_checksum_ok(web_server, conf, tmp_path, algo):
    data = os.urandom(3 * 1024 * 1024 + 17)
    web_server.put('/img', data)
    dest = tmp_path / 'out' / 'img'
    dest.parent.mkdir()
    checksum = images.parse_checksum(f'{algo}:{digest(algo, data)}')
    info = await http(conf).download(web_server.url('/img'), str(dest), checksum=checksum)
    assert dest.read_bytes() == data
    assert info.size == len(data) and info.etag == web_server.validators['/img']['ETag']
    assert os.listdir(dest.parent) == ['img']  # no temp file left


@pytest.mark.parametrize('algo', ALGOS)
async def test_http_download_checksum_mismatch_leaves_nothing(web_server, conf, tmp_path,
                                                              algo):
    web_server.put('/img', b'real content' * 1000)
    checksum = images.Checksum(algo, digest(algo, b'something else'))
    with pytest.raises(exception.ImageChecksumError) as err:
        await http(conf).download(web_server.url('/img'), str(tmp_path / 'img'),
                                  checksum=checksum)
    assert checksum.value in str(err.value) and err.value.code == 400
    assert os.listdir(tmp_path) == ['allowed']


async def test_http_errors(web_server, conf, tmp_path):
    with pytest.raises(exception.ImageRefValidationFailed, match='404'):
        await http(conf).download(web_server.url('/missing'), str(tmp_path / 'x'))
    web_server.put('/img', b'data')
    web_server.fail_next = [503, 503]
    with pytest.raises(exception.ImageDownloadFailed, match='503'):
        await http(conf, attempts=2).download(web_server.url('/img'), str(tmp_path / 'x'))
    assert os.listdir(tmp_path) == ['allowed']
    with pytest.raises(exception.ImageRefValidationFailed):
        await http(conf).show('ftp://example.com/img')


async def test_http_retries_transient_errors(web_server, conf, tmp_path):
    data = os.urandom(512 * 1024)
    web_server.put('/img', data)
    web_server.fail_next = [503]
    web_server.truncate_next = 1
    checksum = images.Checksum('sha256', digest('sha256', data))
    await http(conf, attempts=3).download(web_server.url('/img'), str(tmp_path / 'img'),
                                          checksum=checksum)
    assert (tmp_path / 'img').read_bytes() == data
    assert web_server.gets('/img') == 3  # 503, short body, good
    assert sorted(os.listdir(tmp_path)) == ['allowed', 'img']


async def test_http_follows_redirects(web_server, conf, tmp_path):
    web_server.put('/real.img', b'redirected')
    href = web_server.url('/redirect/real.img')
    assert (await http(conf).show(href)).size == len(b'redirected')
    await http(conf).download(href, str(tmp_path / 'img'))
    assert (tmp_path / 'img').read_bytes() == b'redirected'


async def test_progress_is_throttled(web_server, conf, tmp_path):
    data = os.urandom(8 * 1024 * 1024)
    web_server.put('/img', data)
    calls = []

    async def progress(done, total):
        calls.append((done, total))

    service = http(conf, progress_bytes=2 * 1024 * 1024, progress_seconds=3600)
    await service.download(web_server.url('/img'), str(tmp_path / 'img'), progress=progress)
    assert calls[-1] == (len(data), len(data))
    assert 3 <= len(calls) <= 5  # every 2 MiB plus the final call, not once per chunk
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


async def test_failing_progress_callback_does_not_fail_download(web_server, conf, tmp_path):
    web_server.put('/img', b'data' * 1000)

    def broken(done, total):
        raise RuntimeError('database is down')

    await http(conf).download(web_server.url('/img'), str(tmp_path / 'img'), progress=broken)
    assert (tmp_path / 'img').read_bytes() == b'data' * 1000


# -- file:// ---------------------------------------------------------------------------------

async def test_file_allowed(conf, tmp_path):
    data = os.urandom(100_000)
    src = tmp_path / 'allowed' / 'sub' / 'disk.img'
    src.parent.mkdir()
    src.write_bytes(data)
    service = images.FileImageService(conf)
    info = await service.show(f'file://{src}')
    assert info.size == len(data) and info.etag and info.last_modified
    await service.download(f'file://{src}', str(tmp_path / 'copy'),
                           checksum=images.Checksum('sha512', digest('sha512', data)))
    assert (tmp_path / 'copy').read_bytes() == data
    with pytest.raises(exception.ImageChecksumError):
        await service.download(f'file://{src}', str(tmp_path / 'bad'),
                               checksum=images.Checksum('md5', digest('md5', b'no')))
    assert not (tmp_path / 'bad').exists()


async def test_file_refused(conf, tmp_path):
    allowed = tmp_path / 'allowed'
    (tmp_path / 'secret').write_bytes(b'secret')
    (allowed / 'escape').symlink_to(tmp_path / 'secret')
    (allowed / 'dir').mkdir()
    service = images.FileImageService(conf)
    refused = [
        f'file://{tmp_path}/secret',                      # outside the allowed dirs
        f'file://{allowed}/../secret',                    # .. trick
        f'file://{allowed}/%2E%2E/secret',                # .. trick, URL-encoded
        f'file://{allowed}/escape',                       # symlink pointing outside
        'file://relative/path.img',                       # a host, not a path
        'file:relative.img',                              # relative path
        f'file://{allowed}/dir',                          # not a regular file
        f'file://{allowed}/missing.img',
    ]
    for href in refused:
        with pytest.raises(exception.ImageRefValidationFailed) as err:
            await service.show(href)
        assert err.value.code == 400, href
        with pytest.raises(exception.ImageRefValidationFailed):
            await service.download(href, str(tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()
    # System paths stay refused even when an operator allows "/".
    conf.set_override('file_url_allowed_paths', ['/'], group='conductor')
    with pytest.raises(exception.ImageRefValidationFailed, match='/etc'):
        await service.show('file:///etc/hostname')
    assert (await service.show(f'file://{tmp_path}/secret')).size == 6


# -- Glance ----------------------------------------------------------------------------------

async def test_glance_show_and_download(glance, conf, tmp_path):
    data = os.urandom(200_000)
    image_id = glance.put(data)
    service = images.get_image_service(image_id, conf)
    assert isinstance(service, images.GlanceImageService)
    info = await service.show(image_id)
    assert (info.size, info.os_hash_algo, info.updated_at) == (len(data), 'sha512',
                                                               '2026-11-01T00:00:00Z')
    await service.download(f'glance://{image_id}', str(tmp_path / 'img'))
    assert (tmp_path / 'img').read_bytes() == data
    assert glance.requests[('file', image_id)] == 1


async def test_glance_corrupt_download_verified_by_os_hash(glance, conf, tmp_path):
    image_id = glance.put(b'good data', serve=b'bad data!')
    with pytest.raises(exception.ImageChecksumError, match='sha512'):
        await images.GlanceImageService(conf).download(image_id, str(tmp_path / 'img'))
    assert os.listdir(tmp_path) == ['allowed']


async def test_glance_errors(glance, conf):
    service = images.GlanceImageService(conf)
    with pytest.raises(exception.ImageNotFound):
        await service.show(str(uuid.uuid4()))
    queued = glance.put(b'x', status='queued')
    with pytest.raises(exception.ImageRefValidationFailed, match='queued'):
        await service.show(queued)
    with pytest.raises(exception.ImageRefValidationFailed):
        await service.show('glance://not-a-uuid')
    conf.clear_override('endpoint_override', group='glance')
    with pytest.raises(exception.ImageRefValidationFailed, match='endpoint_override'):
        await service.show(queued)


def test_get_image_service_dispatch(conf):
    assert isinstance(images.get_image_service('https://h/x', conf), images.HttpImageService)
    assert isinstance(images.get_image_service('file:///x', conf), images.FileImageService)
    assert isinstance(images.get_image_service(f'glance://{uuid.uuid4()}', conf),
                      images.GlanceImageService)
    with pytest.raises(exception.ImageRefValidationFailed, match='scheme'):
        images.get_image_service('ftp://h/x', conf)
