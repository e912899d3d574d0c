"""The ipmitool power and management interfaces against real fake BMCs on loopback.

Nothing in the IPMI path is mocked: the driver talks IPMI over UDP to
:class:`ironic_lite.tools.fakebmc.FakeBmcFleet` (bound to kernel-chosen free ports), and the
results are read back with pyghmi's own client (in a subprocess, see ``ipmi_client``) and with
the fleet's state.
"""
from __future__ import annotations

import asyncio
import socket
import types

import pytest
import stevedore

from ironic_lite.common import boot_devices, exception, states
from ironic_lite.conf import CONF
from ironic_lite.drivers import ipmi
from ironic_lite.drivers.modules import ipmi_client, ipmitool
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.unit.tools.test_fakebmc import ipmi_client as pyghmi_client

N_BMCS = 40


@pytest.fixture(scope='module')
def fleet():
    with FakeBmcFleet(ports=[0] * N_BMCS) as f:
        yield f
    ipmi_client.shutdown()   # the driver's pyghmi thread; it restarts on next use


@pytest.fixture(autouse=True)
def ipmi_conf():
    overrides = {'min_command_interval': 0.01, 'command_retry_timeout': 10}
    for name, value in overrides.items():
        CONF.set_override(name, value, group='ipmi')
    yield
    for name in overrides:
        CONF.clear_override(name, group='ipmi')


_next = iter(range(N_BMCS - 25))   # the last 25 are for the concurrency tests


@pytest.fixture
def port(fleet):
    """A BMC of the fleet no other test uses (powered off, no boot override)."""
    return fleet.ports[next(_next)]


def make_task(port: int, **driver_info):
    info = {'ipmi_address': '127.0.0.1', 'ipmi_port': port, 'ipmi_username': 'admin',
            'ipmi_password': 'password', **driver_info}
    return types.SimpleNamespace(node=types.SimpleNamespace(
        uuid=f'1be26c0b-03f2-4d2e-ae87-{port:012d}', driver_info=info))


power = ipmitool.IPMIPower()
management = ipmitool.IPMIManagement()


# -- validation -------------------------------------------------------------------------------

async def test_validate_accepts_a_complete_driver_info():
    task = make_task(623, ipmi_priv_level='OPERATOR', ipmi_cipher_suite='3',
                     ipmi_hex_kg_key='0a1b', ipmi_disable_boot_timeout='false')
    await power.validate(task)
    await management.validate(task)
    info = ipmitool.parse_driver_info(task.node)
    assert (info.port, info.priv_level, info.suites, info.kg) == (623, 3, {3}, b'\x0a\x1b')
    assert info.disable_boot_timeout is False
    defaults = ipmitool.parse_driver_info(types.SimpleNamespace(
        uuid='x', driver_info={'ipmi_address': 'bmc.example.org'}))
    assert (defaults.port, defaults.username, defaults.priv_level) == (623, '', 4)
    assert defaults.suites == {3, 17} and defaults.disable_boot_timeout is True


async def test_validate_missing_address():
    task = make_task(623)
    del task.node.driver_info['ipmi_address']
    with pytest.raises(exception.MissingParameterValue, match='ipmi_address'):
        await power.validate(task)
    task.node.driver_info['ipmi_address'] = ' '
    with pytest.raises(exception.MissingParameterValue, match='ipmi_address'):
        await management.validate(task)


@pytest.mark.parametrize('key, value', [
    ('ipmi_port', 'abc'), ('ipmi_port', 0), ('ipmi_port', 70000),
    ('ipmi_priv_level', 'ROOT'), ('ipmi_cipher_suite', 1), ('ipmi_cipher_suite', 'x'),
    ('ipmi_hex_kg_key', 'zz'), ('ipmi_username', 'u' * 17),
    ('ipmi_disable_boot_timeout', 'maybe'), ('ipmi_protocol_version', '1.5'),
    ('ipmi_bridging', 'single'),
])
async def test_validate_names_the_bad_key(key, value):
    with pytest.raises(exception.InvalidParameterValue, match=key) as e:
        await power.validate(make_task(623, **{key: value}))
    assert not isinstance(e.value, exception.MissingParameterValue)


