#!/usr/bin/env bash
# Deep-Dance on the real clips: remedies against rollouts that freeze into a pose (issue 14, step 5),
# seed by seed. The default candidate is the whole two-stage run (experiment=deep_dance); every
# other candidate trains only the LSTM stage (experiment=deep_dance_lstm), on the same seed's
# default autoencoder, so candidate and default differ in the LSTM's training alone. "latent32"
# trains its own autoencoder, with a 32-dimensional latent instead of 128.
#   experiments/deep_dance_freeze/run.sh      (SEEDS="1 2 3" CANDIDATES="default mdn ...")
# Selection is on validation: val/next_mse and val/liveliness_ratio (motion per step of 8 free-running
# 30-step rollouts from val windows over the real val frames' motion; 0 = frozen, far above 1 =
# dissolving), both from the last validation epoch. The rule (select.txt): among candidates whose mean ratio lies in
# [0.5, 2] (keeps at least half of real motion, without dissolving), the lowest mean val/next_mse;
# if none does, the ratio closest to 1. Test is reported beside the in-run baselines.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/deep_dance_freeze
source experiments/common.sh
SEEDS=${SEEDS:-"1 2 3"}
CANDIDATES=${CANDIDATES:-"default rollout5 rollout5_ss noise mdn mdn_rollout3 flip time_warp phases augment latent32"}
# one thread: the small LSTM gains nothing from two, and runs stay comparable
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# The LSTM's overrides of each candidate.
declare -A LSTM=(
    [default]=''
    [rollout5]='model.rollout_loss_steps=5'
    [rollout5_ss]='model.rollout_loss_steps=5 model.scheduled_sampling=0.25'
    [noise]='model.input_noise=0.3'
    [mdn]='model.head=mdn'
    [mdn_rollout3]='model.head=mdn model.rollout_loss_steps=3'
    [flip]='data.flip=true'
    [time_warp]='data.time_warp=[0.8,1.25]'
    [phases]='data.phases=4'
    # 4x the windows, a quarter of them per epoch: as many training steps as the default
    [augment]='data.flip=true data.time_warp=[0.8,1.25] data.phases=4 trainer.limit_train_batches=0.25'
    [latent32]=''
)
# the best checkpoint of the default's autoencoder stage for a seed, as an absolute path
default_ae() { best_ckpt "$OUT/runs/default/seed$1/summary.json" ae/best_ckpt; }
for name in $CANDIDATES; do
    [[ -v "LSTM[$name]" ]] || { echo "unknown candidate $name; known: ${!LSTM[*]}"; exit 2; }
done
for name in $CANDIDATES; do
    for seed in $SEEDS; do
        case $name in
        default) study_run "$OUT" default "$seed" experiment=deep_dance data=deep_dance_clips ;;
        latent32)
            study_run "$OUT" latent32 "$seed" experiment=deep_dance data=deep_dance_clips \
                'stages.ae.overrides=["model.net.latent_dim=32"]' ;;
        *)
            study_run "$OUT" default "$seed" experiment=deep_dance data=deep_dance_clips
            # shellcheck disable=SC2086  # the candidate's overrides, one word each
            study_run "$OUT" "$name" "$seed" experiment=deep_dance_lstm data=deep_dance_clips \
                "model.autoencoder_ckpt=$(default_ae "$seed")" ${LSTM[$name]} ;;
        esac
    done
done

# The report names a group by its overrides (the default candidate: experiment=deep_dance); each
# other candidate is paired with the default, seed by seed.
PAIRS=()
for name in $CANDIDATES; do
    case $name in
    default) ;;
    latent32) PAIRS+=(--pair "experiment=deep_dance" "experiment=deep_dance stages.ae.overrides=[model.net.latent_dim=32]") ;;
    *) PAIRS+=(--pair "experiment=deep_dance" "experiment=deep_dance_lstm ${LSTM[$name]}") ;;
    esac
done
$PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report/val" --inputs model.autoencoder_ckpt \
    --metrics val/next_mse,val/next_iou,val/liveliness_ratio,val/liveliness "${PAIRS[@]}"
$PY - "$STUDY_DIR/report/val/groups.csv" >"$STUDY_DIR/report/select.txt" <<'PY'
import sys

import pandas as pd

table = pd.read_csv(sys.argv[1]).pivot(index="group", columns="metric", values="mean")
ratio = table["val/liveliness_ratio"]
lively = table[(ratio >= 0.5) & (ratio <= 2)]
if len(lively):
    print(f"selected: {lively['val/next_mse'].idxmin()} (lowest val/next_mse with ratio in [0.5, 2])")
else:
    print(f"selected: {(ratio - 1).abs().idxmin()} (no candidate keeps half of real motion: ratio nearest 1)")
print(table.to_string())
PY
cat "$STUDY_DIR/report/select.txt"

# Liveliness: free-running 30-step rollouts from every test window over the real test frames'
# motion (each clip's test part holds ~10 frames at 3 fps: too short for test/rollout30_*, which
# needs the real continuation, but not for liveliness, which does not).
METRICS=test/next_mse,test/next_iou,test/liveliness30_ratio,test/liveliness30,test/liveliness30_real
for h in 1 5 10; do METRICS+=",test/rollout${h}_mse,test/rollout${h}_iou"; done
$PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report/test" --inputs model.autoencoder_ckpt \
    --metrics "$METRICS,time/run_s" --baselines _repeat,_extrap,_ridge,_recon "${PAIRS[@]}"
