"""Driver interfaces: the contract between the conductor's tasks and hardware.

A hardware type (``hardware_type.py``) names which interface implementations it supports; an
interface implementation is a class below, registered as a stevedore entry point in
``ironic_lite.hardware.interfaces.<type>``. Every operation receives the task, and may use of
it only what the task contract states (:class:`ironic_lite.drivers.task.Task`: ``task.node``,
``task.ports``, ``task.conf``, ``task.save``…). Every operation runs on the event loop: an
implementation whose library blocks (pyghmi, file copies, subprocesses) must run that part off
the loop (``asyncio.to_thread`` or an asyncio subprocess).

Steps (as upstream Ironic): a method decorated with :func:`clean_step` or :func:`deploy_step`
is a step of its interface, ``{"interface", "step", "priority", "argsinfo", ...}``; the
conductor collects them with ``get_clean_steps``/``get_deploy_steps`` (``conductor/steps.py``)
and runs one with ``execute_clean_step``/``execute_deploy_step``. A step returns None when it
is done, or ``states.DEPLOYWAIT`` when it goes on asynchronously (``deploy.deploy`` waiting
for its ramdisk).
"""
from __future__ import annotations

import abc
import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ironic_lite.common import exception
from ironic_lite.common.raid import RAID_LEVELS
from ironic_lite.drivers.logged_actions import wrap_logged_actions

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.drivers.task import Task

# -- steps ---------------------------------------------------------------------------------
def _check_step_declaration(func: Callable, priority: Any, argsinfo: Any) -> None:
    """A wrong declaration is a programming error: refuse it when the class is defined."""
    where = getattr(func, '__qualname__', repr(func))
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 0:
        raise exception.InvalidParameterValue(
            err=f'Step {where}: priority must be a non-negative integer, not {priority!r}')
    if argsinfo is None:
        return
    if not isinstance(argsinfo, dict):
        raise exception.InvalidParameterValue(err=f'Step {where}: argsinfo must be a dict')
    for name, info in argsinfo.items():
        if not isinstance(info, dict) or not isinstance(info.get('description'), str) or \
                not isinstance(info.get('required', False), bool) or \
                set(info) - {'description', 'required'}:
            raise exception.InvalidParameterValue(
                err=f'Step {where}: argsinfo of {name!r} must be {{"description": str, '
                    '"required": bool (optional)}')


def clean_step(priority: int, abortable: bool = False, argsinfo: dict | None = None,
               requires_ramdisk: bool = True) -> Callable[[Callable], Callable]:
    """Declare an interface method a clean step.

    ``priority`` 0 makes it a step for manual cleaning only; automated cleaning runs the steps
    with priority > 0, highest first. ``argsinfo``: ``{arg: {"description": str,
    "required": bool}}`` — the keyword arguments a user may (or must) give in manual cleaning.
    """
    def decorator(func: Callable) -> Callable:
        _check_step_declaration(func, priority, argsinfo)
        func._clean_step = {'priority': priority, 'abortable': bool(abortable),
                            'argsinfo': argsinfo, 'requires_ramdisk': requires_ramdisk}
        return func
    return decorator


def deploy_step(priority: int, argsinfo: dict | None = None,
                requires_ramdisk: bool = True) -> Callable[[Callable], Callable]:
    """Declare an interface method a deploy step.

    Steps with priority > 0 run in every deploy, highest first (``deploy.deploy`` is 100);
    priority 0 steps run only when a deploy template enables them with a priority.
    """
    def decorator(func: Callable) -> Callable:
        _check_step_declaration(func, priority, argsinfo)
        func._deploy_step = {'priority': priority, 'argsinfo': argsinfo,
                             'requires_ramdisk': requires_ramdisk}
        return func
    return decorator


@functools.cache
def _declared_steps(cls: type, marker: str, interface_type: str) -> tuple[dict, ...]:
    """Steps declared on ``cls`` (and inherited), as step dicts without args. Cached per class:
    declarations are fixed once the class exists."""
    steps = []
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        info = getattr(member, marker, None)
        if info is not None:
            steps.append({'step': name, 'interface': interface_type, **info})
    return tuple(steps)


