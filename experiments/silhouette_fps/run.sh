#!/usr/bin/env bash
# The frame-rate probe behind results.csv and summary.json here (README.md): simple motion
# features of the labelled silhouette dancers, held-out dancers, 3 / 6 / 10 fps, seeds 0-4.
# About a minute on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/silhouette_fps
source experiments/clean_tree.sh
# this checkout's deepdance, whatever the environment has installed
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
# the record of the code that makes the results, written before they rewrite the tree (a fresh one:
# write_run_info adds to an existing file)
rm -f "$STUDY_DIR/run_info.json"
${PY:-python} -c 'import sys; from deepdance.utils.run_info import write_run_info; write_run_info(sys.argv[1], study="silhouette_fps", command="experiments/silhouette_fps/run.sh")' "$STUDY_DIR"
${PY:-python} experiments/silhouette_fps/probe.py --seeds 0 1 2 3 4 "$@"
