"""Process set-up that must run before any other import in a daemon.

ironic_lite runs on asyncio and threads; it never uses eventlet. eventlet is installed only as a
dependency of oslo.service, and futurist and oslo.service import it when they find it (~17 MiB
of RSS and ~0.5 s of start-up per process). The daemons block it and select oslo.service's
threading backend (what oslo.messaging's threading executor needs) before anything imports them.
"""
import sys

sys.modules.setdefault('eventlet', None)  # type: ignore[arg-type]

from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)