class BaseInterface(abc.ABC):
    interface_type: ClassVar[str]

    def get_properties(self) -> dict[str, str]:
        """driver_info keys this interface reads, with a description (driver properties)."""
        return {}

    async def close(self) -> None:
        """Release what this interface keeps for its conductor's life (an HTTP session);
        called once when the conductor stops. Nothing by default."""
        return None

    @abc.abstractmethod
    async def validate(self, task: Task) -> None:
        """Raise InvalidParameterValue / MissingParameterValue naming what is wrong."""

    def get_clean_steps(self, task: Task) -> list[dict[str, Any]]:
        """All clean steps of this interface (enabled or not), unordered; fresh copies."""
        return [dict(s) for s in _declared_steps(type(self), '_clean_step',
                                                 self.interface_type)]

    def get_deploy_steps(self, task: Task) -> list[dict[str, Any]]:
        """All deploy steps of this interface (enabled or not), unordered; fresh copies."""
        return [dict(s) for s in _declared_steps(type(self), '_deploy_step',
                                                 self.interface_type)]

    async def execute_clean_step(self, task: Task, step: dict[str, Any]) -> str | None:
        """Run ``step`` (its ``args`` as keyword arguments); None when done."""
        return await getattr(self, step['step'])(task, **(step.get('args') or {}))

    async def execute_deploy_step(self, task: Task, step: dict[str, Any]) -> str | None:
        """Run ``step``; None when done, ``states.DEPLOYWAIT`` when it goes on
        asynchronously (the deploy interface then has the remaining steps run through
        ``task.resume_steps()``)."""
        return await getattr(self, step['step'])(task, **(step.get('args') or {}))


class PowerInterface(BaseInterface):
    interface_type = 'power'

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_logged_actions(cls, {
            'set_power_state': lambda power_state, *a, **k: f'power state set to {power_state}',
            'reboot': lambda *a, **k: 'rebooted (power state set to power on)',
        })

    @abc.abstractmethod
    async def get_power_state(self, task: Task) -> str:
        """Return states.POWER_ON or states.POWER_OFF (or ERROR)."""

    @abc.abstractmethod
    async def set_power_state(self, task: Task, power_state: str,
                              timeout: int | None = None) -> None:
        """Set and wait until the hardware reports ``power_state`` (or raise)."""

    @abc.abstractmethod
    async def reboot(self, task: Task, timeout: int | None = None) -> None:
        """Power cycle; the node ends powered on."""

    def get_supported_power_states(self, task: Task) -> list[str]:
        from ironic_lite.common import states
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT]


class ManagementInterface(BaseInterface):
    interface_type = 'management'

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_logged_actions(cls, {
            'set_boot_device': lambda device, persistent=False, *a, **k:
                f'boot device set to {device} ({"persistent" if persistent else "next boot only"})',
        })

    @abc.abstractmethod
    def get_supported_boot_devices(self, task: Task) -> list[str]:
        ...

    @abc.abstractmethod
    async def set_boot_device(self, task: Task, device: str,
                              persistent: bool = False) -> None:
        ...

    @abc.abstractmethod
    async def get_boot_device(self, task: Task) -> dict[str, Any]:
        """Return ``{'boot_device': name or None, 'persistent': bool or None}``."""

    async def inject_nmi(self, task: Task) -> None:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='inject_nmi')

    # Indicators (API 1.63): ``{component: {name: {'readonly': bool, 'states': [...]}}}``;
    # components and states as upstream (``common/indicators.py``).
    async def get_supported_indicators(self, task: Task) -> dict[str, dict]:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')

    async def get_indicator_state(self, task: Task, component: str,
                                  indicator: str) -> str:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')

    async def set_indicator_state(self, task: Task, component: str, indicator: str,
                                  state: str) -> None:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')


class BootInterface(BaseInterface):
    interface_type = 'boot'

    @abc.abstractmethod
    async def prepare_ramdisk(self, task: Task, ramdisk_params: dict[str, Any]) -> None:
        """Make the node boot the deploy ramdisk next (configs, images, DHCP, boot device)."""

    @abc.abstractmethod
    async def clean_up_ramdisk(self, task: Task) -> None:
        ...

    @abc.abstractmethod
    async def prepare_instance(self, task: Task) -> None:
        """Make the node boot the deployed instance next."""

    @abc.abstractmethod
    async def clean_up_instance(self, task: Task) -> None:
        ...


