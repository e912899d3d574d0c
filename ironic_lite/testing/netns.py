"""A provisioning network in a network namespace, for end-to-end tests with qemu machines.

:class:`ProvisioningNetwork` creates (with pyroute2) a namespace holding a bridge with the
conductor's provisioning address (IPv4, and an IPv6 ULA so iPXE's IPv6 autoconfiguration ends
at once instead of after ~18 s) and one tap per machine enslaved to it. Processes run inside
with :meth:`command` (``ip netns exec``); :meth:`call` runs a Python callable on a thread that
entered the namespace, so a test reaches the API there with ordinary HTTP clients. Nothing is
routed out of the namespace: every packet of a test stays inside it. ``close()`` kills what
:meth:`spawn` started and removes the namespace (and with it the bridge and taps).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import os
import subprocess
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pyroute2 import NetNS, netns

from ironic_lite.testing import processes

BRIDGE = 'brprov'


class ProvisioningNetwork:
    def __init__(self, subnet: str = '10.77.0.0/24', ula: str = 'fd77:77::/64',
                 taps: Sequence[str] = ()) -> None:
        self.name = f'il-{uuid.uuid4().hex[:8]}'
        net = ipaddress.ip_network(subnet)
        self.prefixlen = net.prefixlen
        self.address = str(net.network_address + 1)           # the conductor's
        self.dhcp_range = (str(net.network_address + 100), str(net.network_address + 199))
        self.ula = ipaddress.ip_network(ula)
        self.taps = list(taps)
        self._procs: list[subprocess.Popen] = []
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # -- life -------------------------------------------------------------------------------
    def create(self) -> ProvisioningNetwork:
        netns.create(self.name)
        try:
            with NetNS(self.name) as ns:
                ns.link('set', index=ns.link_lookup(ifname='lo')[0], state='up')
                ns.link('add', ifname=BRIDGE, kind='bridge')
                bridge = ns.link_lookup(ifname=BRIDGE)[0]
                # No STP/forward delay: a tap forwards as soon as qemu opens it.
                ns.link('set', index=bridge, br_forward_delay=0, br_stp_state=0)
                ns.addr('add', index=bridge, address=self.address, prefixlen=self.prefixlen)
                ns.addr('add', index=bridge, address=str(self.ula.network_address + 1),
                        prefixlen=self.ula.prefixlen)
                for tap in self.taps:
                    ns.link('add', ifname=tap, kind='tuntap', mode='tap')
                    ns.link('set', index=ns.link_lookup(ifname=tap)[0], master=bridge,
                            state='up')
                ns.link('set', index=bridge, state='up')
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for proc in reversed(self._procs):
            processes.terminate(proc, grace=15)
        self._procs.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        with contextlib.suppress(OSError, FileNotFoundError):
            netns.remove(self.name)

    def __enter__(self) -> ProvisioningNetwork:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside the namespace -----------------------------------------------------------------
    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ['ip', 'netns', 'exec', self.name, *argv]

    def spawn(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """Start ``argv`` inside the namespace; :meth:`close` terminates it."""
        proc = subprocess.Popen(self.command(argv), start_new_session=True, **kwargs)
        self._procs.append(proc)
        return proc

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on a thread whose network namespace is this one (sockets
        it opens live there)."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=self.name,
                initializer=netns.setns, initargs=(self.name, 0))
        return self._executor.submit(fn, *args, **kwargs).result()

    def port_open(self, port: int) -> bool:
        import socket

        def probe() -> bool:
            try:
                with socket.create_connection((self.address, port), timeout=0.5):
                    return True
            except OSError:
                return False
        return self.call(probe)


def dnsmasq_argv(net: ProvisioningNetwork, workdir: str, hostsdir: str, optsdir: str,
                 leasefile: str, tftp_root: str) -> list[str]:
    """dnsmasq serving DHCP (hosts and options from the directories ironic_lite's ``dnsmasq``
    provider writes), TFTP and IPv6 router advertisements on the bridge only."""
    return ['dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0',
            '--no-resolv', '--no-hosts', f'--interface={BRIDGE}', '--bind-interfaces',
            '--except-interface=lo', '--user=root', '--group=root',
            f'--pid-file={os.path.join(workdir, "dnsmasq.pid")}',
            f'--dhcp-range={net.dhcp_range[0]},{net.dhcp_range[1]},1h',
            f'--dhcp-range={net.ula.network_address},ra-only', '--enable-ra',
            f'--dhcp-hostsdir={hostsdir}', f'--dhcp-optsdir={optsdir}',
            f'--dhcp-leasefile={leasefile}', '--dhcp-match=set:ipxe,175',
            '--dhcp-ignore=tag:!ironic',          # only machines ironic_lite enrolled
            '--enable-tftp', f'--tftp-root={tftp_root}', '--log-dhcp',
            f'--log-facility={os.path.join(workdir, "dnsmasq.log")}']
