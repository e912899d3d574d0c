"""Schemathesis against the OpenAPI description served by a live all-in-one ``ironic-lite``.

A real subprocess (SQLite, unique port) serves ``/v1/openapi.json``; the test gives the path
parameters the names of a node and a port that exist (so operations reach past 404) and runs
``st run`` with only the ``not_a_server_error`` check: no generated request may get a 5xx.
The run is bounded (examples per operation and a time budget) to stay under ~2 minutes.
"""
from __future__ import annotations

import json
import os
import subprocess

import requests

from ironic_lite.testing import processes, services
from ironic_lite.testing.cluster import API_READY

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
MAX_EXAMPLES = int(os.environ.get('IRONIC_LITE_TEST_SCHEMATHESIS_EXAMPLES', '10'))
MAX_TIME = int(os.environ.get('IRONIC_LITE_TEST_SCHEMATHESIS_SECONDS', '75'))


def _pin_path_parameters(doc: dict, values: dict[str, list[str]]) -> dict:
    """Path parameters named in ``values`` take one of those values."""
    for item in doc['paths'].values():
        for op in item.values():
            for param in op.get('parameters', []):
                if param['in'] == 'path' and param['name'] in values:
                    param['schema'] = {'type': 'string', 'enum': values[param['name']]}
    return doc


def test_schemathesis_finds_no_server_error(tmp_path):
    port = services.free_port()
    daemon = processes.Daemon('ironic-lite', {
        'DEFAULT': {'host': 'schemathesis', 'state_path': str(tmp_path)},
        'api': {'host_ip': '127.0.0.1', 'port': port},
    }, ready_text=API_READY, workdir=str(tmp_path))
    daemon.start()
    try:
        base = f'http://127.0.0.1:{port}'
        node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10, json={
            'driver': 'fake-hardware', 'name': 'st-node',
            # an associated instance keeps the node from being deleted half-way
            'instance_uuid': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'}).json()
        assert 'uuid' in node, node
        nic = requests.post(f'{base}/v1/ports', headers=HEADERS, timeout=10, json={
            'node_uuid': node['uuid'], 'address': '52:54:00:aa:bb:cc'}).json()
        assert 'uuid' in nic, nic
        doc = requests.get(f'{base}/v1/openapi.json', timeout=10).json()
        nodes = [node['uuid'], 'st-node']
        doc = _pin_path_parameters(doc, {
            'node_ident': nodes, 'node_id': nodes, 'port_id': [nic['uuid']],
            'driver_name': ['fake-hardware'], 'hostname': ['schemathesis']})
        schema = tmp_path / 'openapi.json'
        schema.write_text(json.dumps(doc))
        cmd = [processes.console_script('st'), 'run', str(schema), '--url', base,
               '--checks', 'not_a_server_error', '--max-examples', str(MAX_EXAMPLES),
               # one worker: hypothesis' lambda-source parsing is not thread-safe on 3.11
               # ("AST constructor recursion depth mismatch" errors with several workers)
               '--seed', '20261121', '--workers', '1', '--max-time', str(MAX_TIME),
               '--phases', 'examples,coverage,fuzzing', '--no-color',
               '--header', 'X-Auth-Token: notused', '--request-timeout', '30']
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=MAX_TIME + 120,
                                cwd=str(tmp_path))
        assert result.returncode == 0, (result.stdout[-8000:], result.stderr[-3000:],
                                        daemon.log_tail(80))
        assert 'not_a_server_error' in result.stdout or 'passed' in result.stdout
    finally:
        assert daemon.stop() == 0, daemon.log_tail()
