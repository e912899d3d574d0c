"""The one bridge between RPC transports and asyncio, and how RPC methods are declared.

A server's RPC methods are declared where they are defined: ``@rpc.cast(since=...)`` or
``@rpc.call(since=...)`` on the manager's coroutine methods (nameko-style). :func:`surface`
reads them; the server serves exactly those, a cast returning at once and a call answering.
``replaces`` keeps older names served after a rename (an API not yet upgraded still sends
them); their extra arguments are dropped.

Every message carries the sender's request context (``common/request_context.py``); the
server makes it current while the method runs, so its log lines and the tasks it starts
carry the request id.

Two transports, one interface (``RPCServer`` / ``RPCClient``):

* **oslo.messaging** (``rpc_transport = oslo``, split processes over RabbitMQ). oslo.messaging
  has no asyncio executor: servers run on the threading executor and every endpoint method is a
  thin synchronous shim that schedules :func:`_serve` on the event loop with
  ``run_coroutine_threadsafe`` — a cast returns at once, a call waits for the coroutine's result.
  Clients are blocking, so async code reaches them through ``asyncio.to_thread``.
* **in-process** (``rpc_transport = none``, the all-in-one process and tests): a bus inside the
  event loop. Arguments go through the same JSON encoding as on the wire (so what works here
  works over AMQP), casts become tasks running :func:`_serve`, calls await it. No threads, no
  polling, and oslo.messaging is never imported (it pulls in ~20 MiB and eventlet).

Transport failures become project exceptions here (``ConductorUnavailable``,
``ConductorTimeout``, ``ConductorError``) so nothing above this module knows which transport ran.

Bounded waits (oslo.messaging): a cast that cannot hand its message to the broker within
``[DEFAULT]rpc_send_timeout`` fails with ``ConductorUnavailable``, and a call ends within
``[api]rpc_timeout`` with the conductor's answer or an error — also while the broker is down,
when oslo.messaging on its own would retry for as long as the outage lasts. The client's
blocking sends run in thread pools of their own (one for casts, one for calls), never in the
event loop's default pool that authentication and other blocking work use, and kombu's
reconnection attempts are capped to what fits in ``rpc_send_timeout``. A send that starts only
after its caller gave up is dropped, so nothing is sent after its request was answered.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from oslo_config import cfg
from oslo_serialization import jsonutils

from ironic_lite.common import db_outage as outage
from ironic_lite.common import exception, log_limit, request_context

LOG = logging.getLogger(__name__)
_REPEATS = log_limit.RepeatLimiter(interval=10.0)

TOPIC = 'ironic_lite.conductor_manager'
ALLOWED_EXMODS = ['ironic_lite.common.exception']

_transport = None

# Threads of each RPC client pool: blocking sends waiting on the broker, not CPU work.
CLIENT_THREADS = 16


def _local(conf: cfg.ConfigOpts) -> bool:
    return conf.rpc_transport == 'none'


def version_is_compatible(available: str, requested: str) -> bool:
    """Same major version and a minor no newer than what is available (oslo's rule)."""
    a_major, a_minor = (int(x) for x in available.split('.')[:2])
    r_major, r_minor = (int(x) for x in requested.split('.')[:2])
    return a_major == r_major and r_minor <= a_minor


# -- declarations --------------------------------------------------------------------------------

CAST, CALL = 'cast', 'call'


@dataclasses.dataclass(frozen=True)
class Method:
    """How an RPC method is served: ``kind`` (cast or call), the API version that introduced
    it (``since``) and older names still accepted for it (``replaces``)."""
    kind: str
    since: str
    replaces: tuple[str, ...] = ()


def _declare(kind: str, since: str, replaces: tuple[str, ...]):
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f'RPC method {fn.__name__} must be a coroutine function')
        fn.__rpc__ = Method(kind, since, replaces)
        return fn
    return decorate


def cast(since: str = '1.0', replaces: tuple[str, ...] = ()):
    """Declare a fire-and-forget RPC method: the sender gets no answer nor error."""
    return _declare(CAST, since, replaces)


def call(since: str = '1.0'):
    """Declare an RPC method whose result (or domain exception) goes back to the sender."""
    return _declare(CALL, since, ())


@dataclasses.dataclass(frozen=True)
class Served:
    """One name a server answers to: its declaration and the manager's bound method."""
    name: str
    method: Method
    fn: Callable[..., Any]
    # for a replaced (old) name: the arguments the current method takes; others are dropped
    accepts: frozenset[str] | None = None


def surface(manager: Any) -> dict[str, Served]:
    """Every RPC name ``manager`` serves, declared with :func:`cast` / :func:`call`."""
    served: dict[str, Served] = {}
    for attr in dir(type(manager)):
        method = getattr(getattr(type(manager), attr), '__rpc__', None)
        if not isinstance(method, Method):
            continue
        fn = getattr(manager, attr)
        served[attr] = Served(attr, method, fn)
        params = frozenset(inspect.signature(fn).parameters)
        for old in method.replaces:
            served[old] = Served(old, method, fn, params)
    return served


