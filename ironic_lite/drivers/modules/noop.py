"""No-op interfaces for optional interface types (upstream's ``no-*`` and ``noop``)."""
from typing import Any

from ironic_lite.common import exception
from ironic_lite.drivers import base


class NoVendor(base.VendorInterface):
    """No vendor passthru methods: every method name is refused with 400."""

    passthru_methods = {}


class NoConsole(base.ConsoleInterface):
    """No console: every console operation is refused with 400 (upstream ``no-console``)."""

    async def validate(self, task) -> None:
        raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                   extension='console')

    async def start_console(self, task) -> None:
        await self.validate(task)

    async def stop_console(self, task) -> None:
        await self.validate(task)

    async def get_console(self, task) -> dict[str, Any]:
        await self.validate(task)
        return {}


class NoRescue(base.RescueInterface):
    async def validate(self, task) -> None:
        raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                   extension='rescue')

    async def rescue(self, task) -> str:
        await self.validate(task)
        return ''

    async def unrescue(self, task) -> str:
        await self.validate(task)
        return ''


class NoBIOS(base.BIOSInterface):
    async def validate(self, task) -> None:
        raise exception.UnsupportedDriverExtension(driver=task.node.driver,
                                                   extension='bios')


class NoopStorage(base.StorageInterface):
    """Local disks only: nothing to attach (upstream ``noop`` storage)."""

    async def validate(self, task) -> None:
        pass


class NoRAID(base.Unsupported):
    """No RAID support (upstream ``no-raid``): no RAID steps; setting a target RAID
    configuration is refused with 404, as upstream."""

    interface_type = 'raid'


class NoInspect(base.Unsupported):
    """No hardware inspection (upstream ``no-inspect``)."""

    interface_type = 'inspect'
