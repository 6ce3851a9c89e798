#!/usr/bin/env bash
# The pose and person-mask front end (MediaPipe Pose 0.10.21, model_complexity=1, the defaults of
# conf/pose/mediapipe.yaml) on synthetic RGB renders with known joints and masks (synthetic data: a
# drawn figure with a face, not a person), over three backgrounds (studio, texture, clutter):
# detection rate, then mask IoU and PCK@0.2 of torso length per joint on the frames where the dancer
# was found, and ms per frame (decode + backend + tracking + smoothing, wall time, no cache).
#   experiments/pose_frontend/run.sh          (SEEDS="1 2 3": three render seeds, other dancers each)
# Each seed renders one dancer per genre, one camera, one music: 10 videos x 3 s x 30 fps per
# background, 2,700 frames a seed, at 256 x 320.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/pose_frontend
source experiments/common.sh
SEEDS=${SEEDS:-"1 2 3"}

for seed in $SEEDS; do
    rgb="$OUT/rgb_seed$seed" run_dir="$OUT/runs/frontend/seed$seed"
    if [[ ! -f "$run_dir/summary.json" ]]; then
        $PY -m deepdance.make_synthetic --root "$rgb" --rgb --seed "$seed" --dancers-per-genre 1 --cameras 1 \
            --musics 1 --size 256 --width 320 >"$OUT/render_seed$seed.log" 2>&1
        $PY -m deepdance.score_poses "rgb_root=$rgb" "hydra.run.dir=$run_dir" >"$OUT/score_seed$seed.log" 2>&1 \
            || { echo "failed: see $OUT/score_seed$seed.log"; tail -3 "$OUT/score_seed$seed.log"; exit 1; }
    fi
    study_copy "$run_dir" "$STUDY_DIR/results/frontend/seed$seed"
    cp "$run_dir/per_video.csv" "$STUDY_DIR/results/frontend/seed$seed/per_video.csv"
done

JOINTS=nose,left_eye,right_eye,left_ear,right_ear,left_shoulder,right_shoulder,left_elbow,right_elbow
JOINTS=$JOINTS,left_wrist,right_wrist,left_hip,right_hip,left_knee,right_knee,left_ankle,right_ankle
METRICS=detection_rate,mask_iou,pck,error,time/ms_per_frame
for kind in studio texture clutter; do
    METRICS=$METRICS,detection_rate/$kind,mask_iou/$kind,pck/$kind,time/ms_per_frame/$kind
done
# each seed renders into its own folder: rgb_root names an input, not a recipe
$PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report" --inputs rgb_root --metrics "$METRICS" \
    --higher-is-better detection_rate,mask_iou,pck --lower-is-better error
$PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report/per_joint" --inputs rgb_root \
    --metrics "$(printf 'pck_joint/%s,' ${JOINTS//,/ } | sed 's/,$//')"
