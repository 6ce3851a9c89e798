#!/usr/bin/env bash
# The Deep-Dance autoencoder-LSTM on silhouettes driven by real motion (issue 22, "must show"), and
# the same remedy applied to the Deep-Dance clips.
#
#   experiments/silhouette_motion/run.sh [motion|clips|report|all]   (ROOT=<annotation folder>)
#   experiments/silhouette_motion/run.sh run DATA CANDIDATE SEED     (one run: two shells share the work)
#
# Data:
#   motion: data=motion_silhouettes on ../shared/data/aist_annotations (CC BY 4.0): silhouettes
#           RENDERED between real AIST++ keypoints (capsule limbs, torso, head; not footage), every
#           view of a keypoints2d file one video, whole sequences held out (data.split=sequence),
#           at data.fps=5 (the break-dance sequences last 12 s: 60 frames, room for 10 seed frames
#           and 30 generated steps);
#   clips:  the Deep-Dance clips (../shared/data/deep_dance, another model's output), as
#           experiments/deep_dance_freeze read them (data=deep_dance_clips).
# Candidates, paired by seed:
#   default: the two-stage run (experiment=deep_dance): autoencoder, then the one-step LSTM; the
#            autoencoder stage for AE_EPOCHS (8; the experiment's own is 25 with early stopping:
#            CPU time), the LSTM stage as the experiment has it;
#   aclstm:  the LSTM stage alone on the same seed's autoencoder with the training remedy the
#            pose-space generator uses (experiments/pose_dance): acLSTM auto-conditioning, 5 own
#            latents then 5 true ones over 10-step windows, a fixed 20 epochs, the last kept.
# Reported on test: test/liveliness30_ratio (30-step rollouts from every test window, motion per
# step over the real test frames') beside repeat, ridge and the autoencoder's reconstruction.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/silhouette_motion
source experiments/common.sh
ROOT=$(realpath "${ROOT:-../shared/data/aist_annotations}")
SEEDS=${SEEDS:-"1 2 3"}
AE_EPOCHS=${AE_EPOCHS:-8}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
declare -A DATA=(
    [motion]="data=motion_silhouettes data.root=$ROOT data.fps=5"
    [clips]="data=deep_dance_clips"
)
ACLSTM=(model.rollout_loss_steps=10 model.auto_condition=5 trainer.max_epochs=20 callbacks.early_stopping=null
    callbacks.model_checkpoint.monitor=null)

# one DATA CANDIDATE SEED: one run into results/DATA-CANDIDATE/seedSEED
one() {
    local data=$1 candidate=$2 seed=$3
    case $candidate in
    # shellcheck disable=SC2086  # the data's overrides, one word each
    default)
        study_run "$OUT" "$data-default" "$seed" experiment=deep_dance ${DATA[$data]} \
            "stages.ae.overrides=[\"trainer.max_epochs=$AE_EPOCHS\"]" ;;
    aclstm)
        one "$data" default "$seed"
        local ae
        ae=$(best_ckpt "$OUT/runs/$data-default/seed$seed/summary.json" ae/best_ckpt)
        # shellcheck disable=SC2086
        study_run "$OUT" "$data-aclstm" "$seed" experiment=deep_dance_lstm ${DATA[$data]} \
            "model.autoencoder_ckpt=$ae" "${ACLSTM[@]}" ;;
    *) echo "unknown candidate $candidate; known: default, aclstm"; exit 2 ;;
    esac
}

dataset() {
    for seed in $SEEDS; do one "$1" default "$seed"; one "$1" aclstm "$seed"; done
}

report() {
    local metrics=test/liveliness30_ratio,test/liveliness30,test/liveliness30_real,test/next_mse,val/liveliness_ratio
    # the report's group names: each candidate's overrides, less the data's (common to every run)
    local default="experiment=deep_dance stages.ae.overrides=[\"trainer.max_epochs=$AE_EPOCHS\"]"
    local aclstm="experiment=deep_dance_lstm ${ACLSTM[*]}"
    for data in motion clips; do
        [[ -d "$STUDY_DIR/results/$data-default" ]] || continue
        $PY -m deepdance.report "$STUDY_DIR/results/$data-default" "$STUDY_DIR/results/$data-aclstm" \
            --out "$STUDY_DIR/report/$data" --inputs model.autoencoder_ckpt,data.root \
            --metrics "$metrics" --baselines _repeat,_ridge,_recon \
            --pair "$default" "$aclstm" --pair "$aclstm ridge" "$aclstm"
    done
}

case ${1:-all} in
run) one "$2" "$3" "$4" ;;
motion | clips) dataset "$1"; report ;;
report) report ;;
all) dataset motion; dataset clips; report ;;
*) echo "unknown part $1; known: motion, clips, report, all, run DATA CANDIDATE SEED"; exit 2 ;;
esac
