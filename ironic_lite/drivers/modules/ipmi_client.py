"""Asynchronous IPMI client over pyghmi: one pyghmi thread, sessions reused per BMC.

pyghmi is blocking, and its session layer is one event loop shared by the whole process: an IO
thread reads the sockets and whoever calls ``Session.wait_for_rsp`` handles the packets of
*every* session. Measured with pyghmi 1.6.19, driving it from many threads through its
synchronous API loses wake-ups: an answer can sit unhandled until a retry timer (~1 s), a login
until a keep-alive timer (~25 s); 100 logins from 32 threads took 24 s. So ONE thread, the pump
below, makes every pyghmi call and drives sessions with callbacks; the event loop only submits
operations and awaits futures (1,000 BMCs: logins in ~1.5 s, then ~2,000 power reads/s).
Nothing in the pump blocks for long, so a time-out is enforced on the asyncio side and abandons
the operation cleanly: no worker thread is ever left hanging.

* One session per BMC (address, port), reused while fresh; a new login after ``_REUSE_IDLE``
  seconds idle, after a lost answer, or when the credentials change.
* Per BMC one operation at a time (an asyncio lock, and a FIFO in the pump) and at least
  ``[ipmi]min_command_interval`` between operations; per process at most
  ``[ipmi]max_concurrent_operations`` in flight.
* Transient failures (no answer, BMC busy) are retried with a fresh session until
  ``[ipmi]command_retry_timeout``; bad credentials and refused commands fail at once. Both raise
  :class:`~ironic_lite.common.exception.IPMIFailure` naming the BMC and the reason.

pyghmi workarounds: user name and password are passed as bytes (as str, a second session for
the same BMC hangs forever: pyghmi's pending-session table is keyed by str but cleaned by
bytes); the post-login privilege request, which pyghmi sends with a blocking call from inside
its packet handler, is sent with a callback (:class:`_Session`); pyghmi's IO thread notifies
the pump directly when packets are queued (:func:`_graball_and_notify`).
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import hashlib
import ipaddress
import logging
import random
import select
import socket
import threading
import time
import weakref
from typing import Any

import tenacity
from pyghmi.ipmi.private import session as pyghmi_session
from pyghmi.ipmi.private import util as pyghmi_util

from ironic_lite.common import exception
from ironic_lite.conf import CONF

LOG = logging.getLogger(__name__)

# Completion codes worth a retry: node busy, time-out, cannot respond, unspecified.
_RETRYABLE_CODES = frozenset({0xC0, 0xC3, 0xCE, 0xFF})
_NO_ANSWER = 'no answer from the BMC'
_TICK = 0.05          # how often the pump runs pyghmi's timers (retransmits, time-outs)
_REUSE_IDLE = 20.0    # pyghmi logs out sessions idle for ~25 s; BMCs drop them after 30-60 s
_RETRY_DELAY = 0.2    # between attempts after a transient failure


@dataclasses.dataclass(frozen=True)
class IPMIInfo:
    """How to reach one BMC (see ``ipmitool.parse_driver_info``)."""

    address: str
    port: int
    username: str
    password: str
    priv_level: int
    kg: bytes | None
    suites: frozenset[int]
    disable_boot_timeout: bool

    @property
    def bmc(self) -> str:
        return f'[{self.address}]:{self.port}' if ':' in self.address else \
            f'{self.address}:{self.port}'

    @property
    def creds(self) -> tuple:
        return (self.username, self.password, self.kg, self.priv_level, self.suites)


def _command_done(session: pyghmi_session.Session) -> None:
    """What a caller of an asynchronous raw_command must undo (see Session._keepalive_wrapper)."""
    session.lastresponse = None
    session.incommand = False
    while session.evq:
        session.evq.popleft().set()


class _Session(pyghmi_session.Session):
    force_sha1 = False

    def _initsession(self) -> None:
        super()._initsession()
        if self.force_sha1:        # suite 3 only: skip asking for 17
            self.attemptedhash = 1

    def _req_priv_level(self) -> None:
        # pyghmi sends this with a blocking raw_command from inside its packet handler.
        self.logged = 1
        self.logoutexpiry = None
        self.maxtimeout = 2        # a lost answer fails in ~2.5 s ...
        self.logontries = 0        # ... and is retried by us with a fresh session: pyghmi's own
        #                            re-login waits (blocks) for the command it replays
        self.raw_command(netfn=0x06, command=0x3B, data=[self.privlevel],
                         callback=self._got_priv_level)

    def _got_priv_level(self, response: dict) -> None:
        _command_done(self)
        error = response['error'] if 'error' in response else pyghmi_util.get_ipmi_error(
            response, suffix=f' while requesting privilege level {self.privlevel}')
        if error:
            self.logged = 0
            self.logging = False
            self.onlogon({'error': error})
            return
        self.logging = False
        with pyghmi_util.protect(pyghmi_session.KEEPALIVE_SESSIONS):
            # Registered as pyghmi does: with keepalive=False it logs idle sessions out.
            self.keepalive_sessions[self] = {
                'ipmisession': self,
                'timeout': pyghmi_util._monotonic_time() + pyghmi_session.MAX_IDLE
                - random.random() * 4.9}
        self.onlogon({'success': True})


class _Sha1Session(_Session):
    force_sha1 = True


@dataclasses.dataclass(eq=False)
class _Op:
    info: IPMIInfo
    steps: list[tuple[int, int, tuple]]
    deliver: Any                       # callable(result dict), called in the pump thread
    responses: list[bytes] = dataclasses.field(default_factory=list)
    finished: bool = False


@dataclasses.dataclass(eq=False)
class _BmcState:
    session: _Session | None = None
    creds: tuple | None = None
    last_used: float = 0.0
    current: _Op | None = None
    queue: collections.deque = dataclasses.field(default_factory=collections.deque)


class _Pump:
    """The only thread that calls pyghmi: starts operations, handles every packet."""

    def __init__(self) -> None:
        self._calls: collections.deque = collections.deque()
        self._event = threading.Event()
        self._bmcs: dict[tuple[str, int], _BmcState] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name='ipmi-pyghmi', daemon=True)
        self._thread.start()

    def submit(self, fn: Any, *args: Any) -> None:
        self._calls.append((fn, args))
        self._event.set()

    def notify(self) -> None:
        """Packets are waiting in pyghmi's session queue (called by pyghmi's IO thread)."""
        self._event.set()

    def stop(self) -> None:
        self._stopping = True
        self._event.set()
        self._thread.join(5)

    def _run(self) -> None:
        next_tick = 0.0
        while not self._stopping:
            self._event.clear()   # before looking: a later set() ends the wait below
            while self._calls:
                fn, args = self._calls.popleft()
                try:
                    fn(*args)
                except Exception:
                    LOG.exception('IPMI pump: %s failed', getattr(fn, '__name__', fn))
            now = time.monotonic()
            if pyghmi_session.iothread is not None and (
                    pyghmi_session.sessionqueue or now >= next_tick):
                if now >= next_tick:
                    next_tick = now + _TICK
                try:
                    # timeout=0: handle queued packets, then retransmit/time-out/idle timers.
                    pyghmi_session.Session.wait_for_rsp(timeout=0)
                except Exception:
                    LOG.exception('IPMI pump: pyghmi event loop failed')
                continue
            self._event.wait(max(0.0, next_tick - now) or _TICK)
        for state in self._bmcs.values():
            self._drop_session(state, polite=True)

    # -- operations (pump thread only) --------------------------------------------------------

    def start(self, op: _Op) -> None:
        state = self._bmcs.setdefault((op.info.address, op.info.port), _BmcState())
        if state.current is not None:
            state.queue.append(op)
            return
        state.current = op
        self._advance(state, op)

    def abandon(self, op: _Op) -> None:
        """The caller gave up (time-out): forget the operation and its session."""
        state = self._bmcs.get((op.info.address, op.info.port))
        if op.finished or state is None:
            return
        op.finished = True
        if state.current is op:
            state.current = None
            self._drop_session(state, polite=False)
            self._next(state)
        elif op in state.queue:
            state.queue.remove(op)

    def _advance(self, state: _BmcState, op: _Op) -> None:
        """Start ``op``: on the BMC's session if it is still good, else after a new login."""
        io_thread = pyghmi_session.iothread
        if io_thread is not None and not io_thread.is_alive():
            self._finish(state, op, retryable=False,
                         error="pyghmi's IO thread has died (see the log); restart the process")
            return
        session = state.session
        if session is not None and state.creds == op.info.creds and session.logged \
                and not session.broken and not session.logging \
                and time.monotonic() - state.last_used < _REUSE_IDLE:
            self._send(state, op, session)
            return
        try:
            self._drop_session(state, polite=True)
            self._login(state, op)
        except Exception as e:  # pyghmi raises IpmiException, socket errors...
            self._drop_session(state, polite=False)
            self._finish(state, op, error=f'login failed: {e or repr(e)}', retryable=False)

    def _send(self, state: _BmcState, op: _Op, session: _Session) -> None:
        netfn, cmd, data = op.steps[len(op.responses)]
        try:
            session.raw_command(netfn=netfn, command=cmd, data=data, callback=functools.partial(
                self._got_response, state, op, session))
        except Exception as e:  # "Session no longer connected": try again with a new one
            self._drop_session(state, polite=False)
            self._finish(state, op, error=str(e) or repr(e), retryable=True)

    def _login(self, state: _BmcState, op: _Op) -> None:
        info = op.info
        cls = _Sha1Session if info.suites == {3} else _Session
        state.creds = info.creds
        session: list[_Session] = []

        def onlogon(response: dict) -> None:
            self.submit(self._logged_in, state, op, session[0], response)

        session.append(cls(bmc=info.address, userid=info.username.encode(),
                           password=info.password.encode(), port=info.port, kg=info.kg,
                           privlevel=info.priv_level, keepalive=False, onlogon=onlogon))
        state.session = session[0]
        state.last_used = time.monotonic()

    def _logged_in(self, state: _BmcState, op: _Op, session: _Session, response: dict) -> None:
        if state.session is not session:
            return                                  # abandoned meanwhile
        if 'error' in response:
            state.session = None
            error = _NO_ANSWER if response['error'] == 'timeout' else response['error']
            self._finish(state, op, error=error, retryable=error == _NO_ANSWER)
            return
        suite = 17 if session.currhashlib is hashlib.sha256 else 3
        if suite not in op.info.suites:
            self._drop_session(state, polite=True)
            self._finish(state, op, retryable=False, error=(
                f'the BMC uses cipher suite {suite}, allowed: {sorted(op.info.suites)} '
                '(ipmi_cipher_suite, [ipmi]cipher_suite_versions)'))
            return
        if not op.finished:
            self._send(state, op, session)

    def _got_response(self, state: _BmcState, op: _Op, session: _Session,
                      response: dict) -> None:
        _command_done(session)     # must happen now, in pyghmi's handler, not later
        self.submit(self._handle_response, state, op, session, response)

    def _handle_response(self, state: _BmcState, op: _Op, session: _Session,
                         response: dict) -> None:
        state.last_used = time.monotonic()
        if op.finished or state.current is not op:
            return
        if 'error' in response:                     # pyghmi gave up and broke the session
            if state.session is session:
                state.session = None
            self._finish(state, op, error=_NO_ANSWER, retryable=True)
            return
        if response['code']:
            code = response['code']
            self._finish(state, op, retryable=code in _RETRYABLE_CODES,
                         error=f'{pyghmi_util.get_ipmi_error(response)} ({code:#04x})')
            return
        op.responses.append(bytes(response['data']))
        if len(op.responses) < len(op.steps):
            self._send(state, op, session)
        else:
            self._finish(state, op, data=op.responses)

    def _finish(self, state: _BmcState, op: _Op, data: list | None = None,
                error: str | None = None, retryable: bool = False) -> None:
        if op.finished:
            return
        op.finished = True
        if state.current is op:
            state.current = None
        op.deliver({'data': data, 'error': error, 'retryable': retryable})
        self._next(state)

    def _next(self, state: _BmcState) -> None:
        if state.current is None and state.queue:
            state.current = state.queue.popleft()
            self._advance(state, state.current)

    @staticmethod
    def _drop_session(state: _BmcState, polite: bool) -> None:
        session, state.session = state.session, None
        if session is None or session.broken:
            return
        try:
            session.incommand = False    # else logout() waits for the abandoned command
            if polite and session.logged and not session.logging:
                session.logout()         # sends "close session", does not wait for the answer
            else:
                session._mark_broken('abandoned by ironic_lite')
        except Exception:
            LOG.debug('IPMI: dropping a session failed', exc_info=True)


