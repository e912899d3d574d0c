"""Clients' own test suites against a live ironic_lite: openstacksdk's functional bare-metal
tests and ironic-tempest-plugin's API tests (the contract tests upstream Ironic runs in its
gate), each installed from PyPI into a virtualenv of their own.

A :class:`Deployment` is ironic_lite as an operator runs it — the all-in-one daemon, or
``ironic-lite-api`` + ``ironic-lite-conductor`` over RabbitMQ with PostgreSQL — with
``fake-hardware`` and ``ipmi`` enabled as in upstream's API test job. :func:`run_sdk` and
:func:`run_tempest` run one suite against it and return every test's outcome, read from the
suite's subunit stream. What counts as a failure is decided by the caller
(``tools/client_suites.py``, which holds the reviewed list of expected failures).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import time
from typing import Any

import requests

from ironic_lite.conf import default
from ironic_lite.testing import aio, cluster, services
from ironic_lite.testing.identity import FakeIdentity

# Upstream's API test job enables fake-hardware with every fake interface, and ipmi (whose
# tests switch a node's driver to it); the suites' own configs below say the same.
_IPMI_INTERFACES: dict[str, list[str]] = {
    'boot': ['pxe', 'ipxe'], 'deploy': ['direct', 'iscsi'],
    'management': ['ipmitool'], 'power': ['ipmitool']}
INTERFACES: dict[str, list[str]] = {
    itype: fakes + _IPMI_INTERFACES.get(itype, [])
    for itype, fakes in default.FAKE_INTERFACES.items()}
HARDWARE_TYPES = ['fake-hardware', 'ipmi']

# Per-test deadline for both suites (oslotest's default of 5 s is meant for unit tests; the
# suites' own tox files use minutes) and for the SDK's wait_for_* helpers.
TEST_TIMEOUT = 300
WAIT_TIMEOUT = 120
# Outcomes of a subunit stream, as testtools names them.
FAILED = ('fail', 'uxsuccess')


def _product_options(workdir: str) -> dict[str, dict[str, Any]]:
    tftp_root = os.path.join(workdir, 'tftpboot')
    defaults: dict[str, Any] = {'enabled_hardware_types': HARDWARE_TYPES}
    defaults.update({f'enabled_{k}_interfaces': v for k, v in INTERFACES.items()})
    return {
        'DEFAULT': defaults,
        'pxe': {'tftp_root': tftp_root,
                'tftp_master_path': os.path.join(tftp_root, 'master_images'),
                'tftp_server': '127.0.0.1'},
        'dhcp': {'dhcp_provider': 'none'},
        # The test helpers shorten the lock retries for speed; here clients meet upstream's
        # (and ironic_lite's) default patience for a node another request holds.
        'conductor': {'node_locked_retry_interval': 1.0},
    }


class Deployment:
    """A live ironic_lite: ``kind`` is ``aio`` or ``split``."""

    def __init__(self, kind: str, workdir: str) -> None:
        self.kind = kind
        self.workdir = workdir
        self.url = ''
        self._cleanups: list = []
        self._aio: aio.AioDaemon | None = None
        self._split: cluster.SplitCluster | None = None

    def start(self) -> Deployment:
        os.makedirs(self.workdir, exist_ok=True)
        options = _product_options(self.workdir)
        try:
            if self.kind == 'aio':
                self._aio = aio.AioDaemon(self.workdir, options).start()
                self.url = self._aio.url
            elif self.kind == 'split':
                self._start_split(options)
            else:
                raise ValueError(f'unknown deployment {self.kind!r}')
        except BaseException:
            self.stop()
            raise
        return self

    def _start_split(self, options: dict[str, dict[str, Any]]) -> None:
        if not services.rabbit_available():
            raise RuntimeError('split mode needs RabbitMQ on 127.0.0.1:5672 '
                               '(tools/ensure-services.sh starts it)')
        transport_url, delete_vhost = services.fresh_rabbit_vhost()
        self._cleanups.append(delete_vhost)
        db_url = None
        if services.postgresql_available() and importlib.util.find_spec('psycopg2'):
            db_url, drop = services.fresh_database('postgresql')
            self._cleanups.append(drop)
        self._split = cluster.SplitCluster(transport_url, db_url=db_url, workdir=self.workdir,
                                           conductor_options=options, api_options=options)
        self._split.start()
        self.url = self._split.url

    def stop(self) -> None:
        if self._aio is not None:
            self._aio.stop()
        if self._split is not None:
            self._split.stop()
        for cleanup in reversed(self._cleanups):
            cleanup()
        self._cleanups.clear()

    def max_version(self) -> str:
        resp = requests.get(f'{self.url}/v1', timeout=30)
        resp.raise_for_status()
        return resp.json()['version']['version']

    def database(self) -> str:
        if self._split is not None:
            return self._split.db_url.split(':', 1)[0]
        return 'sqlite'


@dataclasses.dataclass
class Outcome:
    """One test of a suite: its id without tempest's ``[id-…,tag]`` suffix."""
    test: str
    status: str
    details: str = ''


