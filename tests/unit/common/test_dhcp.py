"""DHCP providers (dnsmasq files, none) and the provisioning address lookup (pyroute2)."""
from __future__ import annotations

import logging
import os
import types

import pytest
from oslo_config import cfg

from ironic_lite.common import exception, fileutils, network
from ironic_lite.conf import api as api_conf
from ironic_lite.conf import dhcp as dhcp_conf
from ironic_lite.conf import pxe as pxe_conf
from ironic_lite.drivers.modules import dhcp

MAC1, MAC2 = '52:54:00:00:00:01', '52:54:00:00:00:02'
OPTIONS = [{'opt_name': '67', 'opt_value': 'pxelinux.0', 'ip_version': 4},
           {'opt_name': 'tag:!ipxe,67', 'opt_value': 'undionly.kpxe'},
           {'opt_name': 'server-ip-address', 'opt_value': '192.0.2.1'}]


@pytest.fixture
def conf(tmp_path):
    conf = cfg.ConfigOpts()
    dhcp_conf.register_opts(conf)
    pxe_conf.register_opts(conf)
    api_conf.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('dhcp_provider', 'dnsmasq', group='dhcp')
    conf.set_override('dhcp_hostsdir', str(tmp_path / 'hosts'), group='dnsmasq')
    conf.set_override('dhcp_optsdir', str(tmp_path / 'opts'), group='dnsmasq')
    conf.set_override('dhcp_leasefile', str(tmp_path / 'leases'), group='dnsmasq')
    return conf


class FakeTask:
    """What a DHCP provider uses of a task: node uuid/driver_internal_info, ports, saving."""

    def __init__(self, ports: list[tuple[str, bool]]) -> None:
        self.node = types.SimpleNamespace(uuid='1be26c0b-03f2-4d2e-ae87-c02d7f33c123',
                                          driver_internal_info={})
        self.ports = [types.SimpleNamespace(address=mac, pxe_enabled=pxe)
                      for mac, pxe in ports]
        self.saves = 0

    async def set_driver_internal_info(self, **items) -> None:
        self.saves += 1
        info = dict(self.node.driver_internal_info)
        for key, value in items.items():
            if value is None:
                info.pop(key, None)
            else:
                info[key] = value
        self.node.driver_internal_info = info


def read(path) -> str:
    with open(path) as f:
        return f.read()


def listing(path) -> list[str]:
    return sorted(os.listdir(path))


async def test_dnsmasq_writes_host_and_option_files(conf, tmp_path):
    provider = dhcp.get_provider(conf)
    assert isinstance(provider, dhcp.DnsmasqDHCPApi) and provider.supports_ipxe_tag()
    task = FakeTask([(MAC1.upper(), True), (MAC2, False)])
    await provider.update_dhcp_opts(task, OPTIONS)
    tag = task.node.driver_internal_info['dnsmasq_tag']
    # only PXE-enabled ports, lower-case MACs; no temp files left behind
    assert listing(tmp_path / 'hosts') == [f'ironic-{MAC1}.conf']
    assert read(provider.host_file(MAC1)) == f'{MAC1},set:{tag},set:ironic\n'
    assert listing(tmp_path / 'opts') == [f'ironic-{task.node.uuid}.conf']
    assert read(provider.opts_file(task.node.uuid)) == (
        f'tag:{tag},67,pxelinux.0\n'
        f'tag:{tag},tag:!ipxe,67,undionly.kpxe\n'
        f'tag:{tag},option:server-ip-address,192.0.2.1\n')
    # a second update keeps the tag (no churn for dnsmasq)
    await provider.update_dhcp_opts(task, OPTIONS[:1])
    assert task.node.driver_internal_info['dnsmasq_tag'] == tag and task.saves == 1
    assert read(provider.opts_file(task.node.uuid)) == f'tag:{tag},67,pxelinux.0\n'


async def test_dnsmasq_clean_ignores_hosts_and_is_idempotent(conf, tmp_path):
    provider = dhcp.get_provider(conf)
    task = FakeTask([(MAC1, True), (MAC2, True)])
    await provider.update_dhcp_opts(task, OPTIONS)
    await provider.clean_dhcp_opts(task)
    # dnsmasq only adds what it reads from hostsdir: "ignore" takes effect, a delete would not
    assert read(provider.host_file(MAC1)) == f'{MAC1},ignore\n'
    assert read(provider.host_file(MAC2)) == f'{MAC2},ignore\n'
    assert listing(tmp_path / 'opts') == []
    assert 'dnsmasq_tag' not in task.node.driver_internal_info
    before = os.stat(provider.host_file(MAC1)).st_mtime_ns
    await provider.clean_dhcp_opts(task)  # twice is fine and rewrites nothing
    assert os.stat(provider.host_file(MAC1)).st_mtime_ns == before
    assert listing(tmp_path / 'hosts') == [f'ironic-{MAC1}.conf', f'ironic-{MAC2}.conf']


