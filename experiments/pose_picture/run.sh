#!/usr/bin/env bash
# The README's picture of the real-dancer front end (issue 21): one synthetic RGB render (a drawn
# figure with a face, not a person) over a cluttered background, its silhouettes by gray-level
# threshold (fixed and otsu, polarity dark) and by person mask (data.threshold_rule=person
# data.follow=true, MediaPipe through the run's own code path), and the front end's COCO-17
# keypoints over the frame beside the ground truth (experiments/pose_picture/picture.py).
#   experiments/pose_picture/run.sh
# Writes docs/images/real_dancers.png, and results/summary.json (each silhouette's IoU with the true
# mask, PCK@0.2 on the frame) with results/run_info.json. About a minute on one core: ten 2 s
# renders, MediaPipe on the 6 sampled frames of one video.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/pose_picture
source experiments/common.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
$PY "$STUDY_DIR/picture.py" --work "$OUT" --png docs/images/real_dancers.png --record "$STUDY_DIR/results"
