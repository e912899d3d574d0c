"""Fake interfaces for the fake-hardware type: no machine, real state transitions.

Power state is the node's stored power state. The fake deploy finishes synchronously, unless the
node's ``driver_info`` has ``fake_deploy_wait: true``, in which case it waits for a callback like
a real ramdisk deploy: a ``pass_deploy_info`` vendor call or an agent ``heartbeat`` finishes it.
Delays come from the ``[fake]`` options (upstream has the same group).

Steps, as upstream's fakes: ``deploy.deploy`` (the core deploy step, priority 100),
``bios.apply_configuration``/``bios.factory_reset`` and ``raid.create_configuration``/
``raid.delete_configuration`` (clean steps, priority 0: manual cleaning only) plus
``raid.apply_configuration`` (deploy step from a template). Settings and RAID results are really
recorded: the node's BIOS settings table and its ``raid_config``.
"""
from __future__ import annotations

import asyncio
import datetime
from typing import Any

from oslo_config import cfg
from oslo_utils import strutils

from ironic_lite.common import boot_devices, exception, states
from ironic_lite.drivers import base, deploy_utils

CONF = cfg.CONF


async def _delay(seconds: float) -> None:
    if seconds:
        await asyncio.sleep(seconds)


class FakePower(base.PowerInterface):
    """The "hardware" power state lives in ``driver_internal_info['fake_power_state']``, apart
    from the recorded ``power_state``, so the two can disagree as with a real BMC.
    ``driver_info['fake_power_fail']`` makes every call fail like an unreachable BMC."""

    def get_properties(self) -> dict[str, str]:
        return {'fake_power_fail': 'Simulate an unreachable BMC. Optional.'}

    async def validate(self, task) -> None:
        pass

    @staticmethod
    def _check_reachable(task) -> None:
        if strutils.bool_from_string(task.node.driver_info.get('fake_power_fail', False)):
            raise exception.PowerStateFailure(pstate='unknown (simulated BMC failure)')

    async def get_power_state(self, task) -> str:
        self._check_reachable(task)
        return task.node.driver_internal_info.get(
            'fake_power_state', task.node.power_state or states.POWER_OFF)

    async def set_power_state(self, task, power_state, timeout=None) -> None:
        self._check_reachable(task)
        await _delay(CONF.fake.power_delay)
        final = states.POWER_OFF if power_state == states.SOFT_POWER_OFF else power_state
        await task.set_driver_internal_info(fake_power_state=final)

    async def reboot(self, task, timeout=None) -> None:
        self._check_reachable(task)
        await _delay(CONF.fake.power_delay)
        await task.set_driver_internal_info(fake_power_state=states.POWER_ON)

    def get_supported_power_states(self, task) -> list[str]:
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT,
                states.SOFT_REBOOT, states.SOFT_POWER_OFF]


class FakeManagement(base.ManagementInterface):
    async def validate(self, task) -> None:
        pass

    def get_supported_boot_devices(self, task) -> list[str]:
        return [boot_devices.PXE, boot_devices.DISK]

    async def set_boot_device(self, task, device, persistent=False) -> None:
        info = dict(task.node.driver_internal_info)
        info['fake_boot_device'] = {'boot_device': device, 'persistent': persistent}
        await task.save(driver_internal_info=info)

    async def get_boot_device(self, task) -> dict[str, Any]:
        return task.node.driver_internal_info.get(
            'fake_boot_device', {'boot_device': boot_devices.PXE, 'persistent': False})

    async def inject_nmi(self, task) -> None:
        await task.set_driver_internal_info(
            fake_nmi_count=task.node.driver_internal_info.get('fake_nmi_count', 0) + 1)

    # Indicators as upstream's fake: a read-only chassis LED and a settable system LED.
    _INDICATORS = {
        'chassis': {'led-0': {'readonly': True, 'states': ['OFF', 'ON']}},
        'system': {'led': {'readonly': False, 'states': ['BLINKING', 'ON', 'OFF']}},
    }

    async def get_supported_indicators(self, task) -> dict[str, dict]:
        return self._INDICATORS

    def _indicator(self, component: str, indicator: str) -> dict:
        try:
            return self._INDICATORS[component][indicator]
        except KeyError:
            raise exception.InvalidParameterValue(
                err=f'Indicator {indicator}@{component} is not supported by this '
                    'node.') from None

    async def get_indicator_state(self, task, component, indicator) -> str:
        self._indicator(component, indicator)
        states_ = task.node.driver_internal_info.get('fake_indicators', {})
        return states_.get(f'{indicator}@{component}', 'OFF')

    async def set_indicator_state(self, task, component, indicator, state) -> None:
        info = self._indicator(component, indicator)
        if info['readonly']:
            raise exception.InvalidParameterValue(
                err=f'Indicator {indicator}@{component} is read-only.')
        if state not in info['states']:
            raise exception.InvalidParameterValue(
                err=f'Invalid state {state!r} for indicator {indicator}@{component}; '
                    f'expected one of {", ".join(info["states"])}.')
        states_ = dict(task.node.driver_internal_info.get('fake_indicators', {}))
        states_[f'{indicator}@{component}'] = state
        await task.set_driver_internal_info(fake_indicators=states_)


