#!/usr/bin/env bash
# The skeleton genre model (experiment=pose_gru) against the video model on the synthetic dancers
# (synthetic data: the keypoints are the renderer's own joints, not a person's), held-out dancers,
# 5 dancer folds x 3 seeds, with the single-frame control (data.num_frames=1):
#   experiments/pose_vs_video/run.sh                  (FOLDS="0 1 2 3 4" SEEDS="1 2 3")
# 1. pose_gru trained and tested on the exported annotations (data=synthetic_pose: the same dancers,
#    performances, cameras, split and folds as data=synthetic's videos);
# 2. the single-frame controls of both models (data.num_frames=1; fold 0 x 3 seeds, CONTROL_FOLDS:
#    the 2-core machine had CPU for that much beside the rest);
# 3. each pose_gru checkpoint tested on front-end keypoints: the same dancers rendered in RGB with a
#    face on the studio background (make_synthetic --rgb), through python -m deepdance.extract_poses
#    (MediaPipe, every frame), then python -m deepdance.eval with data.root on that folder.
# The video model's runs are experiments/embedded_folds (same folds and seeds, `python -m deepdance.train
# data.fold=K seed=S`, clean at 32f6751); the report pairs them with these by fold and seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/pose_vs_video
source experiments/common.sh
FOLDS=${FOLDS:-"0 1 2 3 4"}
SEEDS=${SEEDS:-"1 2 3"}
CONTROL_FOLDS=${CONTROL_FOLDS-"0"}
DATA=$OUT/data
RGB=$DATA/synthetic_rgb
FRONT=$DATA/frontend_keypoints

# The front end runs beside the training runs (one core each): the same 300 videos (5 dancers x 10
# genres x 3 cameras x 2 musics, SyntheticConfig's defaults) in RGB at 256 x 320, then MediaPipe over
# every frame (its keypoints keep the renders' pixel frame).
front_end() {
    $PY -m deepdance.make_synthetic --root "$RGB" --rgb --size 256 --width 320 --backgrounds studio
    if [[ ! -f "$FRONT/run_info.json" ]]; then
        $PY -m deepdance.extract_poses "video=$RGB/studio" "out=$FRONT/keypoints" "hydra.run.dir=$FRONT" \
            "pose.store_dir=$DATA/poses" pose.masks=false
    fi
}
front_end >"$OUT/front_end.log" 2>&1 &
FRONT_PID=$!

for fold in $FOLDS; do
    for seed in $SEEDS; do
        study_run "$OUT" "pose_fold$fold" "$seed" experiment=pose_gru "data.fold=$fold" "paths.data_dir=$DATA"
    done
done
for fold in $CONTROL_FOLDS; do
    for seed in $SEEDS; do
        study_run "$OUT" "pose_frame1_fold$fold" "$seed" experiment=pose_gru "data.fold=$fold" \
            data.num_frames=1 "paths.data_dir=$DATA"
        study_run "$OUT" "video_frame1_fold$fold" "$seed" "data.fold=$fold" data.num_frames=1 "paths.data_dir=$DATA"
    done
done

wait "$FRONT_PID" || { echo "front end failed: see $OUT/front_end.log"; exit 1; }
mkdir -p "$STUDY_DIR/results/extract_poses"
cp "$FRONT/run_info.json" "$STUDY_DIR/results/extract_poses/run_info.json"

for fold in $FOLDS; do
    for seed in $SEEDS; do
        run_dir="$OUT/runs/frontend_fold$fold/seed$seed"
        if [[ ! -f "$run_dir/summary.json" ]]; then
            ckpt=$(best_ckpt "$STUDY_DIR/results/pose_fold$fold/seed$seed/summary.json")
            $PY -m deepdance.eval "ckpt_path=$ckpt" "seed=$seed" "data.fold=$fold" "data.root=$FRONT/keypoints" \
                data.synthetic=null print_config=false "hydra.run.dir=$run_dir" >"$OUT/frontend_fold$fold-seed$seed.log" 2>&1 \
                || { echo "failed: see $OUT/frontend_fold$fold-seed$seed.log"; exit 1; }
        fi
        study_copy "$run_dir" "$STUDY_DIR/results/frontend_fold$fold/seed$seed"
    done
done

METRICS=test/acc,test/acc_clips3,test/f1_macro,val/acc_best
# pose_gru against the video model, and each against its single-frame control (paired by fold and
# seed). Left out of the group names: what a run reads (its checkpoint, data folder) and the
# progress bar, which train runs switch off and eval runs never had.
$PY -m deepdance.report "$STUDY_DIR/results" experiments/embedded_folds/results --out "$STUDY_DIR/report" \
    --pool data.fold --inputs ckpt_path,data.root,paths.data_dir,callbacks.rich_progress_bar --metrics "$METRICS" \
    --pair "(defaults)" "experiment=pose_gru" \
    --pair "experiment=pose_gru" "data.synthetic=null" \
    --pair "experiment=pose_gru data.num_frames=1" "experiment=pose_gru" \
    --pair "data.num_frames=1" "(defaults)"
