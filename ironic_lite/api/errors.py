"""The one place that turns exceptions into Ironic's HTTP error responses.

Ironic's body is ``{"error_message": "<JSON string>"}`` where the string encodes
``{"faultcode", "faultstring", "debuginfo"}`` — python-ironicclient expects a string there.
Client mistakes are 4xx with a clear message; anything unexpected is a 500 without a traceback
in the body (the traceback goes to the log).
"""
from __future__ import annotations

import json
import logging

from aiohttp import web

from ironic_lite.common import exception

LOG = logging.getLogger(__name__)


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


def to_response(err: BaseException) -> web.Response:
    if isinstance(err, exception.IronicLiteException):
        status = int(err.code)
        if status >= 500:
            LOG.error('%s: %s', err.__class__.__name__, _message(err))
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
    LOG.exception('Unexpected error in the API')
    return error_response(500, 'Internal Server Error: the error has been logged.')
