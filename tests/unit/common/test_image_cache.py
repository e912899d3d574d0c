"""Master image cache against a real HTTP server on loopback (and a fake Glance HTTP app,
since Glance itself cannot run here): keys, staleness, sharing, clean-up, disk space, and the
seed notes' trap (a failed deploy must never make a later deploy use an old image)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from ironic_lite.common import exception, image_cache
from tests.unit.common.test_image_service import FakeGlance, FakeImageServer, make_conf

MiB = 1024 * 1024
DAY = 24 * 3600


@pytest.fixture
def conf(tmp_path):
    return make_conf(tmp_path)


@pytest.fixture
async def web_server():
    async with FakeImageServer() as server:
        yield server


@pytest.fixture
async def glance(conf):
    """Glance cannot run here: a fake Glance v2 HTTP app on loopback stands in."""
    async with FakeGlance() as fake:
        conf.set_override('endpoint_override', fake.endpoint, group='glance')
        yield fake


@pytest.fixture
def cache(tmp_path, conf):
    return image_cache.ImageCache(str(tmp_path / 'master'), 100 * MiB, 7 * DAY, conf=conf)


def node_path(tmp_path, node: str, name: str = 'disk') -> str:
    return str(tmp_path / 'nodes' / node / name)


def read(path) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


def master_files(cache) -> list[str]:
    return sorted(n for n in os.listdir(cache.master_dir) if not n.startswith('.'))


async def until(predicate, timeout: float = 10.0) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.001)
    await asyncio.wait_for(poll(), timeout)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_fetch_links_master_and_reuses_it(web_server, cache, tmp_path):
    data = os.urandom(300_000)
    web_server.put('/img', data)
    href = web_server.url('/img')
    master = await cache.fetch_image(href, node_path(tmp_path, 'n1'),
                                     image_info={'image_checksum': sha256(data)})
    key = image_cache.master_key(href, False)
    assert master == os.path.join(cache.master_dir, key)
    assert master_files(cache) == [key, key + '.meta.json']
    meta = json.loads(read(master + '.meta.json'))
    assert meta['href'] == href and meta['verified'] == {'sha256': sha256(data)}
    await cache.fetch_image(href, node_path(tmp_path, 'n2'))
    for node in ('n1', 'n2'):  # per-node copies are hard links of the master
        assert os.path.samefile(node_path(tmp_path, node), master)
    assert os.stat(master).st_nlink == 3
    assert web_server.gets('/img') == 1


async def test_same_file_name_different_images_never_collide(web_server, cache, tmp_path):
    web_server.put('/a/image.img', b'image A')
    web_server.put('/b/image.img', b'image B')
    await cache.fetch_image(web_server.url('/a/image.img'), node_path(tmp_path, 'a'))
    await cache.fetch_image(web_server.url('/b/image.img'), node_path(tmp_path, 'b'))
    assert read(node_path(tmp_path, 'a')) == b'image A'
    assert read(node_path(tmp_path, 'b')) == b'image B'
    assert len(master_files(cache)) == 4  # two masters, two metadata files


async def test_concurrent_fetches_share_one_download(web_server, cache, tmp_path):
    data = os.urandom(2 * MiB)
    web_server.put('/img', data)
    web_server.gate = asyncio.Event()
    href = web_server.url('/img')
    progress: dict[int, tuple] = {}

    def progress_of(i):
        return lambda done, total: progress.__setitem__(i, (done, total))

    tasks = [asyncio.create_task(cache.fetch_image(href, node_path(tmp_path, f'n{i}'),
                                                   progress=progress_of(i)))
             for i in range(20)]
    await web_server.get_started.wait()  # the one download is under way...
    entry = image_cache._INFLIGHT[(cache.master_dir, image_cache.master_key(href, False))]
    await until(lambda: len(entry.callbacks) == 20)  # ...and every caller has joined it
    web_server.gate.set()
    masters = await asyncio.gather(*tasks)
    assert len(set(masters)) == 1
    assert web_server.gets('/img') == 1
    assert web_server.requests[('HEAD', '/img')] == 1
    for i in range(20):
        assert os.path.samefile(node_path(tmp_path, f'n{i}'), masters[0])
        assert progress[i] == (len(data), len(data))


async def test_cancellation(web_server, cache, tmp_path):
    """One caller giving up does not stop the shared download; the last one does, and the
    cancelled download leaves nothing behind."""
    web_server.put('/img', os.urandom(MiB))
    web_server.gate = asyncio.Event()
    href = web_server.url('/img')
    first = asyncio.create_task(cache.fetch_image(href, node_path(tmp_path, 'a')))
    second = asyncio.create_task(cache.fetch_image(href, node_path(tmp_path, 'b')))
    await web_server.get_started.wait()
    entry = image_cache._INFLIGHT[(cache.master_dir, image_cache.master_key(href, False))]
    await until(lambda: entry.waiters == 2)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert not entry.task.done()
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert entry.task.cancelled() and not image_cache._INFLIGHT
    assert os.listdir(cache.master_dir) == ['.locks']
    web_server.gate.set()


async def test_second_process_shares_the_master(web_server, cache, tmp_path, conf):
    """Another conductor process on the same master dir: the fcntl lock serialises the two,
    so the image is downloaded once whichever gets there first."""
    data = os.urandom(MiB)
    web_server.put('/img', data)
    web_server.gate = asyncio.Event()
    href = web_server.url('/img')
    script = textwrap.dedent(f'''
        import asyncio
        from oslo_config import cfg
        from ironic_lite.common import image_cache
        from ironic_lite.conf import images
        conf = cfg.ConfigOpts()
        images.register_opts(conf)
        cache = image_cache.ImageCache({cache.master_dir!r}, 100 << 20, 3600, conf=conf)
        asyncio.run(cache.fetch_image({href!r}, {node_path(tmp_path, 'other')!r}))
    ''')
    mine = asyncio.create_task(cache.fetch_image(href, node_path(tmp_path, 'mine')))
    await web_server.get_started.wait()  # this process holds the key's lock, downloading
    other = await asyncio.create_subprocess_exec(sys.executable, '-c', script,
                                                 stderr=subprocess.PIPE)
    web_server.gate.set()
    await mine
    _, err = await other.communicate()
    assert other.returncode == 0, err.decode()
    assert read(node_path(tmp_path, 'other')) == data
    assert os.path.samefile(node_path(tmp_path, 'other'), node_path(tmp_path, 'mine'))
    assert web_server.gets('/img') == 1


async def test_trap_failed_deploy_then_source_changed(web_server, cache, tmp_path):
    """The seed notes' trap: a deploy fails after caching v1; master_images and the node
    folder stay behind. The image at the same URL changes. The next deploy of the same node
    must get v2, in the node's file and in the master."""
    href = web_server.url('/images/deploy.img')
    dest = node_path(tmp_path, 'node-1', 'deploy_kernel')
    v1, v2 = b'version 1 ' * 5000, b'version 2 ' * 5000
    web_server.put('/images/deploy.img', v1)
    master = await cache.fetch_image(href, dest, image_info={'image_checksum': sha256(v1)})
    assert read(dest) == v1
    # The deploy fails here: nothing is cleaned up, dest and master stay as they are.
    web_server.put('/images/deploy.img', v2)  # new bytes, new ETag / Last-Modified
    again = await cache.fetch_image(href, dest, image_info={'image_checksum': sha256(v2)})
    assert again == master
    assert read(dest) == v2 and read(master) == v2
    assert os.path.samefile(dest, master)
    assert web_server.gets('/images/deploy.img') == 2


