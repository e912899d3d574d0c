"""The conductor's RPC endpoint: validates arguments and delegates; no domain logic here.

Methods in ``CASTS`` are fire-and-forget (the RPC bridge returns at once); methods in ``CALLS``
return a JSON-serialisable answer or raise an ``ironic_lite.common.exception`` that the API
maps to HTTP.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

from ironic_lite.common import exception
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

CASTS = ('do_node_deploy', 'do_node_tear_down', 'do_provisioning_action',
         'change_node_power_state', 'vendor_passthru', 'heartbeat', 'continue_node_deploy',
         'create_allocation')
CALLS = ('validate_driver_interfaces', 'get_node_with_token', 'get_driver_properties',
         'get_boot_device', 'set_boot_device', 'get_supported_boot_devices',
         # 1.1
         'inject_nmi', 'get_supported_indicators', 'get_indicator_state',
         'set_indicator_state', 'set_console_mode', 'get_console_information', 'vif_list',
         'vif_attach', 'vif_detach', 'add_node_traits', 'remove_node_traits',
         'set_target_raid_config')


class ConductorManager:
    RPC_API_VERSION = '1.2'  # history in rpcapi/conductor.py

    def __init__(self, res: ConductorEnv):
        self.res = res

    # -- casts: the accepted intent in the database says what to do ----------------------
    async def do_node_deploy(self, ctxt: dict, node_id: str, rebuild: bool = False) -> None:
        await intent_runner.run_intent(self.res, node_id, ctxt)

    async def do_node_tear_down(self, ctxt: dict, node_id: str) -> None:
        await intent_runner.run_intent(self.res, node_id, ctxt)

    async def do_provisioning_action(self, ctxt: dict, node_id: str, action: str) -> None:
        await intent_runner.run_intent(self.res, node_id, ctxt)

    async def change_node_power_state(self, ctxt: dict, node_id: str, new_state: str,
                                      timeout: int | None = None) -> None:
        await intent_runner.run_intent(self.res, node_id, ctxt)

    async def vendor_passthru(self, ctxt: dict, node_id: str, driver_method: str,
                              http_method: str, info: dict) -> None:
        await callbacks.vendor_passthru(self.res, node_id, driver_method, http_method, info)

    async def heartbeat(self, ctxt: dict, node_id: str, callback_url: str,
                        agent_version: str | None = None, agent_verify_ca: str | None = None,
                        **kwargs: Any) -> None:
        """1.2 adds ``agent_verify_ca`` and ``agent_token`` (checked again under the lock); a
        1.0 heartbeat from an older API has neither, its token was checked by that API."""
        check_token = 'agent_token' in kwargs
        agent_token = kwargs.pop('agent_token', None)
        try:
            await callbacks.heartbeat(self.res, node_id, callback_url, agent_version,
                                      agent_verify_ca=agent_verify_ca, agent_token=agent_token,
                                      check_token=check_token, **kwargs)
        except exception.NodeLocked:
            # The agent heartbeats again shortly; nothing is lost by skipping this one.
            LOG.info('Heartbeat for node %s skipped: the node is locked', node_id)

    async def continue_node_deploy(self, ctxt: dict, node_id: str) -> None:
        await callbacks.continue_node_deploy(self.res, node_id)

    async def create_allocation(self, ctxt: dict, allocation_id: str) -> None:
        await _allocations.do_allocate(self.res, allocation_id)

    # -- calls ---------------------------------------------------------------------------
    async def validate_driver_interfaces(self, ctxt: dict, node_id: str) -> dict:
        async with acquire(self.res, node_id, shared=True, purpose='validate') as task:
            results = await utils.validate_interfaces(task, INTERFACE_TYPES)
            if results['deploy']['result']:  # as upstream: the deploy's instance traits too
                try:
                    steps.validate_instance_traits(
                        task, await self.res.db.get_node_traits(task.node.id))
                except exception.InvalidParameterValue as e:
                    results['deploy'] = {'result': False, 'reason': str(e)}
            return results

    async def get_node_with_token(self, ctxt: dict, node_id: str) -> dict:
        """Generate the node's agent token on first lookup; later lookups get none."""
        async with acquire(self.res, node_id, purpose='lookup') as task:
            if task.node.driver_internal_info.get('agent_secret_token'):
                return {'agent_token': None}
            token = secrets.token_urlsafe(32)
            await task.set_driver_internal_info(agent_secret_token=token)
            return {'agent_token': token}

    async def get_driver_properties(self, ctxt: dict, driver_name: str) -> dict:
        factory = self.res.drivers
        if driver_name not in factory.hardware_types:
            raise exception.DriverNotFound(driver_name=driver_name)
        props: dict[str, str] = {}
        for itype, info in factory.hardware_interfaces[driver_name].items():
            for name in info['enabled']:
                props.update(factory.interfaces[itype][name].get_properties())
        return props

    async def get_boot_device(self, ctxt: dict, node_id: str) -> dict:
        return await management.get_boot_device(self.res, node_id)

    async def set_boot_device(self, ctxt: dict, node_id: str, device: str,
                              persistent: bool = False) -> None:
        await management.set_boot_device(self.res, node_id, device, persistent)

    async def get_supported_boot_devices(self, ctxt: dict, node_id: str) -> list[str]:
        return await management.get_supported_boot_devices(self.res, node_id)

    # -- 1.1: management, console, VIFs, traits ------------------------------------------
    async def inject_nmi(self, ctxt: dict, node_id: str) -> None:
        await management.inject_nmi(self.res, node_id)

    async def get_supported_indicators(self, ctxt: dict, node_id: str) -> dict:
        return await management.get_supported_indicators(self.res, node_id)

    async def get_indicator_state(self, ctxt: dict, node_id: str, component: str,
                                  indicator: str) -> str:
        return await management.get_indicator_state(self.res, node_id, component, indicator)

    async def set_indicator_state(self, ctxt: dict, node_id: str, component: str,
                                  indicator: str, state: str) -> None:
        await management.set_indicator_state(self.res, node_id, component, indicator, state)

    async def set_console_mode(self, ctxt: dict, node_id: str, enabled: bool) -> None:
        await console.set_console_mode(self.res, node_id, enabled)

    async def get_console_information(self, ctxt: dict, node_id: str) -> dict:
        return await console.get_console_information(self.res, node_id)

    async def vif_list(self, ctxt: dict, node_id: str) -> list[dict]:
        return await vifs.vif_list(self.res, node_id)

    async def vif_attach(self, ctxt: dict, node_id: str, vif_info: dict) -> None:
        await vifs.vif_attach(self.res, node_id, vif_info)

    async def vif_detach(self, ctxt: dict, node_id: str, vif_id: str) -> None:
        await vifs.vif_detach(self.res, node_id, vif_id)

    async def add_node_traits(self, ctxt: dict, node_id: str, traits: list[str],
                              replace: bool = False) -> None:
        await _traits.add_node_traits(self.res, node_id, traits, replace)

    async def remove_node_traits(self, ctxt: dict, node_id: str,
                                 traits: list[str] | None = None) -> None:
        await _traits.remove_node_traits(self.res, node_id, traits)

    async def set_target_raid_config(self, ctxt: dict, node_id: str,
                                     target_raid_config: dict) -> None:
        await raid.set_target_raid_config(self.res, node_id, target_raid_config)
