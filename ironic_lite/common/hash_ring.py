"""Which conductor owns a node: a consistent hash ring (tooz) per hardware type and group.

Used by the RPC client to route a node's messages and by conductors to decide which nodes their
periodic tasks look after. Rings are rebuilt from the live conductors in the database every
``[conductor]hash_ring_reset_interval`` seconds (or on demand, e.g. after a miss) — and also
at the moment the member with the oldest heartbeat would pass ``[conductor]heartbeat_timeout``,
so a dead conductor leaves the ring as soon as it counts as dead, not up to a reset interval
later. Takeover after a conductor dies is bounded by ``heartbeat_timeout +
hash_ring_reset_interval`` (see the conductor's ``take_over`` periodic).
"""
from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Sequence
from typing import Protocol

from oslo_config import cfg
from oslo_utils import timeutils
from tooz import hashring

from ironic_lite.common import exception


class LiveConductor(Protocol):
    """What the ring reads of a conductor's row."""

    hostname: str
    conductor_group: str
    drivers: list[str]
    updated_at: datetime.datetime | None  # naive UTC, as the database stores it


class ConductorDirectory(Protocol):
    """Where the ring finds the live conductors: the database (``db.aio.AsyncConnection``),
    named here by what the ring needs so that ``common`` does not import ``db``."""

    async def get_online_conductors(self, timeout_s: int) -> Sequence[LiveConductor]: ...


class HashRingManager:
    def __init__(self, db: ConductorDirectory, conf: cfg.ConfigOpts):
        self.db = db
        self.conf = conf
        self._rings: dict[tuple[str, str], hashring.HashRing] = {}
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.hosts: frozenset[str] = frozenset()  # the live conductors at the last rebuild

    async def _rebuild(self) -> None:
        opts = self.conf.conductor
        conductors = await self.db.get_online_conductors(opts.heartbeat_timeout)
        members: dict[tuple[str, str], set[str]] = {}
        for cond in conductors:
            for driver in cond.drivers:
                members.setdefault((cond.conductor_group or '', driver), set()).add(
                    cond.hostname)
        partitions = 2 ** self.conf.conductor.hash_partition_exponent
        self._rings = {key: hashring.HashRing(hosts, partitions=partitions)
                       for key, hosts in members.items()}
        self.hosts = frozenset(c.hostname for c in conductors)
        trusted = float(opts.hash_ring_reset_interval)
        if conductors:
            oldest = min(c.updated_at for c in conductors)
            dies_in = (oldest + datetime.timedelta(seconds=opts.heartbeat_timeout)
                       - timeutils.utcnow()).total_seconds()
            trusted = min(trusted, max(dies_in, 0.05))
        self._expires_at = time.monotonic() + trusted

    async def refresh(self, force: bool = False) -> None:
        if force or time.monotonic() >= self._expires_at:
            async with self._lock:
                await self._rebuild()

    async def get_host(self, node_uuid: str, driver: str, conductor_group: str = '') -> str:
        """The conductor that owns a node; NoValidHost (503) when none is alive for it."""
        await self.refresh()
        ring = self._rings.get((conductor_group or '', driver))
        if ring is None:
            await self.refresh(force=True)
            ring = self._rings.get((conductor_group or '', driver))
        if ring is None:
            group = f' in conductor group "{conductor_group}"' if conductor_group else ''
            raise exception.NoValidHost(
                reason=f'No conductor service registered which supports driver {driver}'
                       f'{group}.')
        return next(iter(ring.get_nodes(node_uuid.encode())))

    async def owns(self, host: str, node_uuid: str, driver: str,
                   conductor_group: str = '') -> bool:
        try:
            return await self.get_host(node_uuid, driver, conductor_group) == host
        except exception.NoValidHost:
            return False
