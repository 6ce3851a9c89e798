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
${PY:-python} experiments/silhouette_fps/probe.py --seeds 0 1 2 3 4 "$@"