def test_validate_does_not_print_the_password():
    with pytest.raises(exception.InvalidParameterValue) as e:
        ipmitool.parse_driver_info(make_task(623, ipmi_password='s3cret' * 4).node)
    assert 'ipmi_password' in str(e.value) and 's3cret' not in str(e.value)


def test_properties_and_supported_values():
    props = power.get_properties()
    assert props == management.get_properties()
    assert 'Required' in props['ipmi_address']
    assert {'ipmi_port', 'ipmi_username', 'ipmi_password', 'ipmi_priv_level',
            'ipmi_cipher_suite'} <= set(props)
    assert set(power.get_supported_power_states(None)) == {
        states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT,
        states.SOFT_POWER_OFF}
    assert management.get_supported_boot_devices(None) == [
        boot_devices.PXE, boot_devices.DISK, boot_devices.CDROM, boot_devices.BIOS,
        boot_devices.SAFE]


def test_ipmi_hardware_type_and_entry_points():
    hw = stevedore.DriverManager('ironic_lite.hardware.types', 'ipmi',
                                 invoke_on_load=True).driver
    assert isinstance(hw, ipmi.IPMIHardware)
    assert hw.supported('power') == ['ipmitool'] == hw.supported('management')
    assert hw.supported('boot') == ['ipxe', 'pxe', 'fake']
    assert hw.supported('deploy') == ['direct', 'iscsi', 'fake']
    assert hw.supported('vendor') == ['no-vendor', 'fake']
    for itype, cls in (('power', ipmitool.IPMIPower), ('management', ipmitool.IPMIManagement)):
        loaded = stevedore.DriverManager(f'ironic_lite.hardware.interfaces.{itype}',
                                         'ipmitool', invoke_on_load=True).driver
        assert isinstance(loaded, cls)


# -- power ------------------------------------------------------------------------------------

async def test_power_on_and_off(fleet, port):
    task = make_task(port)
    assert await power.get_power_state(task) == states.POWER_OFF
    await power.set_power_state(task, states.POWER_ON)
    assert await pyghmi_client(port, 'power') == ['on']
    assert await power.get_power_state(task) == states.POWER_ON
    await power.set_power_state(task, states.POWER_OFF)
    assert await pyghmi_client(port, 'power') == ['off']
    assert fleet.state(port)['power_changes'] == 2


async def test_reboot(fleet, port):
    task = make_task(port)
    await power.reboot(task)                       # from off: just on
    assert fleet.state(port)['boots'] == 1
    await power.set_power_state(task, states.REBOOT, timeout=5)   # from on: off, then on
    state = fleet.state(port)
    assert (state['power'], state['boots'], state['power_changes']) == ('on', 2, 3)
    assert await pyghmi_client(port, 'power') == ['on']


async def test_power_changed_behind_the_conductors_back(port):
    task = make_task(port)
    await power.set_power_state(task, states.POWER_ON)
    assert await pyghmi_client(port, 'off') == ['off']      # somebody else's IPMI client
    assert await power.get_power_state(task) == states.POWER_OFF


async def test_soft_power_off_and_soft_reboot():
    with FakeBmcFleet(ports=[0], power='on', soft_off_delay=0.3) as fleet:
        port = fleet.ports[0]
        task = make_task(port)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await power.set_power_state(task, states.SOFT_POWER_OFF, timeout=10)
        assert loop.time() - start >= 0.3                     # waited for the OS
        assert fleet.state(port)['power'] == 'off'
        await power.set_power_state(task, states.SOFT_REBOOT, timeout=10)   # off: just on
        await power.set_power_state(task, states.SOFT_REBOOT, timeout=10)
        assert fleet.state(port)['boots'] == 2 and fleet.state(port)['power'] == 'on'


async def test_power_state_not_reached_in_time():
    with FakeBmcFleet(ports=[0], power='on', soft_off_delay=None) as fleet:  # ACPI ignored
        task = make_task(fleet.ports[0])
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(exception.PowerStateFailure, match='did not reach "power off"'):
            await power.set_power_state(task, states.SOFT_POWER_OFF, timeout=1)
        assert 1 <= loop.time() - start < 3


