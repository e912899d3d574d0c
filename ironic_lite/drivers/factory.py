"""Loads hardware types and interface implementations (stevedore) and builds a node's driver.

Only the conductor loads drivers. What it loaded is published in the conductors table
(``hardware_interfaces``) so the API can validate and default a node's interfaces without
importing any driver code.
"""
from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points
from typing import Any

import stevedore
from oslo_config import cfg

from ironic_lite.common import exception
from ironic_lite.conf.default import INTERFACE_TYPES
from ironic_lite.drivers import base
from ironic_lite.drivers.hardware_type import HardwareType

HW_NAMESPACE = 'ironic_lite.hardware.types'
IFACE_NAMESPACE = 'ironic_lite.hardware.interfaces.%s'


@dataclasses.dataclass(frozen=True)
class Driver:
    """The interface implementations a node uses, resolved from its *_interface fields."""

    hardware_type: HardwareType
    boot: base.BootInterface
    deploy: base.DeployInterface
    management: base.ManagementInterface
    power: base.PowerInterface
    vendor: base.VendorInterface
    bios: base.BIOSInterface
    console: base.ConsoleInterface
    network: base.NetworkInterface
    rescue: base.RescueInterface
    storage: base.StorageInterface
    raid: base.BaseInterface       # a RAIDInterface, or no-raid
    inspect: base.BaseInterface    # an InspectInterface, or no-inspect


class DriverFactory:
    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        self.hardware_types: dict[str, HardwareType] = self._load(
            HW_NAMESPACE, conf.enabled_hardware_types, 'hardware type',
            'enabled_hardware_types')
        self.interfaces: dict[str, dict[str, Any]] = {
            itype: self._load(IFACE_NAMESPACE % itype, self._enabled(itype),
                              f'{itype} interface', f'enabled_{itype}_interfaces')
            for itype in INTERFACE_TYPES}
        self.hardware_interfaces = self._compute_hardware_interfaces()

    def _enabled(self, itype: str) -> list[str]:
        """``enabled_<itype>_interfaces``; unset (power, management): as upstream, the first
        supported interface of each enabled hardware type."""
        names = getattr(self.conf, f'enabled_{itype}_interfaces')
        if names is not None:
            return names
        return list(dict.fromkeys(hw.supported(itype)[0]
                                  for hw in self.hardware_types.values()
                                  if hw.supported(itype)))

    @staticmethod
    def _load(namespace: str, names: list[str], what: str, option: str) -> dict[str, Any]:
        """Each named plugin; errors name the option and its value (they stop the start)."""
        setting = f'[DEFAULT]{option} = {",".join(names)}'
        loaded: dict[str, Any] = {}
        installed = sorted({ep.name for ep in entry_points(group=namespace)})
        for name in names:
            if name not in installed:
                raise exception.DriverLoadError(
                    f'{setting}: there is no {what} named "{name}" '
                    f'(installed: {", ".join(installed)})')
            try:
                mgr = stevedore.DriverManager(namespace, name, invoke_on_load=True)
            except Exception as e:  # stevedore raises several types; all mean "cannot load"
                raise exception.DriverLoadError(
                    f'{setting}: the {what} "{name}" could not be loaded: {e}') from e
            loaded[name] = mgr.driver
        return loaded

    def _compute_hardware_interfaces(self) -> dict[str, dict[str, dict[str, Any]]]:
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for hw_name, hw in self.hardware_types.items():
            per_type = {}
            for itype in INTERFACE_TYPES:
                enabled = [n for n in hw.supported(itype) if n in self.interfaces[itype]]
                if not enabled:
                    raise exception.DriverLoadError(
                        f'[DEFAULT]enabled_{itype}_interfaces = '
                        f'{",".join(self.interfaces[itype])}: none of the {itype} interfaces '
                        f'the enabled hardware type "{hw_name}" supports '
                        f'({", ".join(hw.supported(itype))}) is enabled')
                default = getattr(self.conf, f'default_{itype}_interface')
                if default not in enabled:
                    default = enabled[0]
                per_type[itype] = {'enabled': enabled, 'default': default}
            # The API refuses unknown vendor passthru methods before casting.
            per_type['vendor']['methods'] = {
                name: self.interfaces['vendor'][name].passthru_methods
                for name in per_type['vendor']['enabled']}
            result[hw_name] = per_type
        return result

    async def close(self) -> None:
        """Close every loaded interface (the conductor stops)."""
        for loaded in self.interfaces.values():
            for interface in loaded.values():
                await interface.close()

    def get_driver(self, node) -> Driver:
        hw_ifaces = self.hardware_interfaces.get(node.driver)
        if hw_ifaces is None:
            raise exception.DriverNotFound(driver_name=node.driver)
        chosen = {}
        for itype in INTERFACE_TYPES:
            name = getattr(node, f'{itype}_interface', None) or hw_ifaces[itype]['default']
            if name not in hw_ifaces[itype]['enabled']:
                raise exception.InterfaceNotFoundInEntrypoint(
                    iface=name, entrypoint=IFACE_NAMESPACE % itype,
                    valid=hw_ifaces[itype]['enabled'])
            chosen[itype] = self.interfaces[itype][name]
        return Driver(hardware_type=self.hardware_types[node.driver], **chosen)
