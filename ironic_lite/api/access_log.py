"""One INFO line per API request: client, method, path, status, length, time, request id.

The line upstream's ironic-api (oslo.service's WSGI server) writes, plus the request id the
API returns in ``X-OpenStack-Request-Id`` — what an operator greps for when a client reports
one. Logger ``ironic_lite.api.access``: silence it with oslo.log's ``default_log_levels``
(``ironic_lite.api.access=WARNING``).
"""
from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

LOGGER = logging.getLogger('ironic_lite.api.access')
REQUEST_ID_HEADER = 'X-OpenStack-Request-Id'


class AccessLogger(AbstractAccessLogger):
    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" status: %s len: %s time: %.4f %s',
                         request.remote, request.method, request.path_qs, response.status,
                         response.body_length, time,
                         response.headers.get(REQUEST_ID_HEADER, '-'))
