"""The clients' own test suites pass against live deployments (issue 8, "done when").

openstacksdk's functional bare-metal tests and ironic-tempest-plugin's API tests, installed
from PyPI into their own virtualenv, run against the all-in-one daemon and against API +
conductor over RabbitMQ and PostgreSQL, through ``tools/client-suites.sh``: the same command a
developer runs. It fails on any test failure not in the script's reviewed
``EXPECTED_FAILURES`` list, on a listed test that now passes, and on a suite that did not run;
the assertion message is the script's summary (counts and the cause of each failure).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ironic_lite.testing import services
from tests.conftest import require

pytestmark = [pytest.mark.rabbit, pytest.mark.slow]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_openstacksdk_and_tempest_suites(tmp_path):
    require(services.rabbit_available(), 'RabbitMQ')
    require(services.postgresql_available(), 'PostgreSQL')
    env = dict(os.environ, IRONIC_LITE_VENV=os.path.dirname(os.path.dirname(sys.executable)))
    proc = subprocess.run([os.path.join(ROOT, 'tools', 'client-suites.sh'),
                           '--workdir', str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    out = proc.stdout
    summary = out[out.find('=== client suites'):] if '=== client suites' in out else out
    assert proc.returncode == 0, f'{summary[:20000]}\n{proc.stderr[-5000:]}'
