#!/usr/bin/env bash
# Precision and compilation on one GPU: step time and peak memory of
#   - genre_gru with backbone fine-tuning (InceptionV3 at 299 px, 20 frames, batch 8)
#   - the Deep-Dance autoencoder (experiment=deep_dance_ae), when it is in the tree
# for trainer.precision = 32 | 16-mixed | bf16-mixed and model.compile = false | true,
# then the GPU tests. Run from the repository root on a machine with a CUDA GPU:
#     bash experiments/precision/run_gpu.sh            # ~10-20 min on one H100
# Results: experiments/precision/results/<experiment>/<job>/step_time.json, collected into
# experiments/precision/results/results.md with the device named (nvidia-smi).
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/precision
source experiments/clean_tree.sh
export HF_HUB_OFFLINE=1 WANDB_MODE=offline
PY=${PY:-python}
OUT=${OUT:-experiments/precision/results}
STEPS=${STEPS:-60}           # timed steps per configuration (the first 10 are warm-up)
WORKERS=${WORKERS:-8}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/device.csv"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee "$OUT/versions.txt"

# Time the training step only: no validation, test, checkpoints or scheduler on val/loss.
COMMON=(trainer=gpu logger=csv callbacks=none "+callbacks.step_timer._target_=deepdance.callbacks.StepTimer"
        "+trainer.max_steps=$STEPS" trainer.max_epochs=-1 trainer.limit_val_batches=0 +trainer.enable_checkpointing=false
        test=false print_config=false model.scheduler=null "data.num_workers=$WORKERS"
        "paths.compile_cache_dir=$OUT/.inductor_cache")

# 1. genre_gru, backbone fine-tuned (random weights: the timing does not depend on them).
#    Synthetic dancers, 5 per genre x 2 cameras (100 clips), decoded at 299 px.
"$PY" -m deepdance.train -m experiment=genre_gru model.backbone.pretrained=false model.backbone.freeze=false \
    data.synthetic.dancers_per_genre=5 data.synthetic.cameras=2 data.synthetic.musics=1 \
    trainer.precision=32,16-mixed,bf16-mixed model.compile=false,true \
    "${COMMON[@]}" "hydra.sweep.dir=$OUT/genre_gru"

# 2. The Deep-Dance autoencoder (branch issue4), when present; compile only if its model has the switch.
if [ -f conf/experiment/deep_dance_ae.yaml ]; then
    COMPILE=()
    if grep -q "^compile:" conf/model/silhouette_ae.yaml 2>/dev/null; then COMPILE=(model.compile=false,true); fi
    "$PY" -m deepdance.train -m experiment=deep_dance_ae trainer.precision=32,16-mixed,bf16-mixed "${COMPILE[@]}" \
        "${COMMON[@]}" "hydra.sweep.dir=$OUT/deep_dance_ae"
fi

# 3. The GPU tests (compiled backbone == eager, bf16 training with pinned memory).
"$PY" -m pytest -m gpu tests -q -p no:cacheprovider | tee "$OUT/gpu_tests.txt"

"$PY" experiments/precision/collect.py "$OUT" | tee "$OUT/results.md"
