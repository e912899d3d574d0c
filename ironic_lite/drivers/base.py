"""Driver interfaces: the contract between the conductor's tasks and hardware.

A hardware type (``hardware_type.py``) names which interface implementations it supports; an
interface implementation is a class below, registered as a stevedore entry point in
``ironic_lite.hardware.interfaces.<type>``. Every operation receives the task (``task.node``,
``task.ports``, ``task.context``) and runs on the event loop: an implementation whose library
blocks (pyghmi, file copies, subprocesses) must run that part off the loop
(``asyncio.to_thread`` or an asyncio subprocess).
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

from ironic_lite.common import exception

if TYPE_CHECKING:  # pragma: no cover
    from ironic_lite.conductor.task_manager import TaskManager


class BaseInterface(abc.ABC):
    interface_type: ClassVar[str]

    def get_properties(self) -> dict[str, str]:
        """driver_info keys this interface reads, with a description (driver properties)."""
        return {}

    @abc.abstractmethod
    async def validate(self, task: TaskManager) -> None:
        """Raise InvalidParameterValue / MissingParameterValue naming what is wrong."""


class PowerInterface(BaseInterface):
    interface_type = 'power'

    @abc.abstractmethod
    async def get_power_state(self, task: TaskManager) -> str:
        """Return states.POWER_ON or states.POWER_OFF (or ERROR)."""

    @abc.abstractmethod
    async def set_power_state(self, task: TaskManager, power_state: str,
                              timeout: int | None = None) -> None:
        """Set and wait until the hardware reports ``power_state`` (or raise)."""

    @abc.abstractmethod
    async def reboot(self, task: TaskManager, timeout: int | None = None) -> None:
        """Power cycle; the node ends powered on."""

    def get_supported_power_states(self, task: TaskManager) -> list[str]:
        from ironic_lite.common import states
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT]


class ManagementInterface(BaseInterface):
    interface_type = 'management'

    @abc.abstractmethod
    def get_supported_boot_devices(self, task: TaskManager) -> list[str]:
        ...

    @abc.abstractmethod
    async def set_boot_device(self, task: TaskManager, device: str,
                              persistent: bool = False) -> None:
        ...

    @abc.abstractmethod
    async def get_boot_device(self, task: TaskManager) -> dict[str, Any]:
        """Return ``{'boot_device': name or None, 'persistent': bool or None}``."""

    async def inject_nmi(self, task: TaskManager) -> None:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='inject_nmi')

    # Indicators (API 1.63): ``{component: {name: {'readonly': bool, 'states': [...]}}}``;
    # components and states as upstream (``common/indicators.py``).
    async def get_supported_indicators(self, task: TaskManager) -> dict[str, dict]:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')

    async def get_indicator_state(self, task: TaskManager, component: str,
                                  indicator: str) -> str:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')

    async def set_indicator_state(self, task: TaskManager, component: str, indicator: str,
                                  state: str) -> None:
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='indicators')


class BootInterface(BaseInterface):
    interface_type = 'boot'

    @abc.abstractmethod
    async def prepare_ramdisk(self, task: TaskManager, ramdisk_params: dict[str, Any]) -> None:
        """Make the node boot the deploy ramdisk next (configs, images, DHCP, boot device)."""

    @abc.abstractmethod
    async def clean_up_ramdisk(self, task: TaskManager) -> None:
        ...

    @abc.abstractmethod
    async def prepare_instance(self, task: TaskManager) -> None:
        """Make the node boot the deployed instance next."""

    @abc.abstractmethod
    async def clean_up_instance(self, task: TaskManager) -> None:
        ...


class DeployInterface(BaseInterface):
    interface_type = 'deploy'

    @abc.abstractmethod
    async def prepare(self, task: TaskManager) -> None:
        """Prepare the environment to deploy (typically boot.prepare_ramdisk)."""

    @abc.abstractmethod
    async def deploy(self, task: TaskManager) -> str | None:
        """Start the deploy. Return states.DEPLOYWAIT to wait for a ramdisk callback, or None
        when the deploy finished synchronously."""

    @abc.abstractmethod
    async def tear_down(self, task: TaskManager) -> None:
        """Power the node off and remove the instance."""

    async def clean_up(self, task: TaskManager) -> None:
        """Remove what prepare/deploy left behind (after success, failure or tear down)."""

    async def take_over(self, task: TaskManager) -> None:
        """A new conductor takes the node over (its files may need re-creating)."""

    async def heartbeat(self, task: TaskManager, callback_url: str,
                        agent_version: str | None = None, **kwargs: Any) -> None:
        """A ramdisk agent heartbeat, under the node's exclusive lock."""
        raise exception.UnsupportedDriverExtension(
            driver=task.node.driver, extension='heartbeat')


class VendorInterface(BaseInterface):
    """Vendor passthru: ``methods`` maps a method name to the coroutine method handling it."""

    interface_type = 'vendor'
    # method name -> {'http_methods': [...], 'async': bool, 'description': str, 'attach': bool}
    passthru_methods: ClassVar[dict[str, dict[str, Any]]] = {}

    async def validate(self, task: TaskManager, method: str | None = None,
                       data: dict[str, Any] | None = None) -> None:
        """Refuse unknown methods; subclasses check ``data`` (the request body) too."""
        if method is not None and method not in self.passthru_methods:
            raise exception.InvalidParameterValue(
                err=f'Unsupported method ({method}) passed through to vendor extension.')

    async def call(self, task: TaskManager, method: str, http_method: str,
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
    async def start_console(self, task: TaskManager) -> None:
        ...

    @abc.abstractmethod
    async def stop_console(self, task: TaskManager) -> None:
        ...

    @abc.abstractmethod
    async def get_console(self, task: TaskManager) -> dict[str, Any]:
        """Connection information: ``{'type': ..., 'url': ...}``."""


class RescueInterface(BaseInterface):
    """Boot an active node into a rescue ramdisk and back."""

    interface_type = 'rescue'

    @abc.abstractmethod
    async def rescue(self, task: TaskManager) -> str:
        """Start rescuing; return states.RESCUE when done or states.RESCUEWAIT to wait for
        the rescue ramdisk."""

    @abc.abstractmethod
    async def unrescue(self, task: TaskManager) -> str:
        """Boot the instance again; return states.ACTIVE."""

    async def clean_up(self, task: TaskManager) -> None:
        """Remove what a (failed) rescue left behind."""


class NetworkInterface(BaseInterface):
    """Which of the node's ports and portgroups carry the tenant's virtual interfaces."""

    interface_type = 'network'

    @abc.abstractmethod
    async def vif_list(self, task: TaskManager) -> list[dict[str, str]]:
        """``[{'id': vif_id}, ...]``."""

    @abc.abstractmethod
    async def vif_attach(self, task: TaskManager, vif_info: dict[str, Any]) -> None:
        """Attach ``vif_info['id']``; VifAlreadyAttached, NoFreePhysicalPorts."""

    @abc.abstractmethod
    async def vif_detach(self, task: TaskManager, vif_id: str) -> None:
        """VifNotAttached when it is not attached to the node."""


class BIOSInterface(BaseInterface):
    interface_type = 'bios'


class StorageInterface(BaseInterface):
    interface_type = 'storage'

    def should_write_image(self, task: TaskManager) -> bool:
        return True
