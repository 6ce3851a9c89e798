#!/usr/bin/env bash
# AIST++ stand-in demonstration (docs/aist.md): generated 1920x1080 60 fps H.264+AAC videos with
# AIST++ names -> extract_features -> train from the store -> one video-decoding epoch for timing
# -> eval with K test clips and the view vote -> predict. Every setting can be overridden from the
# environment, e.g.  SECONDS_PER_VIDEO=3 BACKBONE=inception_v3 IMG=299 FRAMES=20 experiments/aist_standin/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/aist_standin
source experiments/clean_tree.sh
export HF_HUB_OFFLINE=1 WANDB_MODE=offline
PY=${PY:-python}
ROOT=${ROOT:-data/aist_standin}            # the stand-in videos
OUT=${OUT:-logs/aist_standin}              # run dirs and the feature store
DANCERS=${DANCERS:-4}                       # per genre: 10 x 4 dancers x 5 cameras = 200 videos
CAMERAS=${CAMERAS:-5}
SECONDS_PER_VIDEO=${SECONDS_PER_VIDEO:-1}
BACKBONE=${BACKBONE:-resnet18}              # random weights (no downloads here): accuracy is meaningless
IMG=${IMG:-160}
FRAMES=${FRAMES:-8}
CLIPS=${CLIPS:-3}
EPOCHS=${EPOCHS:-5}
WORKERS=${WORKERS:-2}

COMMON=(data=aist "data.root=$ROOT" model=genre_gru "model.backbone.name=$BACKBONE" model.backbone.pretrained=false
        "data.img_size=$IMG" "data.num_frames=$FRAMES" "data.features.clips=$CLIPS" "data.test_clips=$CLIPS"
        "data.features.dir=$OUT/features" "data.num_workers=$WORKERS" data.batch_size=8 trainer.accelerator=cpu
        print_config=false)
TRAIN=("${COMMON[@]}" "+callbacks.epoch_timer._target_=deepdance.callbacks.EpochTimer" callbacks.rich_progress_bar=null)

step() { echo; echo "=== $*"; }
step "1. stand-in videos"
time $PY -m deepdance.make_standins --root "$ROOT" --dancers-per-genre "$DANCERS" --cameras "$CAMERAS" --seconds "$SECONDS_PER_VIDEO" --workers "$WORKERS"
step "2. extract_features (frozen $BACKBONE over every video's $CLIPS clips x $FRAMES frames)"
time $PY -m deepdance.extract_features "${COMMON[@]}" "hydra.run.dir=$OUT/extract"
step "3. train from the store ($EPOCHS epochs; no video is opened)"
time $PY -m deepdance.train "${TRAIN[@]}" "trainer.max_epochs=$EPOCHS" "hydra.run.dir=$OUT/train_store"
step "4. one epoch that decodes the videos (data.features.use=false), for the epoch-time comparison"
time $PY -m deepdance.train "${TRAIN[@]}" data.features.use=false trainer.max_epochs=1 trainer.limit_val_batches=0 test=false \
    callbacks.early_stopping=null callbacks.model_checkpoint=null \
    "hydra.run.dir=$OUT/train_decode"
CKPT=$($PY -c "import json; print(json.load(open('$OUT/train_store/summary.json'))['best_ckpt'])")
step "5. eval: $CLIPS test clips and the view vote across cameras"
time $PY -m deepdance.eval "ckpt_path=$CKPT" "data.test_clips=$CLIPS" data.view_vote=true trainer.accelerator=cpu "hydra.run.dir=$OUT/eval"
step "6. predict one video"
VIDEOS=("$ROOT"/*.mp4)  # (not ls | head: under pipefail a SIGPIPE would end the script)
VIDEO=${VIDEOS[0]}
time $PY -m deepdance.predict "ckpt_path=$CKPT" "video=$VIDEO" "output=$OUT/predict.json" "hydra.run.dir=$OUT/predict"
step "7. epoch times and test metrics"
$PY experiments/aist_standin/report.py "$OUT"
