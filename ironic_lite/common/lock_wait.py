"""The bounded wait for a node's lock: one policy for the conductor and the API.

``[conductor]node_locked_retry_attempts`` retries, ``node_locked_retry_interval`` seconds
apart, after the first try. The conductor's task manager waits this way to take a lock; the
API waits this way for a lock (or an accepted request) to end before it answers 409, as
upstream's conductor does for a request it validates under the node's lock. Both build their
tenacity loop here, so the two can never drift apart. (In ``common/``: the API must not import
the conductor.)
"""
from __future__ import annotations

from typing import Any

import tenacity
from oslo_config import cfg


def retrying(conf: cfg.ConfigOpts, retry: tenacity.retry_base, *,
             patient: bool = False, **kwargs: Any) -> tenacity.AsyncRetrying:
    """A tenacity loop with the lock-retry policy: ``retry`` says which outcomes mean "still
    locked"; *patient* waits for as long as it takes. The last outcome is re-raised (an
    exception) or returned (a result) when the retries run out, unless ``kwargs`` (any other
    ``AsyncRetrying`` argument) say otherwise."""
    policy = conf.conductor
    stop = (tenacity.stop_never if patient
            else tenacity.stop_after_attempt(policy.node_locked_retry_attempts + 1))
    kwargs.setdefault('wait', tenacity.wait_fixed(policy.node_locked_retry_interval))
    kwargs.setdefault('reraise', True)
    kwargs.setdefault('retry_error_callback', _last_result)
    return tenacity.AsyncRetrying(retry=retry, stop=stop, **kwargs)


def _last_result(state: tenacity.RetryCallState) -> Any:
    """Out of retries on a result (not an exception): that last result is the answer."""
    return state.outcome.result()