_PUMP: _Pump | None = None
_PUMP_LOCK = threading.Lock()
_graball = pyghmi_session._io_graball


def _graball_and_notify(*args: Any) -> Any:
    """pyghmi's IO thread only wakes waiters that registered before a packet arrived, so a
    thread waiting in pyghmi misses answers that beat it (stalls until a timer). Instead, the
    IO thread tells the pump directly whenever it has queued packets."""
    sockaddrs = _graball(*args)
    pump = _PUMP
    if pump is not None and pyghmi_session.sessionqueue:
        pump.notify()
    return sockaddrs


pyghmi_session._io_graball = _graball_and_notify


class _PollSelect:
    """``select.select`` for pyghmi's IO thread, on poll(): select() raises ValueError for a
    descriptor above 1023 and that kills the IO thread, so a process with many open files
    (e.g. an in-process fake BMC fleet) would silently lose every IPMI answer."""

    @staticmethod
    def select(rlist: list, wlist: Any, xlist: Any, timeout: float | None = None) -> tuple:
        poller = select.poll()
        for sock in rlist:
            poller.register(sock, select.POLLIN)
        ready = {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}
        return [s for s in rlist if s.fileno() in ready], [], []


pyghmi_session.select = _PollSelect


def _pump() -> _Pump:
    global _PUMP
    with _PUMP_LOCK:
        if _PUMP is None:
            _PUMP = _Pump()
        return _PUMP


