#!/usr/bin/env bash
# Try ironic_lite without hardware: deploy IMAGE (raw/qcow2 file or http(s) URL) onto a qemu
# machine behind ironic-lite-vbmc, all inside a network namespace (needs root).
#   tools/try-it.sh IMAGE [DISK_FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -ge 1 ] || { echo "usage: $0 IMAGE [DISK_FILE]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "try-it: run as root (network namespace, taps, dnsmasq)" >&2; exit 2; }
IRONIC_LITE_MACHINES_ONLY=1 ./tools/ensure-services.sh
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q -e . >/dev/null 2>&1 || { echo 'try-it: pip install failed' >&2; exit 1; }
exec .venv/bin/python tools/try_it.py "$@"
