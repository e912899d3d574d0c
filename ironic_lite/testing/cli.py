"""The real ``openstack baremetal`` CLI (python-ironicclient's plugin) run against an
ironic_lite API without authentication, whatever cloud settings the caller's environment
holds."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys


def openstack_baremetal(url: str, *args: str, timeout: float = 120,
                        prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``openstack baremetal *args`` against ``url``; output captured as text, not checked.
    ``prefix`` runs it through another command (``ip netns exec NAME``)."""
    exe = os.path.join(os.path.dirname(sys.executable), 'openstack')
    exe = exe if os.path.exists(exe) else shutil.which('openstack')
    assert exe, 'the openstack CLI is missing: install test-requirements.txt'
    env = dict(os.environ, OS_AUTH_TYPE='none', OS_ENDPOINT=url)
    for var in ('OS_CLOUD', 'OS_AUTH_URL', 'OS_BAREMETAL_API_VERSION'):
        env.pop(var, None)
    return subprocess.run([*prefix, exe, 'baremetal', *args], capture_output=True, text=True,
                          env=env,
                          timeout=timeout)
