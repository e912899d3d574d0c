"""Network interfaces: ``noop`` and ``flat``, with upstream Ironic's VIF semantics.

``noop`` does nothing, as upstream: attaching succeeds, nothing is recorded, the list is empty.
``flat`` records a tenant VIF on one of the node's ports or portgroups, in its
``internal_info['tenant_vif_port_id']`` (a Nova driver of old wrote ``extra['vif_port_id']``;
it is read too). Without Neutron there is nothing to bind: the record is the attachment.

A VIF goes to the port-like object chosen as upstream chooses it: a free portgroup before a
free port, a PXE-enabled port before another; with API 1.67 the caller may name the port or
portgroup (``port_uuid`` / ``portgroup_uuid``).
"""
from __future__ import annotations

import collections
from typing import Any

from ironic_lite.common import exception
from ironic_lite.db import models
from ironic_lite.drivers import base

TENANT_VIF_KEY = 'tenant_vif_port_id'


def attached_vif(obj) -> str | None:
    """The VIF recorded on a port or portgroup, if any."""
    return obj.internal_info.get(TENANT_VIF_KEY) or obj.extra.get('vif_port_id')


class NoopNetwork(base.NetworkInterface):
    async def validate(self, task) -> None:
        pass

    async def vif_list(self, task) -> list[dict[str, str]]:
        return []

    async def vif_attach(self, task, vif_info: dict[str, Any]) -> None:
        pass

    async def vif_detach(self, task, vif_id: str) -> None:
        pass


class FlatNetwork(base.NetworkInterface):
    async def validate(self, task) -> None:
        pass

    @staticmethod
    async def _portgroups(task) -> list[models.Portgroup]:
        return await task.db.list_resources(models.Portgroup, {'node_id': task.node.id})

    async def vif_list(self, task) -> list[dict[str, str]]:
        vifs = []
        for obj in [*task.ports, *await self._portgroups(task)]:
            vif = attached_vif(obj)
            if vif:
                vifs.append({'id': vif})
        return vifs

    async def vif_attach(self, task, vif_info: dict[str, Any]) -> None:
        vif_id = vif_info['id']
        portgroups = await self._portgroups(task)
        for obj in [*task.ports, *portgroups]:
            if attached_vif(obj) == vif_id:
                raise exception.VifAlreadyAttached(
                    vif=vif_id, object_uuid=obj.uuid,
                    object_type='Portgroup' if isinstance(obj, models.Portgroup) else 'Port')
        target = _choose(task, vif_info, portgroups)
        info = dict(target.internal_info)
        info[TENANT_VIF_KEY] = vif_id
        await _save(task, target, info, target.extra)

    async def vif_detach(self, task, vif_id: str) -> None:
        for obj in [*await self._portgroups(task), *task.ports]:
            if attached_vif(obj) == vif_id:
                info = dict(obj.internal_info)
                info.pop(TENANT_VIF_KEY, None)
                extra = dict(obj.extra)
                extra.pop('vif_port_id', None)
                await _save(task, obj, info, extra)
                return
        raise exception.VifNotAttached(vif=vif_id, node=task.node.uuid)


async def _save(task, obj, internal_info: dict, extra: dict) -> None:
    values = {'internal_info': internal_info, 'extra': extra}
    if isinstance(obj, models.Portgroup):
        await task.db.update_resource(models.Portgroup, obj.id, values)
    else:
        await task.db.update_port(obj.id, values)


def _choose(task, vif_info: dict[str, Any], portgroups: list) -> Any:
    """The free port or portgroup the VIF goes to (NoFreePhysicalPorts when none)."""
    vif_id = vif_info['id']
    wanted_port, wanted_pg = vif_info.get('port_uuid'), vif_info.get('portgroup_uuid')
    if wanted_port or wanted_pg:
        pool = task.ports if wanted_port else portgroups
        wanted = wanted_port or wanted_pg
        for obj in pool:
            if obj.uuid == wanted:
                if attached_vif(obj):
                    raise exception.NoFreePhysicalPorts(vif=vif_id)
                return obj
        kind = 'port' if wanted_port else 'portgroup'
        raise exception.InvalidParameterValue(
            err=f'Unable to attach VIF {vif_id}: {kind} {wanted} does not belong to node '
                f'{task.node.uuid}.')
    free: list = []
    by_group: dict[int, list] = collections.defaultdict(list)
    busy_groups: set = set()
    for port in task.ports:
        group = getattr(port, 'portgroup_id', None)
        if attached_vif(port):
            busy_groups.add(group)
        elif group is None:
            free.append(port)
        else:
            by_group[group].append(port)
    for pg in portgroups:
        if attached_vif(pg):
            continue
        if pg.id in busy_groups:
            free.extend(by_group[pg.id])  # its ports are used one by one
        elif by_group[pg.id]:
            free.append(pg)  # empty portgroups are ignored
    if not free:
        raise exception.NoFreePhysicalPorts(vif=vif_id)
    return max(free, key=lambda o: (isinstance(o, models.Portgroup),
                                    bool(getattr(o, 'pxe_enabled', True))))