async def _serve(served: Served, ctxt: dict, kwargs: dict[str, Any]) -> Any:
    """Run one RPC method under the message's request context (casts: errors logged here)."""
    if served.accepts is not None:
        kwargs = {k: v for k, v in kwargs.items() if k in served.accepts}
    ctx = request_context.from_message(ctxt)
    with request_context.bound(ctx):
        if served.method.kind == CALL:
            return await served.fn(ctx, **kwargs)
        await _run_cast(served.name, served.fn, ctx, **kwargs)
    return None


# -- in-process bus ------------------------------------------------------------------------------

class _LocalCasts:
    """Casts still running inside this process, so a harness can wait until every message it
    sent has been handled (the deterministic "queue drained" point)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    def track(self, task: asyncio.Task) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @property
    def pending(self) -> int:
        return len(self.tasks)


LOCAL_CASTS = _LocalCasts()


class _LocalServer:
    def __init__(self, manager: Any):
        self.manager = manager
        self.served = surface(manager)

    def method(self, name: str, version: str, kind: str) -> Served:
        if not version_is_compatible(self.manager.RPC_API_VERSION, version):
            raise exception.ConductorUnavailable(
                reason=f'the conductor speaks RPC {self.manager.RPC_API_VERSION}, '
                       f'not {version}')
        served = self.served.get(name)
        if served is None or served.method.kind != kind:
            raise exception.ConductorUnavailable(reason=f'unknown RPC method {name}')
        return served


_LOCAL_SERVERS: dict[str, _LocalServer] = {}


def _wire(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What the receiver would get over AMQP: a JSON copy, never the caller's objects."""
    return json.loads(jsonutils.dumps(kwargs))


# -- oslo.messaging ------------------------------------------------------------------------------

def _messaging():
    import oslo_messaging
    return oslo_messaging


def get_transport(conf: cfg.ConfigOpts):
    """The process-wide oslo.messaging transport (split processes only)."""
    global _transport
    if _transport is None:
        _transport = _messaging().get_rpc_transport(conf, allowed_remote_exmods=ALLOWED_EXMODS)
    return _transport


def cleanup() -> None:
    global _transport
    if _transport is not None:
        _transport.cleanup()
        _transport = None


