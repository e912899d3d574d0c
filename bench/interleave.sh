#!/bin/bash
# Interleaved comparison on one machine (its speed drifts): for each round run
#   1. bench_spine.py (ironic_lite all-in-one and split),
#   2. bench_ironic.py against ironic_lite's all-in-one,
#   3. bench_ironic.py against upstream Ironic's all-in-one (/tmp/peer_ironic/run_aio_bench.sh).
# Usage: bench/interleave.sh [ROUNDS, default 2]   (results in bench/results/)
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(dirname "$HERE"); P=/tmp/peer_ironic
ROUNDS=${1:-2}; OUT=$HERE/results; mkdir -p $OUT
[ -x $P/venv/bin/ironic ] || { echo "set up $P first (see bench/README.md)"; exit 1; }
for r in $(seq 1 $ROUNDS); do
  echo "######## round $r: ironic_lite bench_spine $(date +%T)"
  "$REPO/.venv/bin/python" "$HERE/bench_spine.py" --json $OUT/spine_r$r.json \
      2>&1 | tee $OUT/spine_r$r.txt
  echo "######## round $r: bench_ironic.py vs ironic_lite $(date +%T)"
  bash "$HERE/run_bench_ironic_vs_lite.sh" lite_r$r 8 abxcd $OUT
  echo "######## round $r: bench_ironic.py vs upstream Ironic $(date +%T)"
  (cd $P && ./run_aio_bench.sh peer_r$r 8 abxcd)
  cp $P/results/peer_r$r.json $P/results/peer_r$r.txt $OUT/ 2>/dev/null
  cp $P/results/peer_r${r}_mem_idle_after.json $OUT/ 2>/dev/null
  "$REPO/.venv/bin/python" -c "
import json, sys; sys.path.insert(0, '$REPO'); from bench import spine_report as b
d = json.load(open('$OUT/spine_r$r.json'))
b.report(d['results'], b.peer_figures('$OUT/peer_r$r.json'))" 2>&1 | tee $OUT/ratios_r$r.txt
done
echo "######## done $(date +%T)"
