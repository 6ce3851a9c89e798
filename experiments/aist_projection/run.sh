#!/usr/bin/env bash
# The real AIST++ sample (../shared/data/aist_annotations, CC BY 4.0, real dancers): keypoints3d_optim
# of one break-dance sequence projected through its cameras (setting1.json) onto its keypoints2d,
# per view: median and 90th-percentile error in pixels of 1920x1080, joints with 2-D confidence > 0.5.
#   experiments/aist_projection/run.sh [ANNOTATION_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/aist_projection
source experiments/common.sh
ROOT=${1:-../shared/data/aist_annotations}
# a fresh record each run (write_run_info adds to an existing one)
rm -f "$STUDY_DIR/results/run_info.json"
PYTHONPATH=. $PY experiments/aist_projection/project.py "$ROOT" "$STUDY_DIR/results"
