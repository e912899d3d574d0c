"""Telling a database that cannot be reached from a bug (from its exception alone, so that
every layer can ask: the API, the RPC server, the conductor).

During an outage (server down or restarting, connections refused or cut, pool exhausted,
SQLite busy) every request and periodic task fails the same way: callers answer 503 or retry
later, and log one line per kind of failure instead of a traceback each time.
"""
from __future__ import annotations

import sqlalchemy.exc
from oslo_db import exception as db_exc

UNAVAILABLE = (db_exc.DBConnectionError, db_exc.CantStartEngineError,
               sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
               sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)


def is_unavailable(err: BaseException) -> bool:
    """Whether ``err`` says the database could not be reached (not a bad query)."""
    if isinstance(err, UNAVAILABLE):
        return True
    return isinstance(err, db_exc.DBError) and isinstance(err.inner_exception, UNAVAILABLE)


def summary(err: BaseException) -> str:
    """One line naming the failure (driver messages run over several lines)."""
    first = (str(err).strip().splitlines() or [''])[0][:300]
    return f'{type(err).__name__}: {first}'
