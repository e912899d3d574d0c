"""``sushy-emulator`` with a fixed power-change delay (see :mod:`ironic_lite.testing.redfish`).

sushy-tools' fake driver applies a power change after ``random.randint(1, 11)`` seconds; here
that draw returns ``$IRONIC_LITE_REDFISH_POWER_DELAY`` (default 0: the change shows on the
next read). The open-file limit is raised to the hard limit: under load (a power sync of 1,000
systems) the emulator opens a SQLite connection and the htpasswd file per request and otherwise
fails with "Problem reading auth user file".

The stock fake driver reports no processors, memory or disks (its systems have only NICs); a
fake system with a ``hardware`` key (see :func:`ironic_lite.testing.redfish.fake_system`) reports
them here the way the libvirt driver does, so out-of-band inspection has something to find;
one with a ``bios`` key (its factory attributes) has a BIOS resource, settable and resettable.
Everything else is the emulator's own ``main``.
"""
from __future__ import annotations

import os
import resource
import sys
import types
from typing import Any

GIB = 1024 ** 3


def _hardware(driver: Any, identity: str) -> dict[str, Any]:
    from sushy_tools import error
    hardware = driver._get(identity).get('hardware')
    if not hardware:
        raise error.NotSupportedError('Not implemented')   # as the stock fake driver
    return hardware


def _processors(driver: Any, identity: str) -> list[dict[str, Any]]:
    hardware = _hardware(driver, identity)
    return [{'id': f'CPU{i}', 'socket': f'CPU {i}', 'vendor': 'N/A', 'model': 'N/A',
             'cores': hardware['threads_per_cpu'], 'threads': hardware['threads_per_cpu']}
            for i in range(hardware['sockets'])]


def _simple_storage(driver: Any, identity: str) -> dict[str, dict[str, Any]]:
    disks = _hardware(driver, identity)['disks_gib']
    return {'controller0': {'Id': 'controller0', 'Name': 'fake',
                            'DeviceList': [{'Name': f'disk{i}', 'CapacityBytes': size * GIB}
                                           for i, size in enumerate(disks)]}}


def _bios_defaults(driver: Any, identity: str) -> dict[str, Any]:
    from sushy_tools import error
    defaults = driver._get(identity).get('bios')
    if defaults is None:
        raise error.NotSupportedError('Not implemented')   # as the stock fake driver
    return defaults


def _get_bios(driver: Any, identity: str) -> dict[str, Any]:
    return dict(driver._get(identity).get('bios_current') or _bios_defaults(driver, identity))


def _set_bios(driver: Any, identity: str, attributes: dict[str, Any]) -> None:
    # applied at once, as the libvirt driver does (a real BIOS waits for a reboot)
    driver._update(identity, bios_current={**_get_bios(driver, identity), **attributes})


def _reset_bios(driver: Any, identity: str) -> None:
    driver._update(identity, bios_current=dict(_bios_defaults(driver, identity)))


def _add_hardware(fake_driver: Any) -> None:
    fake_driver.get_total_memory = lambda self, ident: _hardware(self, ident)['memory_gib']
    fake_driver.get_total_cpus = lambda self, ident: len(_processors(self, ident))
    fake_driver.get_processors = _processors
    fake_driver.get_simple_storage_collection = _simple_storage
    fake_driver.get_bios, fake_driver.set_bios = _get_bios, _set_bios
    fake_driver.reset_bios = _reset_bios


def main() -> int:
    from sushy_tools.emulator import main as emulator
    from sushy_tools.emulator.resources.systems import fakedriver

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    delay = float(os.environ.get('IRONIC_LITE_REDFISH_POWER_DELAY', '0'))
    fakedriver.random = types.SimpleNamespace(randint=lambda low, high: delay)
    _add_hardware(fakedriver.FakeDriver)
    return emulator.main()


if __name__ == '__main__':
    sys.exit(main())