async def test_trap_source_changed_and_refetch_fails(web_server, cache, tmp_path):
    """If fetching the new version fails, neither the node path nor the master may still
    hold the old image."""
    href = web_server.url('/img')
    dest = node_path(tmp_path, 'node-1')
    web_server.put('/img', b'old image')
    master = await cache.fetch_image(href, dest)
    web_server.put('/img', b'new image')
    web_server.fail_next_get = [403]  # HEAD sees the change, then the download fails
    with pytest.raises(exception.ImageRefValidationFailed):
        await cache.fetch_image(href, dest)
    assert not os.path.exists(dest) and not os.path.exists(master)
    assert master_files(cache) == []
    await cache.fetch_image(href, dest)
    assert read(dest) == b'new image'


async def test_trap_node_copy_written_in_place(web_server, cache, tmp_path):
    """A failed deploy wrote into the node's file (a hard link of the master): the next
    deploy must not reuse that master."""
    web_server.put('/img', b'pristine image')
    dest = node_path(tmp_path, 'n')
    master = await cache.fetch_image(web_server.url('/img'), dest)
    assert not os.stat(master).st_mode & 0o222  # masters (and so node links) are read-only
    os.chmod(dest, 0o644)                       # root could write anyway
    with open(dest, 'r+b') as f:
        f.write(b'CORRUPT')
    assert read(master).startswith(b'CORRUPT')
    await cache.fetch_image(web_server.url('/img'), dest)
    assert read(dest) == b'pristine image' == read(master)
    assert web_server.gets('/img') == 2


