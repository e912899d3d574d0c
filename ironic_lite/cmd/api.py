"""``ironic-lite-api``: the REST API process (talks to conductors over oslo.messaging)."""
from __future__ import annotations

import asyncio

from ironic_lite.cmd import prepare, runtime, startup, wait_for_signal


async def _run(conf) -> None:
    db = await asyncio.to_thread(runtime.connect_db, conf)
    server = runtime.ApiServer(conf, db)
    await server.start()
    try:
        await wait_for_signal()
    finally:
        await server.stop()
        runtime.shutdown_transport()
        db.close()


def main() -> None:
    with startup.exit_on_startup_error():
        conf = prepare()
        startup.check_transport(conf)
        asyncio.run(_run(conf))