class DeployInterface(BaseInterface):
    interface_type = 'deploy'

    # The core step: every deploy interface's ``deploy`` (prepare runs before the steps, as
    # upstream). Implementations need not decorate it; one that does sets its own priority.
    CORE_STEP: ClassVar[dict[str, Any]] = {'step': 'deploy', 'interface': 'deploy',
                                           'priority': 100, 'argsinfo': None,
                                           'requires_ramdisk': True}

    def get_deploy_steps(self, task: Task) -> list[dict[str, Any]]:
        steps = super().get_deploy_steps(task)
        if not any(s['step'] == 'deploy' for s in steps):
            steps.append(dict(self.CORE_STEP))
        return steps

    @abc.abstractmethod
    async def prepare(self, task: Task) -> None:
        """Prepare the environment to deploy (typically boot.prepare_ramdisk)."""

    @abc.abstractmethod
    async def deploy(self, task: Task) -> str | None:
        """Start the deploy. Return states.DEPLOYWAIT to wait for a ramdisk callback, or None
        when the deploy finished synchronously."""

    @abc.abstractmethod
    async def tear_down(self, task: Task) -> None:
        """Power the node off and remove the instance."""

    async def clean_up(self, task: Task) -> None:
        """Remove what prepare/deploy left behind (after success, failure or tear down)."""

    async def take_over(self, task: Task) -> None:
        """A new conductor takes the node over (its files may need re-creating)."""

    async def heartbeat(self, task: Task, callback_url: str,
                        agent_version: str | None = None, **kwargs: Any) -> None:
        """A ramdisk agent heartbeat, under the node's exclusive lock."""
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='heartbeat')


class VendorInterface(BaseInterface):
    """Vendor passthru: ``methods`` maps a method name to the coroutine method handling it."""

    interface_type = 'vendor'
    # method name -> {'http_methods': [...], 'async': bool, 'description': str, 'attach': bool}
    passthru_methods: ClassVar[dict[str, dict[str, Any]]] = {}

    async def validate(self, task: Task, method: str | None = None,
                       data: dict[str, Any] | None = None) -> None:
        """Refuse unknown methods; subclasses check ``data`` (the request body) too."""
        if method is not None and method not in self.passthru_methods:
            raise exception.InvalidParameterValue(
                err=f'Unsupported method ({method}) passed through to vendor extension.')

    async def call(self, task: Task, method: str, http_method: str,
                   data: dict[str, Any]) -> Any:
        """Run a passthru method under the task's lock; the handler gets the body as one dict
        so that body keys (``method``, ``task``…) never clash with parameters."""
        handler = getattr(self, method, None)
        if method not in self.passthru_methods or handler is None:
            raise exception.InvalidParameterValue(
                err=f'Unsupported method ({method}) passed through to vendor extension.')
        return await handler(task, data)


class ConsoleInterface(BaseInterface):
    """A serial console reachable by the user while it is started."""

    interface_type = 'console'

    @abc.abstractmethod
    async def start_console(self, task: Task) -> None:
        ...

    @abc.abstractmethod
    async def stop_console(self, task: Task) -> None:
        ...

    @abc.abstractmethod
    async def get_console(self, task: Task) -> dict[str, Any]:
        """Connection information: ``{'type': ..., 'url': ...}``."""


class RescueInterface(BaseInterface):
    """Boot an active node into a rescue ramdisk and back."""

    interface_type = 'rescue'

    @abc.abstractmethod
    async def rescue(self, task: Task) -> str:
        """Start rescuing; return states.RESCUE when done or states.RESCUEWAIT to wait for
        the rescue ramdisk."""

    @abc.abstractmethod
    async def unrescue(self, task: Task) -> str:
        """Boot the instance again; return states.ACTIVE."""

    async def clean_up(self, task: Task) -> None:
        """Remove what a (failed) rescue left behind."""


class NetworkInterface(BaseInterface):
    """Which of the node's ports and portgroups carry the tenant's virtual interfaces."""

    interface_type = 'network'

    @abc.abstractmethod
    async def vif_list(self, task: Task) -> list[dict[str, str]]:
        """``[{'id': vif_id}, ...]``."""

    @abc.abstractmethod
    async def vif_attach(self, task: Task, vif_info: dict[str, Any]) -> None:
        """Attach ``vif_info['id']``; VifAlreadyAttached, NoFreePhysicalPorts."""

    @abc.abstractmethod
    async def vif_detach(self, task: Task, vif_id: str) -> None:
        """VifNotAttached when it is not attached to the node."""


BIOS_SETTINGS_ARGSINFO = {
    'settings': {'description': 'List of BIOS settings, each a {"name": ..., "value": ...} '
                                'object.', 'required': True},
}


def bios_settings(settings: Any) -> dict[str, str | None]:
    """The ``settings`` argument of ``bios.apply_configuration`` as ``{name: value}``
    (values as strings, as the node's cached BIOS settings); InvalidParameterValue if
    malformed."""
    if not isinstance(settings, list) or not all(
            isinstance(s, dict) and isinstance(s.get('name'), str) and s['name']
            and set(s) <= {'name', 'value'} for s in settings):
        raise exception.InvalidParameterValue(
            err=f'BIOS settings must be a list of {{"name": ..., "value": ...}} objects, '
                f'not {settings!r}')
    return {s['name']: None if s.get('value') is None else str(s['value']) for s in settings}