async def test_conductor_timeouts_apply_when_the_request_names_none():
    """[conductor]soft_power_off_timeout (and power_state_change_timeout) are registered
    options the driver reads when the caller passes no timeout."""
    assert (CONF.conductor.power_state_change_timeout, CONF.conductor.soft_power_off_timeout) \
        == (60, 600)
    CONF.set_override('soft_power_off_timeout', 1, group='conductor')
    try:
        with FakeBmcFleet(ports=[0], power='on', soft_off_delay=None) as fleet:
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(exception.PowerStateFailure, match='within 1 s'):
                await power.set_power_state(make_task(fleet.ports[0]), states.SOFT_POWER_OFF)
            assert loop.time() - start < 3
    finally:
        CONF.clear_override('soft_power_off_timeout', group='conductor')


async def test_invalid_power_state(port):
    with pytest.raises(exception.InvalidParameterValue, match='invalid power state'):
        await power.set_power_state(make_task(port), 'sleeping')


async def test_inject_nmi(fleet, port):
    task = make_task(port)
    with pytest.raises(exception.IPMIFailure, match='present state'):   # machine is off
        await management.inject_nmi(task)
    await power.set_power_state(task, states.POWER_ON)
    await management.inject_nmi(task)
    assert fleet.state(port)['nmi'] == 1


# -- boot device ------------------------------------------------------------------------------

async def test_boot_device_persistent_and_once(fleet, port):
    task = make_task(port)
    assert await management.get_boot_device(task) == {'boot_device': None,
                                                      'persistent': None}
    await management.set_boot_device(task, boot_devices.PXE, persistent=True)
    assert await management.get_boot_device(task) == {'boot_device': 'pxe',
                                                      'persistent': True}
    assert await pyghmi_client(port, 'bootdev') == [['network', True]]
    assert fleet.state(port)['boot_timeout_disabled'] is True
    for device, pyghmi_name in (('disk', 'hd'), ('cdrom', 'optical'), ('bios', 'setup'),
                                ('safe', 'safe')):
        await management.set_boot_device(task, device)
        assert await management.get_boot_device(task) == {'boot_device': device,
                                                          'persistent': False}
        assert fleet.state(port)['boot_device'] == pyghmi_name
    # A one-time device is used by the next boot only.
    await management.set_boot_device(task, boot_devices.PXE)
    await power.reboot(task)
    assert fleet.state(port)['last_boot_device'] == 'network'
    assert (await management.get_boot_device(task))['boot_device'] is None


async def test_boot_timeout_left_alone_when_disabled(fleet, port):
    task = make_task(port, ipmi_disable_boot_timeout=False)
    await management.set_boot_device(task, boot_devices.DISK, persistent=True)
    assert fleet.state(port)['boot_timeout_disabled'] is False
    assert fleet.state(port)['boot_device'] == 'hd'


async def test_invalid_boot_device(port):
    with pytest.raises(exception.InvalidParameterValue, match='floppy'):
        await management.set_boot_device(make_task(port), 'floppy')


# -- failures ---------------------------------------------------------------------------------

async def test_wrong_password_fails_fast_with_a_clear_message(fleet, port):
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(exception.IPMIFailure) as e:
        await power.get_power_state(make_task(port, ipmi_password='wrong'))
    assert str(e.value) == (f'IPMI call to 127.0.0.1:{port} failed: get power state: '
                            'Incorrect password provided')
    with pytest.raises(exception.IPMIFailure, match='Unauthorized name'):
        await power.get_power_state(make_task(port, ipmi_username='nobody'))
    assert loop.time() - start < 2
    # Right credentials on the same BMC afterwards: a new session, no leftovers.
    assert await power.get_power_state(make_task(port)) == states.POWER_OFF


async def test_unreachable_bmc_times_out_quickly():
    CONF.set_override('command_retry_timeout', 1, group='ipmi')
    # A bound socket that never answers: nobody else can take the port meanwhile.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(('127.0.0.1', 0))
        task = make_task(silent.getsockname()[1])
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(exception.IPMIFailure) as e:
            await power.get_power_state(task)
        assert loop.time() - start < 2
    assert str(e.value) == (f'IPMI call to 127.0.0.1:{task.node.driver_info["ipmi_port"]} '
                            'failed: get power state: timed out after 1 s '
                            '(no answer from the BMC)')


