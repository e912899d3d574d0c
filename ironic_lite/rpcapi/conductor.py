"""Versioned RPC client of the conductor: routes each node to its conductor on the hash ring.

Version history:

* 1.0 - Initial version: casts do_node_deploy, do_node_tear_down, do_provisioning_action,
  change_node_power_state, vendor_passthru, heartbeat, continue_node_deploy; calls
  validate_driver_interfaces, get_node_with_token, get_driver_properties,
  get_boot_device, set_boot_device, get_supported_boot_devices.
* 1.1 - Calls inject_nmi, get_supported_indicators, get_indicator_state, set_indicator_state,
  set_console_mode, get_console_information, vif_list, vif_attach, vif_detach,
  add_node_traits, remove_node_traits, set_target_raid_config; cast create_allocation.
* 1.2 - heartbeat carries agent_verify_ca (the agent's TLS certificate, API 1.68; upstream's
  1.51) and agent_token (checked again by the conductor under the node's lock, as upstream's
  1.49). Capped below 1.2 (``[DEFAULT]rpc_version_cap`` during a rolling upgrade) the
  heartbeat goes out as 1.0 without them, which a 1.0/1.1 conductor accepts; such a conductor
  then checks an https agent with ``[agent]verify_ca``.
* 1.3 - Cast run_intent replaces do_node_deploy, do_node_tear_down, do_provisioning_action and
  change_node_power_state (all four started the node's accepted intent and ignored their
  arguments); the conductor still serves the four old names for APIs not yet upgraded, and
  capped below 1.3 this client sends them. get_node_with_token and continue_node_deploy are
  gone: no API version ever called them. Every message carries the request context
  (oslo.context's ``to_dict()``, without the token); a 1.2 conductor ignores it.

Compatibility rule: a method whose arguments grow, or that replaces another, is sent in its
new form only if ``can_send_version`` allows it, and otherwise in its previous form. Each
method's kind and version are declared on the conductor's manager (``@rpc.cast`` /
``@rpc.call``, ``conductor/manager.py``); the API may not import the conductor, so a test
checks that this client sends each one as declared (tests/unit/common/test_rpc_surface.py).

Casts carry no result or error back, so the API records each accepted request on the node first
(``intent``, see ``conductor/intent_runner.py``) and only then casts; the conductor treats the
database record as the truth, which makes a duplicated cast harmless and a lost one recoverable.
"""
from __future__ import annotations

import random
from typing import Any

from oslo_config import cfg

from ironic_lite.common import exception, intent_acceptance, rpc
from ironic_lite.common.hash_ring import HashRingManager

RPC_API_VERSION = '1.3'

# The cast each intent was started with before 1.3 (what a 1.2 conductor expects).
_PRE_1_3_CASTS = {'deploy': 'do_node_deploy', 'rebuild': 'do_node_deploy',
                  'delete': 'do_node_tear_down',
                  intent_acceptance.POWER: 'change_node_power_state'}


