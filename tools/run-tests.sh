#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: system services, a virtualenv with the project
# and its test requirements, lint, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/ensure-services.sh

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e . -r test-requirements.txt

.venv/bin/ruff check ironic_lite tests bench tools
exec .venv/bin/pytest -p no:cacheprovider "$@"
