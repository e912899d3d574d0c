#!/usr/bin/env bash
# Install ironic_lite in a virtualenv and run the all-in-one service (API + conductor in one
# process, in-process RPC, SQLite) on http://127.0.0.1:6385, fake-hardware enabled.
#
# Arguments go to ironic-lite, e.g. --config-file my.conf. The generated configuration
# (state/ironic_lite-aio.conf: state_path, [api]host_ip and port) is always read first and
# yours after it, so your files only need what they change (e.g. enabled_hardware_types),
# and the API stays on loopback unless you set [api]host_ip.
#
# Environment: IRONIC_LITE_CLIENTS=1 also installs the openstack CLI (python-openstackclient,
# python-ironicclient) into .venv; IRONIC_LITE_HOST_IP, IRONIC_LITE_PORT change the address.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e .
if [ "${IRONIC_LITE_CLIENTS:-0}" = 1 ]; then
  .venv/bin/pip install -q python-openstackclient python-ironicclient
  echo "run-aio: the openstack CLI is .venv/bin/openstack (export PATH=\"$PWD/.venv/bin:\$PATH\")"
fi
mkdir -p state
cat > state/ironic_lite-aio.conf <<CONF
# Written by tools/run-aio.sh at every start; put your changes in your own file.
[DEFAULT]
state_path = $PWD/state
[api]
host_ip = ${IRONIC_LITE_HOST_IP:-127.0.0.1}
port = ${IRONIC_LITE_PORT:-6385}
CONF
exec .venv/bin/ironic-lite --config-file state/ironic_lite-aio.conf "$@"
