"""DHCP providers: how a node's PXE/iPXE boot options reach the DHCP server.

``[dhcp]dhcp_provider`` picks one:

* ``none`` — nothing is managed; an operator-run DHCP server sends the boot options.
* ``dnsmasq`` — files for an external dnsmasq started with ``--dhcp-hostsdir`` and
  ``--dhcp-optsdir`` (and ``--dhcp-match=set:ipxe,175`` for the ipxe boot interface), the layout
  of upstream Ironic's dnsmasq provider:

  - ``<[dnsmasq]dhcp_hostsdir>/ironic-<mac>.conf``: ``<mac>,set:<tag>,set:ironic`` for each
    PXE-enabled port; ``<tag>`` is a per-node random tag kept in the node's
    ``driver_internal_info['dnsmasq_tag']``.
  - ``<[dnsmasq]dhcp_optsdir>/ironic-<node uuid>.conf``: one ``tag:<tag>,<option>,<value>``
    line per boot option.

  dnsmasq reads new and changed files in those directories by itself (inotify) but only *adds*
  what it reads: a deleted host file keeps its record until a SIGHUP. So, as upstream, clean-up
  rewrites each host file to ``<mac>,ignore`` (which dnsmasq applies at once) and deletes the
  options file (its lines only match the discarded tag). Every file is written to a dot-file
  (dnsmasq's inotify skips those) and renamed into place, so dnsmasq never reads half a file.

Options are upstream's dicts: ``{'opt_name': '67', 'opt_value': 'pxelinux.0'}``; an
``opt_name`` may carry tags (``'tag:!ipxe,67'``). File work runs in a thread.
"""
from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from oslo_config import cfg

from ironic_lite.common import exception, fileutils

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

LOG = logging.getLogger(__name__)

TAG_KEY = 'dnsmasq_tag'


def pxe_macs(task: Task) -> list[str]:
    """Lower-case MAC addresses of the node's PXE-enabled ports."""
    return sorted({p.address.lower() for p in task.ports
                   if p.address and getattr(p, 'pxe_enabled', True)})


class BaseDHCP(abc.ABC):
    """A DHCP provider. All methods run under the node's exclusive lock."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    @abc.abstractmethod
    async def update_dhcp_opts(self, task: Task, options: list[dict[str, Any]]) -> None:
        """Make the DHCP server send ``options`` to the node's PXE-enabled ports."""

    @abc.abstractmethod
    async def clean_dhcp_opts(self, task: Task) -> None:
        """Stop sending the node boot options. Idempotent."""

    async def get_ip_addresses(self, task: Task) -> list[str]:
        """IP addresses the DHCP server leased to the node's ports (if it knows)."""
        return []

    def supports_ipxe_tag(self) -> bool:
        """Whether options may be filtered on the ``ipxe`` tag."""
        return False


class NoneDHCPApi(BaseDHCP):
    """``none``: boot options are an operator's business."""

    async def update_dhcp_opts(self, task: Task, options: list[dict[str, Any]]) -> None:
        pass

    async def clean_dhcp_opts(self, task: Task) -> None:
        pass


def _dnsmasq_option(tag: str, option: dict[str, Any]) -> str:
    parts = str(option['opt_name']).split(',')
    name = parts[-1]
    if not name.isdigit() and not name.startswith('option'):
        parts[-1] = f'option:{name}'  # e.g. server-ip-address (sets siaddr)
    value = str(option['opt_value'])
    if '\n' in value or '\n' in option['opt_name']:
        raise exception.InvalidParameterValue(err=f'Invalid DHCP option {option!r}')
    return ','.join([f'tag:{tag}', *parts, value])