async def test_no_validators_means_no_trust(web_server, cache, tmp_path):
    """A server without ETag/Last-Modified and no checksum: nothing proves the master current,
    so it is fetched again every time (never served stale)."""
    web_server.send_validators = False
    web_server.put('/img', b'one')
    await cache.fetch_image(web_server.url('/img'), node_path(tmp_path, 'n'))
    web_server.put('/img', b'two')
    await cache.fetch_image(web_server.url('/img'), node_path(tmp_path, 'n'))
    assert read(node_path(tmp_path, 'n')) == b'two'
    assert web_server.gets('/img') == 2


async def test_glance_image_updated_is_refetched(glance, cache, tmp_path):
    image_id = glance.put(b'glance v1')
    dest = node_path(tmp_path, 'n', 'instance')
    await cache.fetch_image(image_id, dest)
    await cache.fetch_image(image_id, dest)
    assert glance.requests[('file', image_id)] == 1
    glance.put(b'glance v2', image_id, updated_at='2026-11-02T00:00:00Z')
    master = await cache.fetch_image(image_id, dest)
    assert read(dest) == b'glance v2' == read(master)
    assert glance.requests[('file', image_id)] == 2


async def test_checksum_mismatch_leaves_nothing(web_server, cache, tmp_path):
    web_server.put('/img', b'content')
    dest = node_path(tmp_path, 'n')
    with pytest.raises(exception.ImageChecksumError):
        await cache.fetch_image(web_server.url('/img'), dest,
                                image_info={'image_checksum': sha256(b'other')})
    assert os.listdir(cache.master_dir) == ['.locks']  # no master, meta or partial file
    assert not os.path.exists(dest)


@pytest.mark.skipif(shutil.which('qemu-img') is None, reason='needs qemu-img (qemu-utils)')
async def test_force_raw_converts_qcow2(web_server, cache, tmp_path, conf):
    raw = tmp_path / 'src.raw'
    with open(raw, 'wb') as f:
        f.write(os.urandom(MiB))
        f.seek(3 * MiB)
        f.write(os.urandom(MiB))
    qcow2 = tmp_path / 'src.qcow2'
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', str(raw), str(qcow2)],
                   check=True)
    web_server.put('/disk.img', qcow2.read_bytes())
    href = web_server.url('/disk.img')
    dest = node_path(tmp_path, 'n')
    master = await cache.fetch_image(href, dest, force_raw=True)
    assert master.endswith('.converted')
    assert read(dest) == raw.read_bytes()
    assert json.loads(read(master + '.meta.json'))['format'] == 'qcow2'
    # The unconverted image is a different master: no collision.
    plain = await cache.fetch_image(href, node_path(tmp_path, 'p'))
    assert plain != master and read(plain) == qcow2.read_bytes()
    # A failed conversion leaves no master, meta or temp file behind.
    conf.set_override('image_convert_memory_limit', 1, group='disk_utils')
    web_server.put('/disk.img', qcow2.read_bytes() + b'\0')  # changed: must convert again
    with pytest.raises(exception.ImageConvertFailed):
        await cache.fetch_image(href, dest, force_raw=True)
    assert not os.path.exists(dest) and not os.path.exists(master)
    assert [n for n in os.listdir(cache.master_dir) if 'converted' in n] == []


