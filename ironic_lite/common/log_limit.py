"""Rate-limited logging of repeated events (a database outage fails every request the same way).

The first occurrence of an event (its ``key``) is logged; repeats within ``interval`` seconds
are counted, not logged, and the next line logged for that key says how many were left out.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable
from typing import Any

_MAX_KEYS = 1024


class RepeatLimiter:
    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._lock = threading.Lock()   # API handlers and RPC threads may both log
        self._seen: dict[Hashable, tuple[float, int]] = {}

    def log(self, logger: logging.Logger, level: int, key: Hashable, msg: str, *args: Any,
            exc_info: Any = None) -> bool:
        """Log ``msg`` unless ``key`` was logged less than ``interval`` ago; True if logged."""
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[key] = (last, suppressed + 1)
                return False
            if len(self._seen) >= _MAX_KEYS:
                self._seen.clear()
            self._seen[key] = (now, 0)
        if suppressed:
            msg += ' (%d more like this in the last %.0f s were not logged)'
            args = (*args, suppressed, now - last)
        logger.log(level, msg, *args, exc_info=exc_info)
        return True
