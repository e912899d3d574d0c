"""The fake BMC tool, checked with real IPMI clients over loopback (nothing mocked).

The IPMI client used to check it is pyghmi's own synchronous client, run in a subprocess:
pyghmi's session layer is process-wide, and in this process the ipmitool driver's pump thread
(see ipmi_client) would handle that client's packets too.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import sys

import pytest

from ironic_lite.tools import fakebmc

_CLIENT = r'''
import json, sys
from pyghmi.ipmi import command
port, user, password, actions = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
out = []
try:
    c = command.Command('127.0.0.1', user.encode(), password.encode(), port=port)
    for action in actions:
        if action == 'power':
            out.append(c.get_power()['powerstate'])
        elif action == 'bootdev':
            b = c.get_bootdev()
            out.append([b['bootdev'], b['persistent']])
        elif action.startswith('bootdev='):
            name, _, persist = action[8:].partition(',')
            c.set_bootdev(name, persist=bool(persist))
            out.append(name)
        else:
            c.set_power(action)
            out.append(action)
except Exception as e:
    out.append('error: %s' % e)
print(json.dumps(out))
'''


async def ipmi_client(port: int, *actions: str, user: str = 'admin',
                      password: str = 'password', timeout: float = 30) -> list:
    """Run pyghmi's client against 127.0.0.1:port: 'power', 'bootdev', 'bootdev=NAME[,p]',
    or a pyghmi power state ('on', 'off', 'reset', 'softoff'...). Returns one result each,
    or a final 'error: ...' entry."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, '-c', _CLIENT, str(port), user, password, *actions,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def start_cli(*args: str) -> tuple[asyncio.subprocess.Process, list[int]]:
    """Start the command, wait (bounded) for its READY line, return it and its ports."""
    script = os.path.join(os.path.dirname(sys.executable), 'ironic-lite-fakebmc')
    cmd = [script] if os.path.exists(script) else [sys.executable, '-m',
                                                    'ironic_lite.tools.fakebmc']
    proc = await asyncio.create_subprocess_exec(*cmd, *args, stdout=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().split()
        assert line[:2] == ['READY', '127.0.0.1'], line
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise
    return proc, fakebmc.parse_ports(line[2])


async def stop_cli(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> int:
    if proc.returncode is None:
        proc.send_signal(sig)
    try:
        return await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise


@pytest.fixture
def fleet():
    with fakebmc.FakeBmcFleet(ports=[0, 0, 0]) as f:
        yield f


def test_port_helpers():
    assert fakebmc.parse_ports('6230-6232,6240') == [6230, 6231, 6232, 6240]
    assert fakebmc.format_ports([6240, 6230, 6231, 6232]) == '6230-6232,6240'
    assert fakebmc.format_ports([]) == ''
    with pytest.raises(ValueError):
        fakebmc.parse_ports('6232-6230')


def test_loopback_only():
    with pytest.raises(ValueError, match='loopback'):
        fakebmc.FakeBmcFleet('192.0.2.1')


def test_fleet_binds_free_ports_and_releases_them():
    fleet = fakebmc.FakeBmcFleet(ports=[0, 0]).start()
    ports = fleet.ports
    try:
        assert len(set(ports)) == 2 and all(ports)
        assert fleet.ready_line() == f'READY 127.0.0.1 {fakebmc.format_ports(ports)}'
        assert fleet.state(ports[0])['power'] == 'off'
        # Taken ports are refused with OSError and nothing stays bound.
        with pytest.raises(OSError):
            fakebmc.FakeBmcFleet(ports=[0, ports[1]]).start()
    finally:
        fleet.stop()
    for port in ports:   # stop() closed the sockets: the ports can be bound again
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(('127.0.0.1', port))


async def test_power_and_boot_device_over_ipmi(fleet):
    port = fleet.ports[0]
    assert await ipmi_client(port, 'power', 'on', 'power') == ['off', 'on', 'on']
    state = fleet.state(port)
    assert state['power'] == 'on' and state['boots'] == 1
    assert await ipmi_client(port, 'bootdev=network,p', 'bootdev') == [
        'network', ['network', True]]
    assert fleet.state(port)['boot_device'] == 'network'
    assert fleet.state(port)['persistent'] is True
    # A one-time override is consumed by the next boot; a reset needs the machine on.
    assert await ipmi_client(port, 'bootdev=optical', 'reset', 'bootdev') == [
        'optical', 'reset', ['default', True]]
    state = fleet.state(port)
    assert state['last_boot_device'] == 'optical' and state['boots'] == 2
    assert await ipmi_client(port, 'off', 'power') == ['off', 'off']
    assert (await ipmi_client(port, 'reset'))[-1].startswith('error:')   # 0xd5 while off
    # Other BMCs of the fleet were not touched.
    assert fleet.state(fleet.ports[1])['commands'] == 0


async def test_state_changed_behind_the_back(fleet):
    port = fleet.ports[1]
    fleet.set_state(port, power='on', boot_device='hd', persistent=True)
    assert await ipmi_client(port, 'power', 'bootdev') == ['on', ['hd', True]]


async def test_soft_power_off_delay():
    with fakebmc.FakeBmcFleet(ports=[0], power='on', soft_off_delay=None) as fleet:
        port = fleet.ports[0]
        assert await ipmi_client(port, 'softoff', 'power') == ['softoff', 'on']  # ignored
        fleet.bmc(port).soft_off_delay = 0.2
        loop = asyncio.get_running_loop()
        start = loop.time()
        # pyghmi's set_power('softoff') only sends the request; the BMC turns off later.
        assert await ipmi_client(port, 'softoff') == ['softoff']
        while fleet.state(port)['power'] == 'on':
            assert loop.time() - start < 10, 'soft power off never completed'
            await asyncio.sleep(0.05)
        assert loop.time() - start >= 0.2


async def test_bad_credentials_fail_fast(fleet):
    port = fleet.ports[2]
    loop = asyncio.get_running_loop()
    start = loop.time()
    out = await ipmi_client(port, 'power', password='wrong')
    assert out == ['error: Incorrect password provided']
    out = await ipmi_client(port, 'power', user='nobody')
    assert out[-1].startswith('error: Unauthorized name')
    assert loop.time() - start < 10   # two interpreters; no client time-out involved


def _open_session_request(auth: int, integrity: int, confidentiality: int) -> bytes:
    payload = bytes([7, 0, 0, 0]) + struct.pack('<I', 0xA0A1A2A3) + bytes([
        0, 0, 0, 8, auth, 0, 0, 0,
        1, 0, 0, 8, integrity, 0, 0, 0,
        2, 0, 0, 8, confidentiality, 0, 0, 0])
    # RMCP, then IPMI 2.0 session header: auth type 6 (RMCP+), payload type 0x10.
    return (b'\x06\x00\xff\x07' + bytes([6, 0x10]) + b'\0' * 8
            + struct.pack('<H', len(payload)) + payload)


@pytest.mark.parametrize('algorithms, status', [
    ((3, 4, 1), 0x11),     # suite 17: refused, so pyghmi's client retries with suite 3
    ((1, 1, 1), 0x00),     # suite 3: accepted
])
def test_open_session_cipher_suites(fleet, algorithms, status):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(_open_session_request(*algorithms), ('127.0.0.1', fleet.ports[0]))
        answer = s.recv(512)
    assert answer[5] & 0x3F == 0x11          # RMCP+ open session response
    assert answer[16] == 7 and answer[17] == status
    assert answer[20:24] == struct.pack('<I', 0xA0A1A2A3)


async def test_cli_port_range_and_sigterm():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:   # find two free ports
        s.bind(('127.0.0.1', 0))
        base = s.getsockname()[1]
    if base >= 65535:
        pytest.skip('no room above the free port')
    try:
        proc, ports = await start_cli('--port-range', f'{base}-{base + 1}',
                                      '--user', 'root', '--password', 'calvin')
    except AssertionError:
        pytest.skip('the port next to a free one was taken')
    try:
        assert ports == [base, base + 1]
        assert await ipmi_client(base + 1, 'on', 'power', user='root',
                                 password='calvin') == ['on', 'on']
        assert await ipmi_client(base, 'power', user='root', password='calvin') == ['off']
    finally:
        assert await stop_cli(proc) == 0


async def test_cli_config_file_count_and_sigint(tmp_path):
    config = tmp_path / 'bmcs.json'
    config.write_text(json.dumps({'address': '127.0.0.1', 'bmcs': [
        {'port': 0, 'username': 'a', 'password': 'pa', 'power': 'on',
         'boot_device': 'network', 'persistent': True},
        {'port': 0, 'username': 'b', 'password': 'pb'}]}))
    proc, ports = await start_cli('--config', str(config))
    try:
        assert len(ports) == 2
        states = [await ipmi_client(p, 'power', 'bootdev', user='a', password='pa')
                  for p in ports]
        # Which port got which BMC is the kernel's choice; credentials tell them apart.
        good = [s for s in states if not s[0].startswith('error')]
        assert good == [['on', ['network', True]]]
    finally:
        assert await stop_cli(proc, signal.SIGINT) == 0
    proc, ports = await start_cli('--count', '5', '--power', 'on')
    try:
        assert len(set(ports)) == 5
        assert await ipmi_client(ports[4], 'power') == ['on']
    finally:
        assert await stop_cli(proc) == 0


async def test_cli_refuses_a_taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, '-m', 'ironic_lite.tools.fakebmc', '--port-range',
            str(s.getsockname()[1]), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1 and out == b''
    assert b'Address already in use' in err