def age(path: str, seconds: float) -> None:
    """Pretend the master was last used ``seconds`` ago (atime; mtime is the version)."""
    os.utime(path, (time.time() - seconds, os.stat(path).st_mtime))


async def test_clean_up_by_ttl_spares_linked_masters(web_server, tmp_path, conf):
    cache = image_cache.ImageCache(str(tmp_path / 'm'), 100 * MiB, DAY, conf=conf)
    for name in ('old-linked', 'old-unused', 'new-unused'):
        web_server.put(f'/{name}', os.urandom(64 * 1024))
        await cache.fetch_image(web_server.url(f'/{name}'), node_path(tmp_path, name))
    masters = {name: os.path.join(cache.master_dir,
                                  image_cache.master_key(web_server.url(f'/{name}'), False))
               for name in ('old-linked', 'old-unused', 'new-unused')}
    os.unlink(node_path(tmp_path, 'old-unused'))   # those nodes were torn down
    os.unlink(node_path(tmp_path, 'new-unused'))
    age(masters['old-linked'], 2 * DAY)
    age(masters['old-unused'], 2 * DAY)
    freed = await cache.clean_up()
    assert freed >= 64 * 1024
    assert os.path.exists(masters['old-linked'])      # still linked by a node
    assert not os.path.exists(masters['old-unused'])
    assert not os.path.exists(masters['old-unused'] + '.meta.json')
    assert os.path.exists(masters['new-unused'])
    assert read(node_path(tmp_path, 'old-linked')) == read(masters['old-linked'])


async def test_clean_up_by_size_lru_spares_linked(web_server, tmp_path, conf):
    cache = image_cache.ImageCache(str(tmp_path / 'm'), int(2.5 * MiB), 7 * DAY, conf=conf)
    names = ['a', 'b', 'c', 'd']  # fetched in this order: a is least recently used
    for i, name in enumerate(names):
        web_server.put(f'/{name}', os.urandom(MiB))
        await cache.fetch_image(web_server.url(f'/{name}'), node_path(tmp_path, name))
        age(os.path.join(cache.master_dir,
                         image_cache.master_key(web_server.url(f'/{name}'), False)),
            100 - i)
    for name in ('b', 'c', 'd'):
        os.unlink(node_path(tmp_path, name))       # only 'a' is still linked by a node
    await cache.clean_up()
    left = {n for n in names if os.path.exists(os.path.join(
        cache.master_dir, image_cache.master_key(web_server.url(f'/{n}'), False)))}
    assert left == {'a', 'd'}  # a: linked (though oldest); b, c: LRU until <= 2.5 MiB
    # amount: free at least that much even when under the size limit
    cache.cache_size = 100 * MiB
    assert await cache.clean_up(amount=1) >= MiB
    assert master_files(cache) == sorted([image_cache.master_key(web_server.url('/a'), False),
                                          image_cache.master_key(web_server.url('/a'), False)
                                          + '.meta.json'])


