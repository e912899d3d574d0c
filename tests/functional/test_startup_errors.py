"""A daemon that cannot start says why in one line naming the option and its value.

The console scripts run as subprocesses with a config file an operator could have written;
each must exit with status 1 and print one ``<command>: cannot start: …`` line, no traceback.
"""
from __future__ import annotations

import socket
import subprocess

import pytest

from ironic_lite.testing import processes, services


def _run(tmp_path, command: str, sections: dict, *args: str) -> list[str]:
    path = processes.write_config(str(tmp_path / f'{command}.conf'), sections)
    proc = subprocess.run([processes.console_script(command), '--config-file', path, *args],
                          capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    output = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 1, (proc.returncode, output)
    assert not any('Traceback' in line for line in output), output
    assert len(output) == 1, output
    assert output[0].startswith(f'{command}: cannot start: '), output
    return output[0].split('cannot start: ', 1)[1]


def _base(tmp_path, **default) -> dict:
    return {'DEFAULT': {'host': 'startup-test', 'state_path': str(tmp_path),
                        'transport_url': 'rabbit://guest:guest@127.0.0.1:1/', **default},
            'api': {'host_ip': '127.0.0.1', 'port': services.free_port()},
            'database': {'connection': f'sqlite:///{tmp_path}/ironic_lite.sqlite'}}


def _dbsync(tmp_path) -> None:
    subprocess.run([processes.console_script('ironic-lite-dbsync'), '--config-file',
                    processes.write_config(str(tmp_path / 'sync.conf'), _base(tmp_path)),
                    'upgrade'], check=True, capture_output=True, timeout=120)


@pytest.mark.parametrize('command', ['ironic-lite-conductor', 'ironic-lite'])
def test_a_hardware_type_with_no_enabled_interface(tmp_path, command):
    _dbsync(tmp_path)
    line = _run(tmp_path, command, _base(tmp_path, enabled_hardware_types='ipmi',
                                         enabled_bios_interfaces='fake'))
    assert line == ('[DEFAULT]enabled_bios_interfaces = fake: none of the bios interfaces the '
                    'enabled hardware type "ipmi" supports (no-bios) is enabled')


def test_an_unknown_hardware_type(tmp_path):
    _dbsync(tmp_path)
    line = _run(tmp_path, 'ironic-lite-conductor',
                _base(tmp_path, enabled_hardware_types='ipmi,redfsh'))
    assert line.startswith('[DEFAULT]enabled_hardware_types = ipmi,redfsh: there is no '
                           'hardware type named "redfsh" (installed: ')
    assert 'ipmi' in line


@pytest.mark.parametrize('command', ['ironic-lite-conductor', 'ironic-lite-api',
                                     'ironic-lite-dbsync', 'ironic-lite'])
def test_an_unreachable_database(tmp_path, command):
    with socket.socket() as closed:   # a loopback port nothing listens on
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    config = _base(tmp_path)
    config['database']['connection'] = (
        f'postgresql+psycopg2://ironic:s3cret@127.0.0.1:{port}/ironic')
    line = _run(tmp_path, command, config, *(['upgrade'] if command.endswith('dbsync') else []))
    if command == 'ironic-lite':   # the all-in-one upgrades the schema first, in a child
        assert line.startswith('database schema upgrade failed: ')
        line = line.split(': ', 1)[1]
    assert line.startswith(f'[database]connection = postgresql+psycopg2://ironic:***@'
                           f'127.0.0.1:{port}/ironic: cannot connect to the database: ')
    assert 'Connection refused' in line
    assert 's3cret' not in line


def test_a_database_without_schema_names_the_command_that_creates_it(tmp_path):
    line = _run(tmp_path, 'ironic-lite-api', _base(tmp_path))
    assert line == (f'[database]connection = sqlite:///{tmp_path}/ironic_lite.sqlite: the '
                    f'database has no ironic_lite tables; create them with "ironic-lite-dbsync '
                    f'--config-file <this config> upgrade"')
    assert not (tmp_path / 'ironic_lite.sqlite').exists()


def test_an_inline_comment_in_the_connection_url(tmp_path):
    """What a copied ini example with ``connection = … # comment`` used to do silently."""
    config = _base(tmp_path)
    config['database']['connection'] += '   # or mysql+pymysql://'
    line = _run(tmp_path, 'ironic-lite-dbsync', config, 'upgrade')
    assert 'the value contains an inline comment' in line


@pytest.mark.parametrize('section,name,value,reason', [
    ('api', 'port', 'sixty', "invalid literal for int() with base 10: 'sixty'"),
    ('conductor', 'workers_pool_size', '0', 'Should be greater than or equal to 1'),
    ('DEFAULT', 'auth_strategy', 'keystonee', 'Valid values are'),
])
def test_a_bad_option_value(tmp_path, section, name, value, reason):
    config = _base(tmp_path)
    config.setdefault(section, {})[name] = value
    line = _run(tmp_path, 'ironic-lite-api', config)
    assert line.startswith(f'[{section}]{name} = {value}: '), line
    assert reason in line


@pytest.mark.parametrize('command', ['ironic-lite-conductor', 'ironic-lite-api'])
def test_a_malformed_transport_url(tmp_path, command):
    _dbsync(tmp_path)
    line = _run(tmp_path, command, _base(tmp_path, transport_url='rabbit//guest@127.0.0.1'))
    assert line == '[DEFAULT]transport_url = rabbit//guest@127.0.0.1: No scheme specified'


def test_a_bad_value_of_an_option_oslo_messaging_registers(tmp_path):
    _dbsync(tmp_path)
    config = _base(tmp_path)
    config['oslo_messaging_rabbit'] = {'heartbeat_timeout_threshold': 'soon'}
    line = _run(tmp_path, 'ironic-lite-conductor', config)
    assert line == ("[oslo_messaging_rabbit]heartbeat_timeout_threshold = soon: invalid "
                    "literal for int() with base 10: 'soon'")


def test_a_missing_config_file(tmp_path):
    proc = subprocess.run([processes.console_script('ironic-lite-api'), '--config-file',
                           str(tmp_path / 'nowhere.conf')], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f'ironic-lite-api: cannot start: Failed to find some config '
                                   f'files: {tmp_path}/nowhere.conf')


def test_the_api_port_already_in_use(tmp_path):
    _dbsync(tmp_path)
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        config = _base(tmp_path)
        config['api']['port'] = port = busy.getsockname()[1]
        line = _run(tmp_path, 'ironic-lite-api', config)
    assert line.startswith(f'[api]host_ip = 127.0.0.1, [api]port = {port}: cannot listen '
                           f'there: ')
