#!/usr/bin/env bash
# The load test behind docs/reliability.md's table: 1,000 generated AIST++-named videos (cached in
# data/load_test), probed as a training run probes them, one clip per video decoded through the
# real VideoClipDataset and a DataLoader with 2 workers, memory sampled after every batch.
#
#   experiments/reliability/run.sh          (PY=.venv/bin/python)
#
# Writes results/load_1000.{csv,json} and the record of the commit that made them, run_info.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/reliability
source experiments/clean_tree.sh
# a fresh record each run (write_run_info adds to an existing one), written before the results it
# describes change the tree
rm -f "$STUDY_DIR/results/run_info.json"
PYTHONPATH=. ${PY:-python} -c 'import sys; from deepdance.utils.run_info import write_run_info; write_run_info(sys.argv[1], study="reliability", command="experiments/reliability/run.sh")' "$STUDY_DIR/results"
${PY:-python} experiments/reliability/load_test.py --videos 1000 --workers 2 --out "$STUDY_DIR/results"