async def test_download_triggers_clean_up(web_server, tmp_path, conf):
    cache = image_cache.ImageCache(str(tmp_path / 'm'), int(1.5 * MiB), 7 * DAY, conf=conf)
    for name in ('a', 'b'):
        web_server.put(f'/{name}', os.urandom(MiB))
    await cache.fetch_image(web_server.url('/a'), node_path(tmp_path, 'a'))
    os.unlink(node_path(tmp_path, 'a'))  # node a torn down: its master is unused
    master_b = await cache.fetch_image(web_server.url('/b'), node_path(tmp_path, 'b'))
    assert master_files(cache) == sorted([os.path.basename(master_b),
                                          os.path.basename(master_b) + '.meta.json'])


async def test_clean_up_removes_crash_leftovers_only_when_unlocked(cache):
    key = image_cache.master_key('http://example.com/x', False)
    os.makedirs(os.path.join(cache.master_dir, '.locks'))
    leftover = os.path.join(cache.master_dir, f'.{key}.1234abcd.dl.xyz.part')
    with open(leftover, 'wb') as f:
        f.write(b'partial')
    lock = cache._lock(key)
    assert lock.try_acquire()                # a download of this key is under way
    await cache.clean_up()
    assert os.path.exists(leftover)
    lock.release()                           # the downloader died long ago
    await cache.clean_up()
    assert not os.path.exists(leftover)


async def test_insufficient_disk_space(web_server, cache, tmp_path, monkeypatch):
    web_server.put('/old', b'o' * 10000)
    await cache.fetch_image(web_server.url('/old'), node_path(tmp_path, 'old'))
    os.unlink(node_path(tmp_path, 'old'))
    web_server.put('/big', os.urandom(200_000))
    usage = shutil.disk_usage(tmp_path)
    # The disk cannot be filled for real: pretend only 1000 bytes are free.
    monkeypatch.setattr(shutil, 'disk_usage', lambda path: usage._replace(free=1000))
    with pytest.raises(exception.InsufficientDiskSpace) as err:
        await cache.fetch_image(web_server.url('/big'), node_path(tmp_path, 'n'))
    assert '200000 bytes' in str(err.value) and '1000 bytes' in str(err.value)
    assert web_server.gets('/big') == 0
    assert master_files(cache) == []  # the unused master was cleaned to make room first
    assert not os.path.exists(node_path(tmp_path, 'n'))


async def test_caching_disabled_downloads_directly(web_server, tmp_path, conf):
    cache = image_cache.ImageCache('', 0, 0, conf=conf)
    web_server.put('/img', b'direct')
    dest = node_path(tmp_path, 'n')
    assert await cache.fetch_image(web_server.url('/img'), dest) == dest
    assert read(dest) == b'direct'
    assert await cache.clean_up() == 0


async def test_fetch_images_all_or_nothing(web_server, cache, tmp_path):
    web_server.put('/kernel', b'kernel')
    pairs = [(web_server.url('/kernel'), node_path(tmp_path, 'n', 'kernel')),
             (web_server.url('/missing'), node_path(tmp_path, 'n', 'ramdisk'))]
    with pytest.raises(exception.ImageRefValidationFailed):
        await image_cache.fetch_images(cache, pairs)
    assert not os.path.exists(pairs[0][1]) and not os.path.exists(pairs[1][1])


def test_caches_from_config(tmp_path, conf):
    conf.set_override('instance_master_path', str(tmp_path / 'instance'), group='pxe')
    conf.set_override('tftp_master_path', str(tmp_path / 'tftp'), group='pxe')
    conf.set_override('image_cache_size', 10, group='pxe')
    conf.set_override('image_cache_ttl', 60, group='pxe')
    instance = image_cache.InstanceImageCache(conf=conf)
    tftp = image_cache.TFTPImageCache(conf=conf)
    assert instance.master_dir == str(tmp_path / 'instance')
    assert tftp.master_dir == str(tmp_path / 'tftp')
    assert (instance.cache_size, instance.cache_ttl) == (10 * MiB, 3600)
