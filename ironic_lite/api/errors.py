"""The one place that turns exceptions into Ironic's HTTP error responses.

Ironic's body is ``{"error_message": "<JSON string>"}`` where the string encodes
``{"faultcode", "faultstring", "debuginfo"}`` — python-ironicclient expects a string there.
Client mistakes are 4xx with a clear message; an unreachable database is a 503; anything
unexpected is a 500 without a traceback in the body (the traceback goes to the log). Logs get
one line per event, a traceback only for unexpected errors, and repeats of one kind within a
few seconds are counted instead of logged (``common/log_limit.py``).
"""
from __future__ import annotations

import json
import logging
import traceback

from aiohttp import web

from ironic_lite.common import db_outage as outage
from ironic_lite.common import exception, log_limit

LOG = logging.getLogger(__name__)
# One line per kind of failure every few seconds, however many requests fail the same way
# (a database outage fails them all); the first unexpected error of a kind keeps its traceback.
_REPEATS = log_limit.RepeatLimiter(interval=10.0)


def error_response(status: int, message: str) -> web.Response:
    fault = {'faultcode': 'Client' if status < 500 else 'Server',
             'faultstring': message, 'debuginfo': None}
    return web.json_response({'error_message': json.dumps(fault)}, status=status)


_TRACEBACK = 'Traceback (most recent call last):'


def _message(err: BaseException) -> str:
    """The exception's message without a remote traceback.

    Transport failures arrive as project exceptions (``common/rpc.py`` translates them);
    oslo.messaging re-raises a conductor's exception on the API side with the conductor's
    traceback appended to its message; clients must never see it (upstream strips it too).
    """
    text = str(err)
    cut = text.find(_TRACEBACK)
    if cut != -1:
        text = text[:cut].rstrip()
    return text or err.__class__.__name__


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [''])[0][:300]


def _where(err: BaseException) -> str:
    """Where an unexpected error was raised: the same bug has the same key."""
    frames = traceback.extract_tb(err.__traceback__)
    return f'{frames[-1].filename}:{frames[-1].lineno}' if frames else ''


def to_response(err: BaseException) -> web.Response:
    if outage.is_unavailable(err):
        # a temporary condition: 503, never a 500 with a traceback per request
        _REPEATS.log(LOG, logging.WARNING, ('db', type(err).__name__),
                     'Database unavailable, answering 503: %s', outage.summary(err))
        return error_response(503, 'The database is unavailable; please retry later.')
    if isinstance(err, ConnectionResetError):
        # The client went away (e.g. mid-body): nobody reads this answer, nothing is wrong here.
        _REPEATS.log(LOG, logging.INFO, ('disconnect',),
                     'Client disconnected before its request was read: %s', err)
        return error_response(400, 'The client disconnected.')
    if isinstance(err, exception.IronicLiteException):
        status = int(err.code)
        if status >= 500:
            _REPEATS.log(LOG, logging.ERROR, (type(err).__name__, _message(err)[:100]),
                         '%s: %s', err.__class__.__name__, _message(err))
        response = error_response(status, _message(err))
        response.headers.update(getattr(err, 'headers', None) or {})  # WWW-Authenticate
        return response
    if isinstance(err, web.HTTPException):
        status = err.status
        message = err.text or err.reason
        if status == 413:
            message = 'Request body is too large.'
        if status == 405:
            message = 'The method is not allowed for this resource.'
        if status == 404 and (not err.text or err.text.startswith('404')):
            message = 'The resource could not be found.'
        response = error_response(status, message)
        if 'Allow' in err.headers:
            response.headers['Allow'] = err.headers['Allow']
        return response
    # A real bug: its traceback, once per place and interval.
    _REPEATS.log(LOG, logging.ERROR, ('bug', type(err).__name__, _where(err)),
                 'Unexpected error in the API: %s: %s', type(err).__name__, _first_line(err),
                 exc_info=err)
    return error_response(500, 'Internal Server Error: the error has been logged.')
