#!/usr/bin/env bash
# Install ironic_lite in a virtualenv and run the all-in-one service (API + conductor in one
# process, in-process RPC, SQLite) on http://127.0.0.1:6385. Arguments go to ironic-lite,
# e.g. --config-file /etc/ironic_lite/ironic_lite.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e .
if [ "$#" -eq 0 ]; then
  mkdir -p state
  cat > state/ironic_lite-aio.conf <<CONF
[DEFAULT]
state_path = $PWD/state
[api]
host_ip = ${IRONIC_LITE_HOST_IP:-127.0.0.1}
port = ${IRONIC_LITE_PORT:-6385}
CONF
  set -- --config-file state/ironic_lite-aio.conf
fi
exec .venv/bin/ironic-lite "$@"
