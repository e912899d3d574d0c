"""A fleet of fake IPMI BMCs in one process, for tests, benchmarks and demos.

Each BMC is a :class:`pyghmi.ipmi.bmc.Bmc` with its own UDP socket, credentials, power state
and boot device (with the persistent flag). All sockets are served by ONE selector loop in one
thread, so hundreds of BMCs answer at once without retransmits. Run it as a command::

    ironic-lite-fakebmc --address 127.0.0.1 --port-range 6230-6329 --user admin --password password

(it prints ``READY 127.0.0.1 6230-6329`` once every socket is bound and stops cleanly on SIGTERM
or SIGINT), or in-process::

    with FakeBmcFleet(ports=[0] * 20) as fleet:     # port 0: the kernel picks a free port
        fleet.ports, fleet.state(fleet.ports[0])

Why not pyghmi's own ``Bmc.listen()``: its server shares the client's process-wide IO thread
and handler table, and a new login from a client socket that already has a session with
another BMC of the same process drops those other sessions (clients then time out and
re-login), so one pyghmi process serves ~20 BMCs/s. Here each BMC routes its own packets by
client address (one BMC: ``fakebmc_bmc``).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import selectors
import signal
import socket
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from ironic_lite.tools.fakebmc_bmc import BmcSpec, FakeBmc

__all__ = ['BmcSpec', 'FakeBmc', 'FakeBmcFleet', 'format_ports', 'main', 'parse_ports']

LOG = logging.getLogger(__name__)

_BURST = 64  # packets read from one socket before serving the others (fairness)


class FakeBmcFleet:
    """Many fake BMCs served by one selector loop thread.

    ``FakeBmcFleet(address, ports, user, password)`` or ``FakeBmcFleet(address, specs=[...])``;
    ``start()`` binds every socket (and raises OSError if one is taken) before it returns.
    """

    def __init__(self, address: str = '127.0.0.1', ports: Iterable[int] = (0,),
                 user: str = 'admin', password: str = 'password', *,
                 specs: Sequence[BmcSpec] | None = None, power: str = 'off',
                 soft_off_delay: float | None = 0.0, allow_non_loopback: bool = False) -> None:
        if not allow_non_loopback and not ipaddress.ip_address(address).is_loopback:
            raise ValueError(f'fake BMCs bind loopback addresses only, not {address}')
        self.address = address
        if specs is None:
            specs = [BmcSpec(port=p, username=user, password=password, power=power)
                     for p in ports]
        self.specs = list(specs)
        self.soft_off_delay = soft_off_delay
        self._bmcs: dict[int, FakeBmc] = {}
        self._selector: selectors.BaseSelector | None = None
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._stopping = False

    @property
    def ports(self) -> list[int]:
        return list(self._bmcs)

    def bmc(self, port: int) -> FakeBmc:
        return self._bmcs[port]

    def state(self, port: int) -> dict[str, Any]:
        """Power, boot device and counters of the BMC on ``port``."""
        return self._bmcs[port].state()

    def set_state(self, port: int, **kwargs: Any) -> None:
        self._bmcs[port].set_state(**kwargs)

    def ready_line(self) -> str:
        return f'READY {self.address} {format_ports(self.ports)}'

    def start(self) -> FakeBmcFleet:
        _raise_fd_limit(len(self.specs) + 64)
        family = socket.AF_INET6 if ':' in self.address else socket.AF_INET
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            for spec in self.specs:
                sock = socket.socket(family, socket.SOCK_DGRAM)
                try:
                    # A burst of logins from many clients must not overflow the queue.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                    sock.bind((self.address, spec.port))
                except OSError:
                    sock.close()
                    raise
                bmc = self._make_bmc(sock, spec)
                self._bmcs[bmc.port] = bmc
                self._selector.register(sock, selectors.EVENT_READ, bmc)
        except BaseException:
            self._close()
            raise
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name='fakebmc-loop', daemon=True)
        self._thread.start()
        return self

    def _make_bmc(self, sock: socket.socket, spec: Any) -> FakeBmc:
        """The BMC served on ``sock`` (a subclass serves other machines: ``vbmc``)."""
        return FakeBmc(sock, spec, self.soft_off_delay)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        if self._thread is not None:
            try:
                self._wake_w.send(b'x')
            except OSError:
                pass
            self._thread.join(timeout)
            self._thread = None
        self._close()

    def __enter__(self) -> FakeBmcFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close(self) -> None:
        for bmc in self._bmcs.values():
            bmc.serversocket.close()
        self._bmcs.clear()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None
        if self._selector is not None:
            self._selector.close()
            self._selector = None

    def _run(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select():
                bmc = key.data
                if bmc is None:
                    try:
                        self._wake_r.recv(64)
                    except OSError:
                        pass
                    continue
                sock = key.fileobj
                for _ in range(_BURST):
                    try:
                        # MSG_DONTWAIT: pyghmi's send helper flips the socket to blocking.
                        data, addr = sock.recvfrom(4096, socket.MSG_DONTWAIT)
                    except OSError:   # BlockingIOError: drained; others: closed on stop
                        break
                    try:
                        bmc.dispatch(data, addr)
                    except Exception:  # a bad packet must not kill every BMC
                        LOG.exception('fake BMC on port %s failed on a packet', bmc.port)


def format_ports(ports: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``'1-3,7'``."""
    ranges: list[list[int]] = []
    for port in sorted(ports):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return ','.join(str(a) if a == b else f'{a}-{b}' for a, b in ranges)