async def test_dnsmasq_clean_without_anything_written(conf, tmp_path):
    provider = dhcp.get_provider(conf)
    task = FakeTask([(MAC1, True)])
    await provider.clean_dhcp_opts(task)  # no dirs, no files, no tag: nothing to do
    assert not (tmp_path / 'hosts').exists()
    assert task.saves == 0


async def test_dnsmasq_clean_finds_entries_of_removed_ports(conf):
    provider = dhcp.get_provider(conf)
    task = FakeTask([(MAC1, True), (MAC2, True)])
    await provider.update_dhcp_opts(task, OPTIONS)
    other = FakeTask([('52:54:00:00:00:99', True)])
    other.node.uuid = 'another-node'
    await provider.update_dhcp_opts(other, OPTIONS)
    task.ports = task.ports[:1]  # MAC2's port was deleted after the deploy started
    await provider.clean_dhcp_opts(task)
    assert read(provider.host_file(MAC2)) == f'{MAC2},ignore\n'
    other_tag = other.node.driver_internal_info['dnsmasq_tag']
    assert read(provider.host_file('52:54:00:00:00:99')).endswith(f'set:{other_tag},set:ironic\n')


async def test_dnsmasq_refuses_option_injection(conf):
    provider = dhcp.get_provider(conf)
    with pytest.raises(exception.InvalidParameterValue):
        await provider.update_dhcp_opts(FakeTask([(MAC1, True)]), [
            {'opt_name': '67', 'opt_value': 'pxelinux.0\ndhcp-range=evil'}])


async def test_dnsmasq_ip_addresses_from_leases(conf, tmp_path):
    provider = dhcp.get_provider(conf)
    task = FakeTask([(MAC1, True), (MAC2, False)])
    assert await provider.get_ip_addresses(task) == []  # no lease file yet
    (tmp_path / 'leases').write_text(
        f'1700000000 {MAC1.upper()} 192.0.2.50 node1 *\n'
        f'1700000000 {MAC2} 192.0.2.51 node2 *\n'
        '1700000000 52:54:00:00:00:77 192.0.2.52 other *\n')
    assert await provider.get_ip_addresses(task) == ['192.0.2.50']


async def test_none_provider_does_nothing(conf, tmp_path):
    conf.set_override('dhcp_provider', 'none', group='dhcp')
    provider = dhcp.get_provider(conf)
    task = FakeTask([(MAC1, True)])
    await provider.update_dhcp_opts(task, OPTIONS)
    await provider.clean_dhcp_opts(task)
    assert await provider.get_ip_addresses(task) == []
    assert not provider.supports_ipxe_tag()
    assert not (tmp_path / 'hosts').exists() and task.saves == 0


def test_write_atomic_leaves_no_temp_file_on_error(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(OSError):
        fileutils.write_atomic(str(tmp_path / 'f.conf'), 'x')
    assert os.listdir(tmp_path) == []


# -- provisioning address -------------------------------------------------------------------
async def test_provisioning_interface_address(conf):
    conf.set_override('provisioning_interface', 'lo', group='dhcp')
    assert await network.provisioning_address(conf) == '127.0.0.1'
    conf.set_override('provisioning_interface', 'nosuchif0', group='dhcp')
    with pytest.raises(exception.InvalidParameterValue, match='nosuchif0'):
        await network.provisioning_address(conf)


async def test_default_route_address_is_a_local_address(conf):
    address = await network.default_route_address()
    if address is None:
        pytest.skip('this machine has no default IPv4 route')
    assert await network.provisioning_address(conf) == address
    assert address != '0.0.0.0'


async def test_loopback_fallback_warns(conf, monkeypatch, caplog):
    async def no_route():
        return None

    monkeypatch.setattr(network, 'default_route_address', no_route)
    with caplog.at_level(logging.WARNING, logger=network.__name__):
        assert await network.provisioning_address(conf) == network.LOOPBACK
    assert 'nodes will not reach it' in caplog.text


async def test_api_url_and_tftp_server(conf):
    conf.set_override('provisioning_interface', 'lo', group='dhcp')
    assert await network.api_url(conf) == 'http://127.0.0.1:6385'  # [api]host_ip 0.0.0.0
    conf.set_override('host_ip', '192.0.2.7', group='api')
    conf.set_override('port', 6400, group='api')
    assert await network.api_url(conf) == 'http://192.0.2.7:6400'
    conf.set_override('host_ip', 'fd00::7', group='api')
    assert await network.api_url(conf) == 'http://[fd00::7]:6400'
    conf.set_override('api_url', 'https://ironic.example.com:6385/', group='conductor')
    assert await network.api_url(conf) == 'https://ironic.example.com:6385'
    assert await network.tftp_server(conf) == '127.0.0.1'
    conf.set_override('tftp_server', '192.0.2.9', group='pxe')
    assert await network.tftp_server(conf) == '192.0.2.9'