def shutdown() -> None:
    """Stop the pump thread (it starts again on the next call); for tests and shutdown."""
    global _PUMP
    with _PUMP_LOCK:
        pump, _PUMP = _PUMP, None
    if pump is not None:
        pump.stop()


# -- the asyncio side --------------------------------------------------------------------------

class _Gates:
    """Per event loop: a lock and the earliest next start per BMC, a global limit."""

    def __init__(self) -> None:
        self.locks: dict[tuple[str, int], asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self.next_at: dict[tuple[str, int], float] = {}
        self.limit = asyncio.Semaphore(CONF.ipmi.max_concurrent_operations)


_GATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _deliver(loop: asyncio.AbstractEventLoop, fut: asyncio.Future, result: dict) -> None:
    def resolve() -> None:
        if not fut.done():
            fut.set_result(result)
    try:
        loop.call_soon_threadsafe(resolve)
    except RuntimeError:
        pass  # the loop is closed: nobody is waiting any more


async def _resolve(address: str, port: int) -> str:
    try:
        ipaddress.ip_address(address)
        return address
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(address, port,
                                                             type=socket.SOCK_DGRAM)
        return infos[0][4][0]


async def call(info: IPMIInfo, steps: list[tuple[int, int, tuple]], what: str) -> list[bytes]:
    """Run IPMI requests on one BMC in order; return their response data."""
    loop = asyncio.get_running_loop()
    gates = _GATES.get(loop)
    if gates is None:
        gates = _GATES[loop] = _Gates()
    key = (info.address, info.port)
    timeout = CONF.ipmi.command_retry_timeout
    last_error: list[str] = []
    try:
        async with asyncio.timeout(timeout), gates.locks[key]:
            try:
                await asyncio.sleep(gates.next_at.get(key, 0) - loop.time())
                address = await _resolve(info.address, info.port)
                async with gates.limit:
                    return await _attempts(loop, dataclasses.replace(info, address=address),
                                           steps, what, last_error)
            finally:
                gates.next_at[key] = loop.time() + CONF.ipmi.min_command_interval
    except TimeoutError:
        why = f' ({last_error[-1]})' if last_error else ''
        raise exception.IPMIFailure(
            bmc=info.bmc, reason=f'{what}: timed out after {timeout} s{why}') from None
    except OSError as e:   # name resolution
        raise exception.IPMIFailure(bmc=info.bmc, reason=f'{what}: {e}') from None


class _Transient(Exception):
    """A failure worth another attempt (no answer, BMC busy)."""


async def _attempts(loop: asyncio.AbstractEventLoop, info: IPMIInfo, steps: list, what: str,
                    last_error: list[str]) -> list[bytes]:
    """Attempts ``_RETRY_DELAY`` apart until one succeeds or fails for good; the caller's
    ``asyncio.timeout`` (``[ipmi]command_retry_timeout``) ends them."""
    pump = _pump()

    async def attempt() -> list[bytes]:
        fut = loop.create_future()
        op = _Op(info, steps, functools.partial(_deliver, loop, fut))
        pump.submit(pump.start, op)
        try:
            result = await fut
        except asyncio.CancelledError:   # the deadline passed while the BMC had the request
            pump.submit(pump.abandon, op)
            last_error.append(_NO_ANSWER)
            raise
        if result['error'] is None:
            return result['data']
        if not result['retryable']:
            raise exception.IPMIFailure(bmc=info.bmc, reason=f'{what}: {result["error"]}')
        last_error.append(result['error'])
        raise _Transient(result['error'])

    def log_retry(state: tenacity.RetryCallState) -> None:
        LOG.debug('IPMI %s on %s failed, retrying: %s', what, info.bmc,
                  state.outcome.exception())

    return await tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type(_Transient), stop=tenacity.stop_never,
        wait=tenacity.wait_fixed(_RETRY_DELAY), before_sleep=log_retry)(attempt)