class BIOSInterface(BaseInterface):
    interface_type = 'bios'

    async def cache_bios_settings(self, task: Task) -> None:
        """Store the machine's current BIOS settings as the node's (upstream's
        ``cache_bios_settings``, run when a node is verified). Default: nothing to read."""


_RAID_APPLY_ARGSINFO = {
    'raid_config': {'description': 'The RAID configuration to apply (as the target RAID '
                                   'configuration: {"logical_disks": [...]}).',
                    'required': True},
    'delete_existing': {'description': 'Delete the existing configuration first. '
                                       'Default true.', 'required': False},
}


class RAIDInterface(BaseInterface):
    """RAID configuration (API 1.12 ``target_raid_config``), applied by steps."""

    interface_type = 'raid'

    async def validate(self, task: Task) -> None:
        if task.node.target_raid_config:
            self.validate_raid_config(task, task.node.target_raid_config)

    def validate_raid_config(self, task: Task, raid_config: Any) -> None:
        """InvalidParameterValue naming what is wrong in ``raid_config``."""
        disks = raid_config.get('logical_disks') if isinstance(raid_config, dict) else None
        if not isinstance(disks, list) or not disks:
            raise exception.InvalidParameterValue(
                err='RAID config must have a non-empty "logical_disks" list.')
        roots = 0
        for disk in disks:
            if not isinstance(disk, dict):
                raise exception.InvalidParameterValue(err='Each logical disk must be an object.')
            size = disk.get('size_gb')
            if size != 'MAX' and (not isinstance(size, int) or isinstance(size, bool)
                                  or size < 1):
                raise exception.InvalidParameterValue(
                    err=f'Invalid size_gb {size!r}: a positive integer or "MAX".')
            if disk.get('raid_level') not in RAID_LEVELS:
                raise exception.InvalidParameterValue(
                    err=f'Invalid raid_level {disk.get("raid_level")!r}; expected one of '
                        f'{", ".join(RAID_LEVELS)}.')
            roots += bool(disk.get('is_root_volume'))
        if roots > 1:
            raise exception.InvalidParameterValue(
                err='Only one logical disk can be the root volume (is_root_volume).')

    @abc.abstractmethod
    async def create_configuration(self, task: Task, create_root_volume: bool = True,
                                   create_nonroot_volumes: bool = True,
                                   delete_existing: bool = True) -> str | None:
        """Build the node's ``target_raid_config``; record the result in ``raid_config``."""

    @abc.abstractmethod
    async def delete_configuration(self, task: Task) -> str | None:
        """Remove every logical disk; ``raid_config`` becomes empty."""

    @deploy_step(priority=0, argsinfo=_RAID_APPLY_ARGSINFO)
    async def apply_configuration(self, task: Task, raid_config: dict,
                                  delete_existing: bool = True) -> str | None:
        """Deploy step (from a deploy template): make ``raid_config`` the target, build it."""
        self.validate_raid_config(task, raid_config)
        await task.save(target_raid_config=raid_config)
        return await self.create_configuration(task, delete_existing=delete_existing)


class InspectInterface(BaseInterface):
    """Hardware inspection: find out what the machine has (upstream's inspect interface)."""

    interface_type = 'inspect'

    @abc.abstractmethod
    async def inspect_hardware(self, task: Task) -> str:
        """Inspect the node; return the state it goes to (``manageable`` when done)."""


class Unsupported(BaseInterface):
    """An interface type the node does not support (upstream's ``no-raid``, ``no-inspect``):
    validate says so, and it offers no steps."""

    async def validate(self, task: Task) -> None:
        raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                   extension=self.interface_type)


def get_interface(task: Task, interface_type: str) -> BaseInterface | None:
    """The node's interface of ``interface_type`` (steps name interfaces by type), or None
    when the node does not support that type."""
    iface = getattr(task.driver, interface_type, None)
    return None if isinstance(iface, Unsupported) else iface


async def execute_step(task: Task, step: dict[str, Any], kind: str) -> str | None:
    """Run a ``kind`` ('clean' or 'deploy') step on the node's interface it names."""
    iface = get_interface(task, step['interface'])
    if iface is None:
        raise exception.InvalidParameterValue(
            err=f'the node has no {step["interface"]} interface')
    return await getattr(iface, f'execute_{kind}_step')(task, step)


class StorageInterface(BaseInterface):
    interface_type = 'storage'

    def should_write_image(self, task: Task) -> bool:
        return True
