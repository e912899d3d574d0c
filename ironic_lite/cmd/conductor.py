"""``ironic-lite-conductor``: the conductor process."""
from __future__ import annotations

import asyncio

from ironic_lite.cmd import prepare, runtime, startup, wait_for_signal


async def _run(conf) -> None:
    db, service = await runtime.start_conductor(conf)
    print(f'ironic_lite conductor {conf.host} ready', flush=True)
    try:
        await wait_for_signal()
    finally:
        await service.stop()
        runtime.shutdown_transport()
        db.close()


def main() -> None:
    with startup.exit_on_startup_error():
        conf = prepare()
        startup.check_transport(conf)
        asyncio.run(_run(conf))