def _bridge(loop: asyncio.AbstractEventLoop, served: Served, timeout: float):
    messaging = _messaging()

    @functools.wraps(served.fn)
    def shim(ctxt: dict, **kwargs: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(_serve(served, ctxt, kwargs), loop)
        if served.method.kind == CAST:
            return None
        return future.result(timeout)

    # Domain errors travel back to the caller; the server logs them quietly, not as crashes.
    return messaging.expected_exceptions(exception.IronicLiteException)(shim)


async def _run_cast(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run a cast's method; its failure is logged here, as nobody waits for it."""
    try:
        await fn(*args, **kwargs)
    except exception.IronicLiteException as e:
        LOG.warning('RPC cast %s failed: %s', name, e)
    except Exception as e:
        if outage.is_unavailable(e):   # an outage fails every cast: one line, no traceback
            _REPEATS.log(LOG, logging.WARNING, (name, 'db'),
                         'RPC cast %s failed: database unavailable (%s)', name,
                         outage.summary(e))
        else:
            LOG.exception('RPC cast %s failed', name)


class _Endpoint:
    """Synchronous face of an async manager for oslo.messaging's dispatcher."""

    def __init__(self, manager: Any, loop: asyncio.AbstractEventLoop, call_timeout: float):
        self.target = _messaging().Target(version=manager.RPC_API_VERSION)
        for name, served in surface(manager).items():
            setattr(self, name, _bridge(loop, served, call_timeout))


def send_retries(conf: cfg.ConfigOpts, seconds: float) -> int | None:
    """How many kombu reconnection retries fit in ``seconds`` with this configuration.

    After a failed attempt oslo.messaging's rabbit driver sleeps ``kombu_reconnect_delay`` and
    kombu waits ``rabbit_retry_interval``, growing by ``rabbit_retry_backoff`` up to
    ``rabbit_interval_max``. Without a cap (oslo's default) a send retries for as long as the
    broker is down.
    """
    try:
        rabbit = conf.oslo_messaging_rabbit
    except cfg.NoSuchOptError:
        return None  # not the rabbit driver: its own defaults
    interval, spent, retries = float(rabbit.rabbit_retry_interval), 0.0, 0
    while True:
        spent += min(interval, rabbit.rabbit_interval_max) + rabbit.kombu_reconnect_delay
        if spent > seconds:
            return retries
        retries += 1
        interval += rabbit.rabbit_retry_backoff


class _Expired(Exception):
    """A send whose caller has already given up (it waited in the pool too long)."""


def _transport_errors() -> tuple[type[BaseException], ...]:
    """What a send can raise besides the conductor's own exceptions: oslo.messaging's, and
    kombu's or the socket's when a bounded reconnection gives up."""
    import kombu.exceptions
    return (_messaging().MessagingException, kombu.exceptions.KombuError, OSError)


def _translate(err: Exception, method: str) -> Exception:
    messaging = _messaging()
    if isinstance(err, messaging.MessagingTimeout):
        return exception.ConductorTimeout(method=method)
    if isinstance(err, messaging.RemoteError):
        LOG.error('Conductor error in %s: %s %s', method, err.exc_type, err.value)
        return exception.ConductorError(method=method)
    return exception.ConductorUnavailable(reason=str(err))


# -- public interface ----------------------------------------------------------------------------

class RPCServer:
    """Serves the methods ``manager`` declares with :func:`cast` and :func:`call`."""

    def __init__(self, conf: cfg.ConfigOpts, host: str, manager: Any):
        self._conf = conf
        self._host = host
        self._manager = manager
        self._server = None

    async def start(self) -> None:
        if _local(self._conf):
            _LOCAL_SERVERS[self._host] = _LocalServer(self._manager)
            return
        messaging = _messaging()
        endpoint = _Endpoint(self._manager, asyncio.get_running_loop(),
                             self._conf.api.rpc_timeout)
        target = messaging.Target(topic=TOPIC, server=self._host)
        self._server = messaging.get_rpc_server(
            get_transport(self._conf), target, [endpoint], executor='threading',
            access_policy=messaging.DefaultRPCAccessPolicy)
        await asyncio.to_thread(self._server.start)

    async def stop(self) -> None:
        if _local(self._conf):
            _LOCAL_SERVERS.pop(self._host, None)
            return
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.wait)


class RPCClient:
    """Async RPC client: ``cast`` returns once the message is sent, ``call`` returns the result
    or raises the conductor's exception. Both send the current request context."""

    def __init__(self, conf: cfg.ConfigOpts, version: str, version_cap: str | None):
        self._timeout = conf.api.rpc_timeout
        self._send_timeout = conf.rpc_send_timeout
        self._version_cap = version_cap
        self._local = _local(conf)
        self._client = None
        if not self._local:
            messaging = _messaging()
            target = messaging.Target(topic=TOPIC, version=version)
            transport = get_transport(conf)
            self._client = messaging.get_rpc_client(transport, target,
                                                    version_cap=version_cap)
            self._retry = send_retries(transport.conf, self._send_timeout)
            # Casts get their own pool so that calls stuck on a reply queue during an outage
            # never delay a cast's bounded answer.
            self._cast_pool = ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix='rpc-cast')
            self._call_pool = ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix='rpc-call')

    @staticmethod
    async def _bounded(pool: ThreadPoolExecutor, seconds: float, fn: Callable[..., Any],
                       *args: Any, **kwargs: Any) -> Any:
        """Run the blocking ``fn`` in ``pool``; give up after ``seconds`` (TimeoutError)."""
        deadline = time.monotonic() + seconds

        def run() -> Any:
            if time.monotonic() > deadline:
                raise _Expired()
            return fn(*args, **kwargs)

        future = asyncio.get_running_loop().run_in_executor(pool, run)
        return await asyncio.wait_for(future, seconds)

    def can_send_version(self, version: str) -> bool:
        return self._version_cap is None or version_is_compatible(self._version_cap, version)

    def _local_server(self, host: str) -> _LocalServer:
        server = _LOCAL_SERVERS.get(host)
        if server is None:
            raise exception.ConductorUnavailable(reason=f'conductor {host} is not running')
        return server

    async def cast(self, host: str, version: str, method: str, **kwargs: Any) -> None:
        ctxt = request_context.to_message(request_context.current())
        if self._local:
            served = self._local_server(host).method(method, version, CAST)
            task = asyncio.get_running_loop().create_task(
                _serve(served, _wire(ctxt), _wire(kwargs)), name=f'cast {method}')
            LOCAL_CASTS.track(task)
            return
        cctxt = self._client.prepare(server=host, version=version, retry=self._retry)
        try:
            await self._bounded(self._cast_pool, self._send_timeout, cctxt.cast, ctxt, method,
                                **kwargs)
        except (TimeoutError, _Expired):
            raise exception.ConductorUnavailable(
                reason=f'the message broker could not be reached within '
                       f'{self._send_timeout:g} s to send {method}') from None
        except _transport_errors() as e:
            raise _translate(e, method) from e

    async def call(self, host: str, version: str, method: str, **kwargs: Any) -> Any:
        ctxt = request_context.to_message(request_context.current())
        if self._local:
            served = self._local_server(host).method(method, version, CALL)
            task = asyncio.ensure_future(_serve(served, _wire(ctxt), _wire(kwargs)))
            try:
                # like a remote call, a timed-out call goes on in the conductor
                result = await asyncio.wait_for(asyncio.shield(task), self._timeout)
            except TimeoutError:
                raise exception.ConductorTimeout(method=method) from None
            return json.loads(jsonutils.dumps(result))
        cctxt = self._client.prepare(server=host, version=version, timeout=self._timeout,
                                     retry=self._retry)
        try:
            return await self._bounded(self._call_pool, self._timeout, cctxt.call, ctxt,
                                       method, **kwargs)
        except (TimeoutError, _Expired):
            raise exception.ConductorTimeout(method=method) from None
        except _transport_errors() as e:
            raise _translate(e, method) from e