async def test_cipher_suite_17_required_but_not_offered(port):
    with pytest.raises(exception.IPMIFailure, match='cipher suite 3'):
        await power.get_power_state(make_task(port, ipmi_cipher_suite=17))
    assert await power.get_power_state(make_task(port, ipmi_cipher_suite=3)) == \
        states.POWER_OFF


# -- sessions, pacing, concurrency ------------------------------------------------------------

async def test_session_is_reused(fleet, port):
    task = make_task(port)
    for _ in range(5):
        await power.get_power_state(task)
    await management.set_boot_device(task, boot_devices.PXE)
    assert fleet.state(port)['sessions'] == 1
    # New credentials for the same BMC: a new session.
    fleet.bmc(port).authdata['operator'] = 'secret'
    await power.get_power_state(make_task(port, ipmi_username='operator',
                                          ipmi_password='secret'))
    assert fleet.state(port)['sessions'] == 2


async def test_min_command_interval_per_bmc(fleet):
    CONF.set_override('min_command_interval', 0.2, group='ipmi')
    ports = fleet.ports[-5:]
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(3):   # three operations on one BMC: two intervals
        await power.get_power_state(make_task(ports[0]))
    assert loop.time() - start >= 0.4
    await asyncio.sleep(0.2)   # let the interval of ports[0] pass
    start = loop.time()        # different BMCs are not paced against each other
    await asyncio.gather(*(power.get_power_state(make_task(p)) for p in ports))
    assert loop.time() - start < 0.2


async def test_many_bmcs_concurrently(fleet):
    ports = fleet.ports[-25:]
    tasks = [make_task(p) for p in ports]
    await asyncio.gather(*(power.set_power_state(t, states.POWER_ON) for t in tasks))
    assert await asyncio.gather(*(power.get_power_state(t) for t in tasks)) == \
        [states.POWER_ON] * len(tasks)
    await asyncio.gather(*(management.set_boot_device(t, boot_devices.PXE, persistent=True)
                           for t in tasks))
    await asyncio.gather(*(power.reboot(t) for t in tasks))
    for p in ports:
        state = fleet.state(p)
        assert (state['power'], state['boot_device'], state['last_boot_device']) == (
            'on', 'network', 'network')
    await asyncio.gather(*(power.set_power_state(t, states.POWER_OFF) for t in tasks))
    assert {fleet.state(p)['power'] for p in ports} == {'off'}


async def test_new_login_after_idle(fleet, monkeypatch):
    monkeypatch.setattr(ipmi_client, '_REUSE_IDLE', 0)   # every session counts as stale
    port = fleet.ports[-1]
    before = fleet.state(port)['sessions']
    for _ in range(3):
        await power.get_power_state(make_task(port))
    assert fleet.state(port)['sessions'] == before + 3


async def test_bmc_restart_is_survived():
    """The BMC forgets the session: the lost answer is retried with a new login."""
    fleet = FakeBmcFleet(ports=[0]).start()
    port = fleet.ports[0]
    try:
        task = make_task(port)
        assert await power.get_power_state(task) == states.POWER_OFF
        fleet.stop()
        fleet = FakeBmcFleet(ports=[port], power='on').start()
        assert await power.get_power_state(task) == states.POWER_ON
        assert fleet.state(port)['sessions'] == 1
    finally:
        fleet.stop()


async def test_a_thousand_bmcs_in_one_process():
    """The fleet's sockets push pyghmi's past descriptor 1023 (select()'s limit)."""
    with FakeBmcFleet(ports=[0] * 1100) as big:
        tasks = [make_task(p) for p in big.ports]
        results = await asyncio.gather(*(power.get_power_state(t) for t in tasks))
        assert results == [states.POWER_OFF] * len(tasks)
        await asyncio.gather(*(power.set_power_state(t, states.POWER_ON) for t in tasks[:200]))
        assert [big.state(p)['power'] for p in big.ports[:201]] == ['on'] * 200 + ['off']
