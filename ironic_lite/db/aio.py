"""Async facade over :class:`ironic_lite.db.api.Connection`.

Every database call runs in a bounded thread pool so it never blocks the event loop:
``await db.get_node(uuid)`` is ``Connection.get_node(uuid)`` in a worker thread.
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ironic_lite.db.api import Connection


class AsyncConnection:
    def __init__(self, conn: Connection, max_threads: int = 8):
        self.sync = conn
        self._executor = ThreadPoolExecutor(max_threads, thread_name_prefix='db')

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.sync, name)

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(method, *args, **kwargs))

        setattr(self, name, call)  # cache: __getattr__ runs once per method name
        return call

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.sync.dispose()
