"""``sushy-emulator`` with a fixed power-change delay (see :mod:`ironic_lite.testing.redfish`).

sushy-tools' fake driver applies a power change after ``random.randint(1, 11)`` seconds; here
that draw returns ``$IRONIC_LITE_REDFISH_POWER_DELAY`` (default 0: the change shows on the
next read). The open-file limit is raised to the hard limit: under load (a power sync of 1,000
systems) the emulator opens a SQLite connection and the htpasswd file per request and otherwise
fails with "Problem reading auth user file". Everything else is the emulator's own ``main``.
"""
from __future__ import annotations

import os
import resource
import sys
import types


def main() -> int:
    from sushy_tools.emulator import main as emulator
    from sushy_tools.emulator.resources.systems import fakedriver

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    delay = float(os.environ.get('IRONIC_LITE_REDFISH_POWER_DELAY', '0'))
    fakedriver.random = types.SimpleNamespace(randint=lambda low, high: delay)
    return emulator.main()


if __name__ == '__main__':
    sys.exit(main())