def parse_ports(text: str) -> list[int]:
    """``'6230-6232,6240'`` -> ``[6230, 6231, 6232, 6240]``."""
    ports: list[int] = []
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition('-')
        low, high = int(first), int(last or first)
        if not 0 <= low <= high <= 65535:
            raise ValueError(f'bad port range {part!r}')
        ports.extend(range(low, high + 1))
    return ports


def _raise_fd_limit(needed: int) -> None:
    """Each BMC holds a socket: lift the soft open-files limit towards the hard one."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = needed + len(os.listdir('/proc/self/fd'))
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (
                want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    except (ImportError, OSError, ValueError):
        pass  # binding then fails with a clear EMFILE


def load_document(path: str) -> Any:
    """A JSON (or, with PyYAML installed, YAML) file describing BMCs or machines."""
    with open(path, encoding='utf-8') as f:
        if path.endswith(('.yaml', '.yml')):
            import yaml
            return yaml.safe_load(f)
        return json.load(f)


def _load_specs(path: str) -> tuple[str | None, list[BmcSpec]]:
    """A list of BMCs, or ``{"address": ..., "bmcs": [{"port": 6230, "username": ...,
    "password": ..., "power": "off", "boot_device": "network", "persistent": false}, ...]}``."""
    doc = load_document(path)
    address = None
    if isinstance(doc, dict):
        address, doc = doc.get('address'), doc.get('bmcs', [])
    return address, [BmcSpec(**entry) for entry in doc]


def serve(fleet: FakeBmcFleet) -> int:
    """The commands' serving loop: print the fleet's READY line, serve until SIGTERM or
    SIGINT, then stop the fleet (a subclass's ``stop`` also powers its machines off)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        print(fleet.ready_line(), flush=True)
        stop.wait()
    finally:
        fleet.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='ironic-lite-fakebmc',
        description='Serve many fake IPMI BMCs (power, boot device) on loopback UDP ports.')
    parser.add_argument('--address', default=None, help='address to bind (default 127.0.0.1)')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--port-range', help='ports, e.g. 6230-6329 or 6230-6239,6300')
    where.add_argument('--count', type=int, help='this many BMCs on free ports')
    where.add_argument('--config', help='JSON/YAML file listing BMCs')
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', default='password')
    parser.add_argument('--power', choices=('on', 'off'), default='off',
                        help='initial power state')
    parser.add_argument('--soft-off-delay', type=float, default=0.0,
                        help='seconds a soft power off takes; negative: the OS ignores it')
    parser.add_argument('--allow-non-loopback', action='store_true')
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format='%(asctime)s %(levelname)s %(message)s')

    address = args.address
    specs: list[BmcSpec]
    if args.config:
        file_address, specs = _load_specs(args.config)
        address = address or file_address
    else:
        ports = parse_ports(args.port_range) if args.port_range else [0] * args.count
        specs = [BmcSpec(port=p, username=args.user, password=args.password, power=args.power)
                 for p in ports]
    soft_off = args.soft_off_delay if args.soft_off_delay >= 0 else None
    try:
        fleet = FakeBmcFleet(address or '127.0.0.1', specs=specs, soft_off_delay=soft_off,
                             allow_non_loopback=args.allow_non_loopback).start()
    except (OSError, ValueError) as e:
        print(f'ironic-lite-fakebmc: {e}', file=sys.stderr)
        return 1
    return serve(fleet)


if __name__ == '__main__':
    sys.exit(main())