@dataclasses.dataclass
class SuiteRun:
    suite: str
    deployment: str
    outcomes: list[Outcome]
    returncode: int
    seconds: float
    log: str

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.outcomes if o.status in statuses)


# Turns a subunit v2 stream into one JSON line per test; runs in the suites' virtualenv,
# which has python-subunit and testtools (stestr's dependencies).
_SUBUNIT_TO_JSON = r'''
import json, sys
import subunit, testtools

def text(details, key):
    content = details.get(key)
    return content.as_text() if content is not None else ''

def emit(test):
    details = test['details']
    print(json.dumps({'id': test['id'], 'status': test['status'],
                      'details': text(details, 'traceback') or text(details, 'reason')}))

stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name='stdout')
result = testtools.StreamToDict(emit)
result.startTestRun()
stream.run(result)
result.stopTestRun()
'''


def _bin(venv: str, name: str) -> str:
    return os.path.join(venv, 'bin', name)


def site_packages(venv: str) -> str:
    out = subprocess.run([_bin(venv, 'python'), '-c',
                          'import openstack, os; '
                          'print(os.path.dirname(os.path.dirname(openstack.__file__)))'],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without cloud settings, which would redirect the clients."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'OPENSTACKSDK_', 'TEMPEST_'))}
    env.update(OS_TEST_TIMEOUT=str(TEST_TIMEOUT), PYTHONUNBUFFERED='1', **extra)
    return env


def _run_stestr(venv: str, command: list[str], cwd: str, env: dict[str, str],
                suite: str, deployment: str, timeout: float) -> SuiteRun:
    log = os.path.join(cwd, f'{suite}.log')
    start = time.monotonic()
    with open(log, 'w') as out:
        try:
            rc = subprocess.run(command, cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = -1
            out.write(f'\n*** {suite} did not finish in {timeout}s\n')
    seconds = time.monotonic() - start
    last = subprocess.run([_bin(venv, 'stestr'), 'last', '--subunit'], cwd=cwd, env=env,
                          capture_output=True)
    parsed = subprocess.run([_bin(venv, 'python'), '-c', _SUBUNIT_TO_JSON], input=last.stdout,
                            capture_output=True, check=True)
    # A class-level skip or error is reported by every worker that ran a test of the class:
    # keep one outcome per id, the failure if there is one.
    outcomes: dict[str, Outcome] = {}
    for line in parsed.stdout.decode().splitlines():
        item = json.loads(line)
        if item['status'] in ('exists', 'inprogress'):
            continue
        test = re.sub(r'\[[^\]]*\]$', '', item['id'])
        if test not in outcomes or item['status'] in FAILED:
            outcomes[test] = Outcome(test, item['status'], item['details'])
    return SuiteRun(suite, deployment, list(outcomes.values()), rc, seconds, log)


def run_sdk(venv: str, deployment: Deployment, workdir: str, concurrency: int,
            regex: str = '', timeout: float = 1200) -> SuiteRun:
    """openstacksdk's ``openstack/tests/functional/baremetal`` with ``auth_type: none``, one
    test at a time whatever ``concurrency`` says (see below).

    ``auth.endpoint`` makes keystoneauth's version discovery (and so the tests'
    ``min_microversion`` checks) see the API; without it every test that needs a microversion
    skips. ``has_compute``/``has_image`` false: the base class otherwise looks for a flavor and
    an image through the same endpoint.
    """
    os.makedirs(workdir, exist_ok=True)
    cloud = {'auth_type': 'none', 'auth': {'endpoint': deployment.url},
             'baremetal_endpoint_override': deployment.url,
             'has_compute': False, 'has_image': False}
    names = ('devstack', 'devstack-alt', 'devstack-admin', 'devstack-system-admin')
    clouds = os.path.join(workdir, 'clouds.yaml')
    with open(clouds, 'w') as f:
        json.dump({'clouds': {name: cloud for name in names}}, f, indent=1)  # JSON is YAML
    sp = site_packages(venv)
    # --serial as in openstacksdk's own functional job: some tests list every allocation or
    # node and expect to see only their own.
    command = [_bin(venv, 'stestr'), '--test-path',
               os.path.join(sp, 'openstack', 'tests', 'functional', 'baremetal'),
               '--top-dir', sp, 'run', '--serial', *([regex] if regex else [])]
    env = _clean_env(OS_CLIENT_CONFIG_FILE=clouds,
                     OPENSTACKSDK_FUNC_TEST_TIMEOUT=str(WAIT_TIMEOUT))
    return _run_stestr(venv, command, workdir, env, 'sdk', deployment.kind, timeout)


def _tempest_conf(workdir: str, identity: str, max_version: str, accounts: str) -> str:
    iface = {f'enabled_{k}_interfaces': ','.join(v) for k, v in INTERFACES.items()}
    sections: dict[str, dict[str, Any]] = {
        'DEFAULT': {'log_file': os.path.join(workdir, 'tempest.log')},
        'oslo_concurrency': {'lock_path': os.path.join(workdir, 'lock')},
        'auth': {'use_dynamic_credentials': False, 'test_accounts_file': accounts,
                 'default_credentials_domain_name': 'Default',
                 'create_isolated_networks': False},
        'identity': {'uri_v3': f'{identity}/v3', 'auth_version': 'v3',
                     'region': 'RegionOne'},
        'identity-feature-enabled': {'api_v2': False},
        'service_available': {'ironic': True, 'nova': False, 'glance': False,
                              'neutron': False, 'cinder': False, 'swift': False},
        # Scope enforcement (RBAC tests, API >= 1.70) is outside the declared range; the
        # API runs with auth_strategy = noauth.
        'enforce_scope': {'ironic': False},
        'baremetal': {'driver': 'fake-hardware', 'min_microversion': '1.1',
                      'max_microversion': max_version,
                      'enabled_hardware_types': ','.join(HARDWARE_TYPES), **iface,
                      'power_timeout': WAIT_TIMEOUT, 'unprovision_timeout': WAIT_TIMEOUT,
                      'deploywait_timeout': WAIT_TIMEOUT, 'active_timeout': WAIT_TIMEOUT,
                      'association_timeout': WAIT_TIMEOUT},
    }
    lines = []
    for section, options in sections.items():
        lines.append(f'[{section}]')
        lines += [f'{k} = {str(v).lower() if isinstance(v, bool) else v}'
                  for k, v in options.items()]
    path = os.path.join(workdir, 'etc', 'tempest.conf')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def _accounts(workdir: str, concurrency: int) -> str:
    """Pre-provisioned accounts: tempest locks one project admin and one system admin per
    test class, so each worker needs its own pair (two workers on one pair collide)."""
    accounts = []
    for i in range(concurrency):
        accounts.append({'username': f'admin-{i}', 'project_name': f'admin-project-{i}',
                         'password': 'unused', 'roles': ['admin', 'member', 'reader'],
                         'types': ['admin']})
        accounts.append({'username': f'system-admin-{i}', 'system': 'all',
                         'password': 'unused', 'roles': ['admin', 'member', 'reader']})
    path = os.path.join(workdir, 'etc', 'accounts.yaml')
    with open(path, 'w') as f:
        json.dump(accounts, f, indent=1)
    return path


def run_tempest(venv: str, deployment: Deployment, workdir: str, concurrency: int,
                regex: str = '', timeout: float = 1200) -> SuiteRun:
    """ironic-tempest-plugin's ``tests/api`` through ``tempest run``, authenticating against
    :class:`FakeIdentity` (whose catalog points at the deployment), up to the microversion the
    API declares. ``regex`` narrows the tests further (searched in the test id)."""
    os.makedirs(os.path.join(workdir, 'etc'), exist_ok=True)
    os.makedirs(os.path.join(workdir, 'lock'), exist_ok=True)
    identity = FakeIdentity({'baremetal': deployment.url}).start()
    try:
        accounts = _accounts(workdir, concurrency)
        _tempest_conf(workdir, identity.url, deployment.max_version(), accounts)
        with open(os.path.join(workdir, '.stestr.conf'), 'w') as f:
            f.write(f'[DEFAULT]\ntest_path={site_packages(venv)}/tempest/test_discover\n'
                    f'top_dir={site_packages(venv)}\n')
        pattern = r'^ironic_tempest_plugin\.tests\.api\.' + (f'.*{regex}' if regex else '')
        command = [_bin(venv, 'tempest'), 'run', '--regex', pattern,
                   '--concurrency', str(concurrency)]
        env = _clean_env(TEMPEST_CONFIG_DIR=os.path.join(workdir, 'etc'),
                         TEMPEST_CONFIG='tempest.conf')
        return _run_stestr(venv, command, workdir, env, 'tempest', deployment.kind, timeout)
    finally:
        identity.stop()


SUITES = {'sdk': run_sdk, 'tempest': run_tempest}

