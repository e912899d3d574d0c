"""file:// image sources outside ``[conductor]file_url_allowed_paths`` (issue 9 §8): reported by
``validate`` and refused with 400 before a deploy starts, whatever the deploy interface."""
import pytest

from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

REFUSED = {
    'file:///etc/shadow': 'never served',
    'file://../..': 'must not name a host',
    'file:///../../etc/shadow': '".." is not allowed',
    'file:///root/secret.img': 'file_url_allowed_paths',
    'file://evil.example.com/srv/images/disk.img': 'must not name a host',
}


@pytest.fixture
async def h(sqlite_url, tmp_path):
    allowed = tmp_path / 'images'
    allowed.mkdir()
    (allowed / 'disk.img').write_bytes(b'\0' * 4096)
    harness = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01,
        'conductor.file_url_allowed_paths': [str(allowed)],
        'enabled_deploy_interfaces': ['direct', 'iscsi', 'fake'],
        'pxe.tftp_root': str(tmp_path / 'tftpboot'),
        'pxe.tftp_master_path': str(tmp_path / 'tftpboot' / 'master_images'),
        'pxe.instance_master_path': str(tmp_path / 'master_images'),
        'deploy.http_url': 'http://127.0.0.1:9/', 'deploy.http_root': str(tmp_path / 'http'),
    }).start()
    harness.allowed = allowed
    try:
        yield harness
    finally:
        await harness.stop()


async def _node(h, deploy: str, source: str):
    return await api.available_node(
        h, deploy_interface=deploy, boot_interface='fake',
        instance_info={'image_source': source, 'image_checksum': 'a' * 32, 'root_gb': 1})


@pytest.mark.parametrize('deploy', ['direct', 'iscsi', 'fake'])
async def test_refused_file_sources_fail_validate_and_the_deploy_request(h, deploy):
    for source, reason in REFUSED.items():
        node = await _node(h, deploy, source)
        if deploy != 'fake':   # upstream's fake deploy validates nothing
            result = (await ok(await h.request(
                'GET', f'/v1/nodes/{node["uuid"]}/validate')))['deploy']
            assert result['result'] is False, (source, result)
            assert reason in result['reason'], (source, result)
        inner = await fault(await api.provision(h, node['uuid'], 'active'), 400)
        assert reason in inner['faultstring'], (source, inner)
        await h.drain()
        stored = await h.db.get_node(node['uuid'])
        assert (stored.provision_state, stored.intent, stored.target_provision_state) == (
            'available', None, None), source


@pytest.mark.parametrize('deploy', ['direct', 'iscsi'])
async def test_allowed_file_source_passes_validate(h, deploy):
    node = await _node(h, deploy, f'file://{h.allowed}/disk.img')
    result = (await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/validate')))['deploy']
    assert result['result'] is True, result
    # a symlink inside the allowed directory that leads out of it is found by validate
    (h.allowed / 'link.img').symlink_to('/etc/hostname')
    node = await _node(h, deploy, f'file://{h.allowed}/link.img')
    result = (await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/validate')))['deploy']
    assert result['result'] is False and 'never served' in result['reason'], result