class ConductorAPI:
    def __init__(self, conf: cfg.ConfigOpts, ring: HashRingManager):
        self.ring = ring
        self.client = rpc.RPCClient(conf, RPC_API_VERSION, conf.rpc_version_cap)

    async def host_for(self, node) -> str:
        """The live conductor owning ``node``; NoValidHost (503) when there is none."""
        return await self.ring.get_host(node.uuid, node.driver, node.conductor_group)

    async def _cast(self, node, method: str, version: str = '1.0', **kwargs: Any) -> None:
        host = await self.host_for(node)
        await self.client.cast(host, version, method, node_id=node.uuid, **kwargs)

    async def _call(self, node, method: str, version: str = '1.0', **kwargs: Any) -> Any:
        host = await self.host_for(node)
        return await self.client.call(host, version, method, node_id=node.uuid, **kwargs)

    # -- casts (accepted intent recorded by the caller first) --------------------------------
    async def run_intent(self, node) -> None:
        """Start the intent recorded on ``node`` (its arguments, the configdrive too, travel in
        the record, not in the message)."""
        if self.client.can_send_version('1.3'):
            await self._cast(node, 'run_intent', '1.3')
            return
        intent, args = node.intent, node.intent_args or {}
        method = _PRE_1_3_CASTS.get(intent, 'do_provisioning_action')
        kwargs: dict[str, Any] = {
            'do_node_deploy': {'rebuild': intent == 'rebuild'},
            'do_node_tear_down': {},
            'change_node_power_state': {'new_state': args.get('power_state'),
                                        'timeout': args.get('timeout')},
            'do_provisioning_action': {'action': intent},
        }[method]
        await self._cast(node, method, '1.0', **kwargs)

    async def vendor_passthru(self, node, driver_method: str, http_method: str,
                              info: dict) -> None:
        await self._cast(node, 'vendor_passthru', driver_method=driver_method,
                         http_method=http_method, info=info)

    async def heartbeat(self, node, callback_url: str, agent_version: str | None = None,
                        agent_status: str | None = None,
                        agent_status_message: str | None = None,
                        agent_token: str | None = None,
                        agent_verify_ca: str | None = None) -> None:
        version, new_kwargs = '1.0', {}
        if self.client.can_send_version('1.2'):
            version, new_kwargs = '1.2', {'agent_token': agent_token,
                                          'agent_verify_ca': agent_verify_ca}
        await self._cast(node, 'heartbeat', version, callback_url=callback_url,
                         agent_version=agent_version, agent_status=agent_status,
                         agent_status_message=agent_status_message, **new_kwargs)

    async def create_allocation(self, allocation_uuid: str) -> None:
        """Allocations belong to no node yet: any live conductor processes them (upstream
        casts to a random conductor too)."""
        conductors = await self.ring.db.get_online_conductors(
            self.ring.conf.conductor.heartbeat_timeout)
        if not conductors:
            raise exception.NoValidHost(reason='No conductor service is alive.')
        host = random.choice(sorted(c.hostname for c in conductors))
        await self.client.cast(host, '1.1', 'create_allocation', allocation_id=allocation_uuid)

    # -- calls ---------------------------------------------------------------------------
    async def validate_driver_interfaces(self, node) -> dict:
        return await self._call(node, 'validate_driver_interfaces')

    async def get_driver_properties(self, host: str, driver_name: str) -> dict:
        return await self.client.call(host, '1.0', 'get_driver_properties',
                                      driver_name=driver_name)

    async def get_boot_device(self, node) -> dict:
        return await self._call(node, 'get_boot_device')

    async def set_boot_device(self, node, device: str, persistent: bool = False) -> None:
        await self._call(node, 'set_boot_device', device=device, persistent=persistent)

    async def get_supported_boot_devices(self, node) -> list[str]:
        return await self._call(node, 'get_supported_boot_devices')

    # -- 1.1 -------------------------------------------------------------------------------
    async def inject_nmi(self, node) -> None:
        await self._call(node, 'inject_nmi', '1.1')

    async def get_supported_indicators(self, node) -> dict:
        return await self._call(node, 'get_supported_indicators', '1.1')

    async def get_indicator_state(self, node, component: str, indicator: str) -> str:
        return await self._call(node, 'get_indicator_state', '1.1', component=component,
                                indicator=indicator)

    async def set_indicator_state(self, node, component: str, indicator: str,
                                  state: str) -> None:
        await self._call(node, 'set_indicator_state', '1.1', component=component,
                         indicator=indicator, state=state)

    async def set_console_mode(self, node, enabled: bool) -> None:
        await self._call(node, 'set_console_mode', '1.1', enabled=enabled)

    async def get_console_information(self, node) -> dict:
        return await self._call(node, 'get_console_information', '1.1')

    async def vif_list(self, node) -> list[dict]:
        return await self._call(node, 'vif_list', '1.1')

    async def vif_attach(self, node, vif_info: dict) -> None:
        await self._call(node, 'vif_attach', '1.1', vif_info=vif_info)

    async def vif_detach(self, node, vif_id: str) -> None:
        await self._call(node, 'vif_detach', '1.1', vif_id=vif_id)

    async def add_node_traits(self, node, traits: list[str], replace: bool = False) -> None:
        await self._call(node, 'add_node_traits', '1.1', traits=traits, replace=replace)

    async def remove_node_traits(self, node, traits: list[str] | None) -> None:
        await self._call(node, 'remove_node_traits', '1.1', traits=traits)

    async def set_target_raid_config(self, node, target_raid_config: dict) -> None:
        await self._call(node, 'set_target_raid_config', '1.1',
                         target_raid_config=target_raid_config)
