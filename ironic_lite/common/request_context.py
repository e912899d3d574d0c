"""The request context (oslo.context's ``RequestContext``): who asked for a piece of work and
under which request id — from the API, through RPC (serialised in every message), into the
conductor's task and into every log line of that work.

asyncio runs many requests on one thread, so the current context lives in a ``ContextVar``
(oslo.context's own store is thread-local). Tasks created while a context is current inherit
it: the worker a cast starts logs under the request that caused it. :func:`install_logging`
hands the current context to oslo.log's formatter, whose ``logging_context_format_string``
shows ``[global_request_id request_id user project ...]`` in each line.
"""
from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from oslo_context import context as oslo_context

RequestContext = oslo_context.RequestContext
generate_request_id = oslo_context.generate_request_id

_CURRENT: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    'ironic_lite_request_context', default=None)

# What a client may pass in X-OpenStack-Request-Id to be logged as the global request id
# (oslo.middleware's rule: only a well-formed id, never arbitrary text in our logs).
_REQUEST_ID = re.compile(r'^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$')
# Never sent over RPC nor stored with an intent: the conductor does not act as the caller.
_SECRET_KEYS = ('auth_token', 'service_token')


def current() -> RequestContext | None:
    return _CURRENT.get()


def set_current(ctx: RequestContext | None) -> contextvars.Token:
    return _CURRENT.set(ctx)


@contextmanager
def bound(ctx: RequestContext | None) -> Iterator[RequestContext | None]:
    """Make ``ctx`` current for the block (and for tasks created in it)."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def global_request_id(value: str | None) -> str | None:
    """An inbound request id worth logging as the global one, as oslo.middleware accepts it."""
    return value if value and _REQUEST_ID.match(value) else None


def to_message(ctx: RequestContext | None) -> dict[str, Any]:
    """The JSON form that travels in an RPC message or with a stored intent."""
    if ctx is None:
        return {}
    values = ctx.to_dict()
    for key in _SECRET_KEYS:
        values.pop(key, None)
    return values


def from_message(values: Any) -> RequestContext | None:
    """The context of a message (a dict; an empty one from a sender that had none)."""
    if isinstance(values, RequestContext):
        return values
    if not values:
        return None
    return RequestContext.from_dict(values, overwrite=False)


_installed = False


def install_logging() -> None:
    """Attach the current context to every log record (``record.context``, which oslo.log's
    ContextFormatter reads). Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        ctx = _CURRENT.get()
        if ctx is not None:
            record.context = ctx
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