class FakeBoot(base.BootInterface):
    async def validate(self, task) -> None:
        pass

    async def prepare_ramdisk(self, task, ramdisk_params) -> None:
        await _delay(CONF.fake.boot_delay)

    async def clean_up_ramdisk(self, task) -> None:
        pass

    async def prepare_instance(self, task) -> None:
        await _delay(CONF.fake.boot_delay)

    async def clean_up_instance(self, task) -> None:
        pass


async def _boot_instance(task) -> None:
    """As if the deployed instance booted: hardware and record both powered on."""
    info = dict(task.node.driver_internal_info)
    info['fake_power_state'] = states.POWER_ON
    await task.save(power_state=states.POWER_ON, driver_internal_info=info)


def _waits_for_callback(node) -> bool:
    return strutils.bool_from_string(node.driver_info.get('fake_deploy_wait', False))


class FakeDeploy(base.DeployInterface):
    def get_properties(self) -> dict[str, str]:
        return {'fake_deploy_wait': 'Wait for a pass_deploy_info or heartbeat callback '
                                    'before finishing the deploy. Optional.'}

    async def validate(self, task) -> None:
        pass

    async def prepare(self, task) -> None:
        await task.driver.boot.prepare_ramdisk(task, {})

    @base.deploy_step(priority=100)
    async def deploy(self, task) -> str | None:
        await _delay(CONF.fake.deploy_delay)
        if _waits_for_callback(task.node):
            return states.DEPLOYWAIT
        await _boot_instance(task)
        return None

    async def tear_down(self, task) -> None:
        await _delay(CONF.fake.deploy_delay)
        await task.driver.power.set_power_state(task, states.POWER_OFF)

    async def clean_up(self, task) -> None:
        # After a failure or a tear down: a real boot interface (pxe, ipxe) removes the
        # node's boot files and DHCP entries here.
        await task.driver.boot.clean_up_ramdisk(task)
        await task.driver.boot.clean_up_instance(task)

    async def heartbeat(self, task, callback_url, agent_version=None, **kwargs) -> None:
        # Recording happens in the conductor (agent_url, agent_last_heartbeat); a fake agent
        # waiting for its callback is done as soon as it heartbeats.
        if task.node.provision_state == states.DEPLOYWAIT:
            await _boot_instance(task)
            await deploy_utils.resume_and_finish_deploy(task)


class FakeVendor(base.VendorInterface):
    passthru_methods = {
        'first_method': {'http_methods': ['POST'], 'async': True,
                         'description': 'Records its arguments.', 'attach': False},
        'pass_deploy_info': {'http_methods': ['POST'], 'async': True,
                             'description': 'Bash-ramdisk deploy callback (fake).',
                             'attach': False},
    }

    async def _record(self, task, method: str, kwargs: dict) -> None:
        await _delay(CONF.fake.vendor_delay)
        info = dict(task.node.driver_internal_info)
        calls = list(info.get('fake_vendor_calls', []))[-9:]
        # reservation shows the call ran under this conductor's exclusive lock
        calls.append({'method': method, 'args': kwargs, 'reservation': task.node.reservation})
        info['fake_vendor_calls'] = calls
        await task.save(driver_internal_info=info)

    async def first_method(self, task, data: dict) -> None:
        await self._record(task, 'first_method', data)

    async def pass_deploy_info(self, task, data: dict) -> None:
        kwargs = data
        await self._record(task, 'pass_deploy_info', data)
        if kwargs.get('error'):
            raise exception.InstanceDeployFailure(reason=f"ramdisk reported: {kwargs['error']}")
        if task.node.provision_state == states.DEPLOYWAIT:
            await _boot_instance(task)
            await deploy_utils.resume_and_finish_deploy(task)


class FakeConsole(base.ConsoleInterface):
    """A console that is "running" while the node's ``console_enabled`` is true."""

    async def validate(self, task) -> None:
        pass

    async def start_console(self, task) -> None:
        pass

    async def stop_console(self, task) -> None:
        pass

    async def get_console(self, task) -> dict[str, Any]:
        return {'type': 'fake', 'url': f'fake://console/{task.node.uuid}'}


