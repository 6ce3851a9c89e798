#!/usr/bin/env bash
# make test's wall time on this commit beside make test on 47005b0 (issue 20's "before": 549 tests,
# every test in one tier), and the process tier (make test-slow) this commit split off, interleaved
# on one machine: REPEATS rounds, the order rotating each round. Run it on an otherwise idle machine.
#
#   experiments/test_time/run.sh [REPEATS]        (BASE=47005b0)
#
# Writes results/times.csv (one row per suite run), results/summary.json (min / median / max per
# suite, this commit's make test over the base's per round), results/report.md and run_info.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/test_time
source experiments/common.sh
# a fresh record each run (write_run_info adds to an existing one)
rm -f "$STUDY_DIR/results/run_info.json"
PYTHONPATH=. $PY experiments/test_time/time_suites.py --base "${BASE:-47005b0}" --out "$OUT" \
    --results "$STUDY_DIR/results" --repeats "${1:-3}"
