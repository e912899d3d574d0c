"""A daemon that cannot start says why in one line naming the option and its value.

Configuration mistakes (a value of the wrong type, a hardware type with no enabled
interface, a database that cannot be reached, a port already in use) would otherwise surface
as a traceback — some only when the option is first read, long after start. Every option is
read once at start (oslo.config converts values lazily), and the errors of start-up become
:class:`StartupError`, which :func:`exit_on_startup_error` prints as
``<command>: cannot start: [group]option = value: reason`` before exiting with status 1.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator

import sqlalchemy
from oslo_config import cfg
from sqlalchemy.engine import make_url

from ironic_lite.common import exception
from ironic_lite.db.api import Connection

LOG = logging.getLogger(__name__)


class StartupError(Exception):
    """The process cannot start; the message is one line for the operator."""


def _setting(group: str | None, name: str) -> str:
    return f'[{group or "DEFAULT"}]{name}'


def masked_url(url: str) -> str:
    """A database or broker URL (several hosts too) with its passwords replaced by ``***``."""
    return re.sub(r'([/,][^:/@,]*):[^@/,]*@', r'\1:***@', url)


def _raw_value(conf: cfg.ConfigOpts, group: str | None, name: str) -> str | None:
    """The text the operator wrote for an option whose value does not convert."""
    env = os.environ.get(f'OS_{(group or "DEFAULT").upper()}__{name.upper()}')
    if env is not None:
        return env
    files = list(conf.config_file or [])
    for directory in conf.config_dir or []:
        with contextlib.suppress(OSError):
            files += sorted(os.path.join(directory, f) for f in os.listdir(directory)
                            if f.endswith('.conf'))
    value = None
    for path in files:
        sections: dict = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except Exception:  # noqa: BLE001,S112 - unreadable files were reported by oslo.config
            continue
        values = sections.get(group or 'DEFAULT', {}).get(name)
        if values:
            value = values[-1]
    return value


# option names whose values are never shown (oslo.config's ``secret`` flag is not public)
_SECRET = re.compile(r'password|secret|token|key', re.I)


def _reason(error: Exception) -> str:
    text = str(error)
    return text.split(' is not valid: ', 1)[-1]


def check_options(conf: cfg.ConfigOpts) -> None:
    """Read every registered option once so that a bad value stops the start, not a later
    request or periodic task."""
    for name in list(conf):
        value = _read(conf, None, name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for opt_name in list(value):
                _read(conf, name, opt_name)


def _read(conf: cfg.ConfigOpts, group: str | None, name: str) -> object:
    try:
        return conf[group][name] if group else conf[name]
    except (ValueError, cfg.Error) as e:
        raw = _raw_value(conf, group, name)
        reason = _reason(e)
        if raw and _SECRET.search(name):
            reason, raw = reason.replace(raw, '***'), '***'
        shown = '' if raw is None else f' = {raw}'
        raise StartupError(f'{_setting(group, name)}{shown}: {reason}') from e


def check_database(conf: cfg.ConfigOpts, require_schema: bool = True) -> Connection:
    url = conf.database.connection
    setting = f'[database]connection = {masked_url(url)}'
    if re.search(r'\s#', url):
        raise StartupError(
            f'{setting}: the value contains an inline comment; oslo.config keeps it as part '
            f'of the value: put comments on lines of their own')
    no_schema = StartupError(
        f'{setting}: the database has no ironic_lite tables; create them with '
        f'"ironic-lite-dbsync --config-file <this config> upgrade"')
    if require_schema and _missing_sqlite_file(url):
        raise no_schema  # and connecting would create an empty file
    try:
        conn = Connection(url)
        with conn.engine.connect() as c:
            has_schema = sqlalchemy.inspect(c).has_table('nodes')
    except Exception as e:  # noqa: BLE001 - URL, driver and server errors all mean "cannot use"
        raise StartupError(
            f'{setting}: cannot connect to the database: {_first_line(e)}') from e
    if require_schema and not has_schema:
        conn.dispose()
        raise no_schema
    return conn


def _missing_sqlite_file(url: str) -> bool:
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - reported when connecting
        return False
    path = parsed.database
    return (parsed.get_backend_name() == 'sqlite' and path not in (None, '', ':memory:')
            and not os.path.exists(path))


def check_transport(conf: cfg.ConfigOpts) -> None:
    """Create the RPC transport now, so that a malformed ``transport_url`` stops the start
    (an unreachable broker does not: oslo.messaging retries, logging each attempt)."""
    if conf.rpc_transport != 'oslo':
        return
    from ironic_lite.common import rpc
    try:
        rpc.get_transport(conf)
    except Exception as e:  # noqa: BLE001 - oslo.messaging raises several types for a bad URL
        raise StartupError(f'[DEFAULT]transport_url = {masked_url(conf.transport_url or "")}: '
                           f'{_first_line(e)}') from e
    check_options(conf)  # the options oslo.messaging registered just now


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


@contextlib.contextmanager
def exit_on_startup_error() -> Iterator[None]:
    """Around a command's ``main``: turn start-up errors into one line and exit status 1."""
    try:
        yield
    except StartupError as e:
        _exit(str(e))
    except exception.DriverLoadError as e:
        _exit(str(e))
    except cfg.Error as e:
        # a config file that does not parse or cannot be found, a required option unset
        _exit(str(e).strip().splitlines()[0])


def _exit(message: str) -> None:
    print(f'{os.path.basename(sys.argv[0])}: cannot start: {message}', file=sys.stderr,
          flush=True)
    if _logs_elsewhere():
        LOG.critical('cannot start: %s', message)
    sys.exit(1)


def _logs_elsewhere() -> bool:
    """Whether the log goes somewhere other than the terminal (a file, syslog, journald)."""
    return any(getattr(h, 'stream', None) not in (sys.stderr, sys.stdout)
               for h in logging.getLogger().handlers)
