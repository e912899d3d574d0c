"""``ironic-lite-conductor``: the conductor process."""
from __future__ import annotations

import asyncio

from ironic_lite.cmd import prepare, runtime, wait_for_signal
from ironic_lite.conductor.service import ConductorService


async def _run(conf) -> None:
    db = runtime.connect_db(conf)
    service = ConductorService(conf, db)
    await service.start()
    print(f'ironic_lite conductor {conf.host} ready', flush=True)
    try:
        await wait_for_signal()
    finally:
        await service.stop()
        runtime.shutdown_transport()
        db.close()


def main() -> None:
    conf = prepare()
    asyncio.run(_run(conf))
