"""The conductor's RPC endpoint: validates arguments and delegates; no domain logic here.

Each RPC method says what it is where it is defined: ``@rpc.cast`` methods are
fire-and-forget (the RPC bridge returns at once), ``@rpc.call`` methods return a
JSON-serialisable answer or raise an ``ironic_lite.common.exception`` that the API maps to HTTP.
``since`` is the RPC API version that introduced the method (history in rpcapi/conductor.py).
Every method gets the sender's request context (``ctxt``, oslo.context), already current for
its log lines and for the tasks it starts.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, rpc
from ironic_lite.common.request_context import RequestContext
from ironic_lite.conductor import allocations as _allocations
from ironic_lite.conductor import (
    callbacks,
    console,
    intent_runner,
    management,
    raid,
    steps,
    utils,
    vifs,
)
from ironic_lite.conductor import traits as _traits
from ironic_lite.conductor.env import ConductorEnv
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.conf.default import INTERFACE_TYPES

LOG = logging.getLogger(__name__)

# The sender's context; None from a sender that had none (a test, an old periodic caller).
Ctx = RequestContext | None


class ConductorManager:
    RPC_API_VERSION = '1.3'  # history in rpcapi/conductor.py

    def __init__(self, env: ConductorEnv):
        self.env = env

    # -- casts -----------------------------------------------------------------------------
    @rpc.cast(since='1.3', replaces=('do_node_deploy', 'do_node_tear_down',
                                     'do_provisioning_action', 'change_node_power_state'))
    async def run_intent(self, ctxt: Ctx, node_id: str) -> None:
        """Start the node's accepted intent: the database record says what to do. Before 1.3
        there was one cast per kind of intent, each carrying arguments nobody read; an API
        not yet upgraded still sends them and they land here."""
        await intent_runner.run_intent(self.env, node_id, ctxt)

    @rpc.cast(since='1.0')
    async def vendor_passthru(self, ctxt: Ctx, node_id: str, driver_method: str,
                              http_method: str, info: dict) -> None:
        await callbacks.vendor_passthru(self.env, node_id, driver_method, http_method, info)

    @rpc.cast(since='1.0')
    async def heartbeat(self, ctxt: Ctx, node_id: str, callback_url: str,
                        agent_version: str | None = None, agent_verify_ca: str | None = None,
                        **kwargs: Any) -> None:
        """1.2 adds ``agent_verify_ca`` and ``agent_token`` (checked again under the lock); a
        1.0 heartbeat from an older API has neither, its token was checked by that API."""
        check_token = 'agent_token' in kwargs
        agent_token = kwargs.pop('agent_token', None)
        try:
            await callbacks.heartbeat(self.env, node_id, callback_url, agent_version,
                                      agent_verify_ca=agent_verify_ca, agent_token=agent_token,
                                      check_token=check_token, **kwargs)
        except exception.NodeLocked:
            # The agent heartbeats again shortly; nothing is lost by skipping this one.
            LOG.info('Heartbeat for node %s skipped: the node is locked', node_id)

    @rpc.cast(since='1.1')
    async def create_allocation(self, ctxt: Ctx, allocation_id: str) -> None:
        await _allocations.do_allocate(self.env, allocation_id)

    # -- calls ---------------------------------------------------------------------------
    @rpc.call(since='1.0')
    async def validate_driver_interfaces(self, ctxt: Ctx, node_id: str) -> dict:
        async with acquire(self.env, node_id, shared=True, purpose='validate') as task:
            results = await utils.validate_interfaces(task, INTERFACE_TYPES)
            if results['deploy']['result']:  # as upstream: the deploy's instance traits too
                try:
                    steps.validate_instance_traits(
                        task, await self.env.db.get_node_traits(task.node.id))
                except exception.InvalidParameterValue as e:
                    results['deploy'] = {'result': False, 'reason': str(e)}
            return results

    @rpc.call(since='1.0')
    async def get_driver_properties(self, ctxt: Ctx, driver_name: str) -> dict:
        factory = self.env.drivers
        if driver_name not in factory.hardware_types:
            raise exception.DriverNotFound(driver_name=driver_name)
        props: dict[str, str] = {}
        for itype, info in factory.hardware_interfaces[driver_name].items():
            for name in info['enabled']:
                props.update(factory.interfaces[itype][name].get_properties())
        return props

    @rpc.call(since='1.0')
    async def get_boot_device(self, ctxt: Ctx, node_id: str) -> dict:
        return await management.get_boot_device(self.env, node_id)

    @rpc.call(since='1.0')
    async def set_boot_device(self, ctxt: Ctx, node_id: str, device: str,
                              persistent: bool = False) -> None:
        await management.set_boot_device(self.env, node_id, device, persistent)

    @rpc.call(since='1.0')
    async def get_supported_boot_devices(self, ctxt: Ctx, node_id: str) -> list[str]:
        return await management.get_supported_boot_devices(self.env, node_id)

    # -- 1.1: management, console, VIFs, traits ------------------------------------------
    @rpc.call(since='1.1')
    async def inject_nmi(self, ctxt: Ctx, node_id: str) -> None:
        await management.inject_nmi(self.env, node_id)

    @rpc.call(since='1.1')
    async def get_supported_indicators(self, ctxt: Ctx, node_id: str) -> dict:
        return await management.get_supported_indicators(self.env, node_id)

    @rpc.call(since='1.1')
    async def get_indicator_state(self, ctxt: Ctx, node_id: str, component: str,
                                  indicator: str) -> str:
        return await management.get_indicator_state(self.env, node_id, component, indicator)

    @rpc.call(since='1.1')
    async def set_indicator_state(self, ctxt: Ctx, node_id: str, component: str,
                                  indicator: str, state: str) -> None:
        await management.set_indicator_state(self.env, node_id, component, indicator, state)

    @rpc.call(since='1.1')
    async def set_console_mode(self, ctxt: Ctx, node_id: str, enabled: bool) -> None:
        await console.set_console_mode(self.env, node_id, enabled)

    @rpc.call(since='1.1')
    async def get_console_information(self, ctxt: Ctx, node_id: str) -> dict:
        return await console.get_console_information(self.env, node_id)

    @rpc.call(since='1.1')
    async def vif_list(self, ctxt: Ctx, node_id: str) -> list[dict]:
        return await vifs.vif_list(self.env, node_id)

    @rpc.call(since='1.1')
    async def vif_attach(self, ctxt: Ctx, node_id: str, vif_info: dict) -> None:
        await vifs.vif_attach(self.env, node_id, vif_info)

    @rpc.call(since='1.1')
    async def vif_detach(self, ctxt: Ctx, node_id: str, vif_id: str) -> None:
        await vifs.vif_detach(self.env, node_id, vif_id)

    @rpc.call(since='1.1')
    async def add_node_traits(self, ctxt: Ctx, node_id: str, traits: list[str],
                              replace: bool = False) -> None:
        await _traits.add_node_traits(self.env, node_id, traits, replace)

    @rpc.call(since='1.1')
    async def remove_node_traits(self, ctxt: Ctx, node_id: str,
                                 traits: list[str] | None = None) -> None:
        await _traits.remove_node_traits(self.env, node_id, traits)

    @rpc.call(since='1.1')
    async def set_target_raid_config(self, ctxt: Ctx, node_id: str,
                                     target_raid_config: dict) -> None:
        await raid.set_target_raid_config(self.env, node_id, target_raid_config)