class FakeRescue(base.RescueInterface):
    """Rescue finishes at once; ``driver_info['fake_rescue_fail']`` makes it fail."""

    def get_properties(self) -> dict[str, str]:
        return {'fake_rescue_fail': 'Make rescue and unrescue fail. Optional.'}

    async def validate(self, task) -> None:
        pass

    def _check(self, task, what: str) -> None:
        if strutils.bool_from_string(task.node.driver_info.get('fake_rescue_fail', False)):
            raise exception.IronicLiteException(f'{what} failed (simulated)')

    async def rescue(self, task) -> str:
        self._check(task, 'Rescue')
        return states.RESCUE

    async def unrescue(self, task) -> str:
        self._check(task, 'Unrescue')
        return states.ACTIVE


class FakeBIOS(base.BIOSInterface):
    """As upstream's fake: the applied settings become the node's cached BIOS settings
    (``GET /v1/nodes/{node}/bios``); a factory reset empties them."""

    async def validate(self, task) -> None:
        pass

    @base.deploy_step(priority=0, argsinfo=base.BIOS_SETTINGS_ARGSINFO)
    @base.clean_step(priority=0, argsinfo=base.BIOS_SETTINGS_ARGSINFO)
    async def apply_configuration(self, task, settings: list) -> None:
        wanted = base.bios_settings(settings)
        await task.db.set_bios_settings(task.node.id, wanted)

    @base.deploy_step(priority=0)
    @base.clean_step(priority=0)
    async def factory_reset(self, task) -> None:
        await task.db.set_bios_settings(task.node.id, {})


def _updated_capabilities(current: Any, **values: str) -> str:
    """``properties/capabilities`` is "key:value,key:value" (upstream's format)."""
    caps = {}
    for item in str(current or '').split(','):
        key, sep, value = item.partition(':')
        if sep and key.strip():
            caps[key.strip()] = value.strip()
    caps.update(values)
    return ','.join(f'{k}:{v}' for k, v in caps.items())


class FakeRAID(base.RAIDInterface):
    """Builds ``target_raid_config`` at once and records it as the node's ``raid_config``
    (with ``last_updated``); the root volume's size, root device hint and RAID level go to the
    node's properties, as upstream records a real controller's result."""

    @base.clean_step(priority=0, argsinfo={
        'create_root_volume': {'description': 'Create the root volume. Default true.',
                               'required': False},
        'create_nonroot_volumes': {'description': 'Create the non-root volumes. Default true.',
                                   'required': False},
        'delete_existing': {'description': 'Delete the existing configuration first. '
                                           'Default true.', 'required': False}})
    async def create_configuration(self, task, create_root_volume: bool = True,
                                   create_nonroot_volumes: bool = True,
                                   delete_existing: bool = True) -> None:
        node = task.node
        target = node.target_raid_config or {}
        if not target.get('logical_disks'):
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} has no target RAID configuration '
                    '(PUT /v1/nodes/{node}/states/raid).')
        self.validate_raid_config(task, target)
        disks = [dict(d) for d in target['logical_disks']
                 if (create_root_volume if d.get('is_root_volume') else create_nonroot_volumes)]
        if not disks:
            raise exception.MissingParameterValue(
                err=f'Node {node.uuid} has an empty target RAID configuration after filtering '
                    'root and non-root volumes.')
        if not delete_existing:
            disks = list((node.raid_config or {}).get('logical_disks') or []) + disks
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat()
        values: dict[str, Any] = {'raid_config': {'logical_disks': disks,
                                                  'last_updated': now}}
        root = next((d for d in disks if d.get('is_root_volume')), None)
        if root is not None:
            props = dict(node.properties or {})
            if isinstance(root.get('size_gb'), int):
                props['local_gb'] = root['size_gb']
            if root.get('root_device_hint'):
                props['root_device'] = root['root_device_hint']
            props['capabilities'] = _updated_capabilities(props.get('capabilities'),
                                                          raid_level=root['raid_level'])
            values['properties'] = props
        await task.save(**values)

    @base.clean_step(priority=0)
    async def delete_configuration(self, task) -> None:
        await task.save(raid_config={})


class FakeInspect(base.InspectInterface):
    """Inspection that finds nothing new and finishes at once (upstream's fake inspect)."""

    async def validate(self, task) -> None:
        pass

    async def inspect_hardware(self, task) -> str:
        return states.MANAGEABLE


class FakeStorage(base.StorageInterface):
    async def validate(self, task) -> None:
        pass
