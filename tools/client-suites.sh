#!/usr/bin/env bash
# Clients' own test suites against live ironic_lite deployments: openstacksdk's functional
# bare-metal tests and ironic-tempest-plugin's API tests, on the all-in-one daemon and on
# API + conductor over RabbitMQ (tools/client_suites.py says how they are judged).
# The suites live in their own virtualenv ($IRONIC_LITE_SUITES_VENV, default .venv-suites),
# installed from tools/client-suites-requirements.txt and reinstalled only when that file
# changes; the product's .venv ($IRONIC_LITE_VENV, default .venv) stays as it is.
# Arguments go to tools/client_suites.py, e.g. --deployment aio --suite tempest.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${IRONIC_LITE_VENV:-.venv}
SUITES_VENV=${IRONIC_LITE_SUITES_VENV:-.venv-suites}
REQS=tools/client-suites-requirements.txt
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q -e . -r test-requirements.txt
fi
if ! cmp -s "$REQS" "$SUITES_VENV/installed-requirements.txt"; then
  [ -x "$SUITES_VENV/bin/python" ] || "$PY" -m venv "$SUITES_VENV"
  "$SUITES_VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$SUITES_VENV/bin/pip" install -q -r "$REQS"
  cp "$REQS" "$SUITES_VENV/installed-requirements.txt"
fi
exec "$VENV/bin/python" tools/client_suites.py --suites-venv "$SUITES_VENV" "$@"