class DnsmasqDHCPApi(BaseDHCP):
    """``dnsmasq``: host and option files in dnsmasq's hostsdir/optsdir (see module doc)."""

    def host_file(self, mac: str) -> str:
        return os.path.join(self.conf.dnsmasq.dhcp_hostsdir, f'ironic-{mac.lower()}.conf')

    def opts_file(self, node_uuid: str) -> str:
        return os.path.join(self.conf.dnsmasq.dhcp_optsdir, f'ironic-{node_uuid}.conf')

    def supports_ipxe_tag(self) -> bool:
        return True  # with dhcp-match=set:ipxe,175 in dnsmasq's configuration

    async def update_dhcp_opts(self, task: Task, options: list[dict[str, Any]]) -> None:
        tag = task.node.driver_internal_info.get(TAG_KEY)
        if not tag:
            tag = uuid.uuid4().hex
            await task.set_driver_internal_info(**{TAG_KEY: tag})
        lines = ''.join(_dnsmasq_option(tag, opt) + '\n' for opt in options)
        macs = pxe_macs(task)
        if not macs:
            LOG.warning('Node %s has no PXE-enabled port: no DHCP host entry written',
                        task.node.uuid)
        await asyncio.to_thread(self._write, task.node.uuid, tag, lines, macs)
        LOG.debug('dnsmasq entries for node %s (tag %s): %s', task.node.uuid, tag, macs)

    def _write(self, node_uuid: str, tag: str, lines: str, macs: list[str]) -> None:
        os.makedirs(self.conf.dnsmasq.dhcp_optsdir, exist_ok=True)
        os.makedirs(self.conf.dnsmasq.dhcp_hostsdir, exist_ok=True)
        # Options first: when dnsmasq sees a host tagged, the tag's options are there.
        fileutils.write_atomic(self.opts_file(node_uuid), lines)
        for mac in macs:
            fileutils.write_atomic(self.host_file(mac), f'{mac},set:{tag},set:ironic\n')

    async def clean_dhcp_opts(self, task: Task) -> None:
        tag = task.node.driver_internal_info.get(TAG_KEY)
        await asyncio.to_thread(self._clean, task.node.uuid, tag, pxe_macs(task))
        if tag:
            await task.set_driver_internal_info(**{TAG_KEY: None})

    def _tagged_macs(self, tag: str) -> set[str]:
        """MACs whose host file still carries ``tag`` (ports deleted or not PXE-enabled)."""
        found: set[str] = set()
        marker = f',set:{tag},'
        with contextlib.suppress(FileNotFoundError), \
                os.scandir(self.conf.dnsmasq.dhcp_hostsdir) as entries:
            for entry in entries:
                if not (entry.name.startswith('ironic-') and entry.name.endswith('.conf')):
                    continue
                with contextlib.suppress(OSError), open(entry.path) as f:
                    content = f.read(4096)
                if marker in content:
                    found.add(content.split(',', 1)[0].strip().lower())
        return found

    def _clean(self, node_uuid: str, tag: str | None, macs: list[str]) -> None:
        targets = set(macs) | (self._tagged_macs(tag) if tag else set())
        for mac in sorted(targets):
            path, ignore = self.host_file(mac), f'{mac},ignore\n'
            try:
                with open(path) as f:
                    if f.read() == ignore:
                        continue
            except FileNotFoundError:
                continue  # never written: dnsmasq holds no record of ours for it
            fileutils.write_atomic(path, ignore)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.opts_file(node_uuid))

    async def get_ip_addresses(self, task: Task) -> list[str]:
        macs = set(pxe_macs(task))
        return await asyncio.to_thread(self._leases, macs)

    def _leases(self, macs: set[str]) -> list[str]:
        # dnsmasq lease lines: <expiry> <mac> <ip> <hostname> <client-id>
        addresses = []
        with contextlib.suppress(FileNotFoundError), \
                open(self.conf.dnsmasq.dhcp_leasefile) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3 and fields[1].lower() in macs:
                    addresses.append(fields[2])
        return addresses


PROVIDERS: dict[str, type[BaseDHCP]] = {
    'none': NoneDHCPApi,
    'dnsmasq': DnsmasqDHCPApi,
}


def get_provider(conf: cfg.ConfigOpts) -> BaseDHCP:
    """The provider ``[dhcp]dhcp_provider`` names."""
    name = conf.dhcp.dhcp_provider
    try:
        return PROVIDERS[name](conf)
    except KeyError:
        raise exception.InvalidParameterValue(
            err=f'Unknown [dhcp]dhcp_provider {name!r}; valid: {sorted(PROVIDERS)}') from None
