#!/usr/bin/env bash
# The motion metrics' reference points on real motion (../shared/data/aist_annotations, CC BY 4.0,
# one real break dancer): the real-against-real floor of FID_k / FID_g (whole sequences per half,
# and random halves that share sequences) and a repeat-last "rollout" of every window
# (docs/motion_metrics.md). Deterministic: one run.
#   experiments/motion_floor/run.sh [ANNOTATION_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/motion_floor
source experiments/common.sh
ROOT=${1:-../shared/data/aist_annotations}
# a fresh record each run (write_run_info adds to an existing one)
rm -f "$STUDY_DIR/results/run_info.json"
PYTHONPATH=. $PY experiments/motion_floor/floor.py "$ROOT" "$STUDY_DIR/results"
