#!/bin/bash
# Run the peer's bench_ironic.py (upstream Ironic's benchmark, plain `requests`) against
# ironic_lite's all-in-one, exactly as /tmp/peer_ironic/run_aio_bench.sh runs it against
# upstream: fresh DB, start, 20 s idle, bench, wrk cross-check, 30 s idle, memory, stop.
# Needs the peer folder set up (cp -r /work/shared/peer-ironic /tmp/peer_ironic; bash setup.sh)
# for bench_ironic.py, its venv (requests) and wrk_get_node.lua.
# Usage: bench/run_bench_ironic_vs_lite.sh TAG [CONC] [PHASES, default abxcd] [OUTDIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(dirname "$HERE")
P=/tmp/peer_ironic; TAG=${1:-lite}; CONC=${2:-8}; ONLY=${3:-abxcd}
OUT=${4:-$HERE/results}; mkdir -p "$OUT"
PORT=${LITE_PORT:-6386}; URL=http://127.0.0.1:$PORT
W=$(mktemp -d /tmp/ironic_lite_vs_XXXXXX)
cat > $W/aio.conf <<CONF
[DEFAULT]
host = bench-lite
state_path = $W
[api]
host_ip = 127.0.0.1
port = $PORT
[database]
connection = sqlite:///$W/ironic_lite.sqlite
CONF
"$REPO/.venv/bin/ironic-lite" --config-file $W/aio.conf > $W/aio.log 2>&1 &
PID=$!; echo $PID > $W/aio.pid
for i in $(seq 1 300); do
  grep -q "API ready" $W/aio.log && break
  kill -0 $PID 2>/dev/null || { echo "ironic-lite died"; tail -30 $W/aio.log; exit 1; }
  sleep 0.1
done
echo "ironic-lite up (pid $PID) on $URL"
sleep 20
$P/venv/bin/python $P/bench_ironic.py --url $URL --nodes 200 --conc $CONC --pids $PID \
    --only $ONLY --json $OUT/$TAG.json 2>&1 | tee $OUT/$TAG.txt
if [[ $ONLY == *c* ]] && command -v wrk > /dev/null; then
  curl -s -H 'X-OpenStack-Ironic-API-Version: latest' "$URL/v1/nodes?fields=uuid&limit=1000" \
    | python3 -c 'import json,sys; print("\n".join(n["uuid"] for n in json.load(sys.stdin)["nodes"]))' \
    > $P/results/uuids.txt
  echo "== wrk GET /v1/nodes/{uuid}, 8 connections, 2 threads, 10 s" | tee -a $OUT/$TAG.txt
  wrk -t2 -c8 -d10s --latency -s $P/wrk_get_node.lua $URL 2>&1 | tee -a $OUT/$TAG.txt
fi
echo "== idle 30 s after benchmark" | tee -a $OUT/$TAG.txt
sleep 30
$P/venv/bin/python $P/bench_ironic.py --pids $PID --mem-only idle-after-benchmark \
    --json $OUT/${TAG}_mem_idle_after.json 2>&1 | tee -a $OUT/$TAG.txt
kill -TERM $PID; for i in $(seq 1 150); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
kill -0 $PID 2>/dev/null && { echo "SIGKILL $PID"; kill -KILL $PID; }
wait $PID; echo "ironic-lite exit code $?" | tee -a $OUT/$TAG.txt
grep -E "Traceback|ERROR" $W/aio.log | head -20 > $OUT/${TAG}_server_errors.txt
cp $W/aio.log $OUT/${TAG}_server.log
rm -rf $W
