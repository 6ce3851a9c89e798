#!/usr/bin/env bash
# The pose-space dance generator on real motion (issue 22): the shared AIST++ sample
# (../shared/data/aist_annotations, CC BY 4.0: one real break dancer's keypoints2d, 9 views, plus
# house, krump and middle hip-hop normalized_2d), 30 fps, whole sequences held out per genre.
#
#   experiments/pose_dance/run.sh [select|final|picture|all]      (ROOT=<annotation folder>)
#   experiments/pose_dance/run.sh train NAME SEED         (one training run: two shells share the work)
#
# 1. select (validation only, seed 1): two training recipes, each a fixed EPOCHS of acLSTM
#    auto-conditioning (5 own poses, 5 true, over 10-step windows), the last epoch kept (the best
#    val/next_mse is the earliest epoch, the stillest model: liveliness rose with training in every
#    pilot); "aclstm" reads clean poses, "aclstm_noise" poses with model.input_noise=0.1. Each is
#    scored on val (score_generation split=val) with Gaussian noise of NOISES on every fed-back pose
#    (a stochastic next step, in standardised units). The rule (report/select.txt): among
#    (recipe, noise) with val liveliness ratio in [0.5, 2], the lowest FID_k/floor_k + FID_g/floor_g
#    (both distances as multiples of their real-against-real floor); none: the ratio closest to 1.
# 2. final: the chosen recipe over SEEDS, each scored on test with the chosen noise beside its
#    in-run baselines (repeat-last, ridge, retrieval of a training window), paired per seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/pose_dance
source experiments/common.sh
ROOT=${ROOT:-../shared/data/aist_annotations}
ROOT=$(realpath "$ROOT")
SEEDS=${SEEDS:-"1 2 3"}
EPOCHS=${EPOCHS:-12}
NOISES=${NOISES:-"0 0.03 0.05 0.07"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
declare -A RECIPES=(
    [aclstm]=''
    [aclstm_noise]='model.input_noise=0.1'
)
# the last epoch, not the lowest one-step error (see above)
TRAIN=(experiment=pose_dance "data.root=$ROOT" "trainer.max_epochs=$EPOCHS" callbacks.early_stopping=null
    callbacks.model_checkpoint.monitor=null)

# train NAME SEED: one run of a recipe
train() {
    # shellcheck disable=SC2086  # the recipe's overrides, one word each
    study_run "$OUT" "$1" "$2" "${TRAIN[@]}" ${RECIPES[$1]}
}
# score NAME SEED SPLIT NOISE [override ...]: score_generation of a finished run into
# results/<split>/NAME-noiseN
score() {
    local name=$1 seed=$2 split=$3 noise=$4
    shift 4
    local tag="$name-noise$noise" run_dir="$OUT/score/$split/$name-noise$noise/seed$seed"
    if [[ ! -f "$run_dir/summary.json" ]]; then
        echo "=== score $split $tag seed=$seed"
        $PY -m deepdance.score_generation "seed=$seed" "split=$split" "noise=$noise" "$@" \
            "lstm_ckpt=$(best_ckpt "$OUT/runs/$name/seed$seed/summary.json")" "hydra.run.dir=$run_dir" \
            >"$OUT/score-$split-$tag-seed$seed.log" 2>&1 \
            || { echo "failed: see $OUT/score-$split-$tag-seed$seed.log"; tail -3 "$OUT/score-$split-$tag-seed$seed.log"; exit 1; }
    fi
    study_copy "$run_dir" "$STUDY_DIR/results/$split/$tag/seed$seed"
}

select_recipe() {
    for name in "${!RECIPES[@]}"; do
        train "$name" 1
        for noise in $NOISES; do score "$name" 1 val "$noise"; done
    done
    PYTHONPATH=. $PY experiments/pose_dance/choose.py "$STUDY_DIR/results/val" >"$STUDY_DIR/report/select.txt"
    cat "$STUDY_DIR/report/select.txt"
}

final() {
    local chosen name noise
    chosen=$(sed -n 's/^selected: \([a-z_]*\)-noise\([0-9.]*\) .*/\1 \2/p' "$STUDY_DIR/report/select.txt")
    read -r name noise <<<"$chosen"
    [[ -n "$name" ]] || { echo "no selection in $STUDY_DIR/report/select.txt: run select first"; exit 2; }
    for seed in $SEEDS; do
        train "$name" "$seed"
        # every test window a seed (rollouts caps them; 32 at selection): steadier Fréchet estimates
        score "$name" "$seed" test "$noise" rollouts=96
    done
    local metrics="" m
    for m in liveliness_ratio fid_k fid_g div_k div_g foot_skating novelty; do metrics+="gen/$m,"; done
    $PY -m deepdance.report "$STUDY_DIR/results/test/$name-noise$noise" --out "$STUDY_DIR/report/test" \
        --inputs lstm_ckpt --baselines _repeat,_ridge,_retrieval \
        --metrics "${metrics}gen/fid_k_floor,gen/fid_g_floor,gen/liveliness_real,gen/div_k_real,gen/div_g_real" \
        --lower-is-better gen/fid_k,gen/fid_g,gen/foot_skating \
        --pair "(defaults) repeat" "(defaults)" --pair "(defaults) ridge" "(defaults)" \
        --pair "(defaults) retrieval" "(defaults)"
}

# The README's picture (docs/images/generated_dances.png): seed 1's final model, the chosen noise,
# each genre's first test view (experiments/pose_dance/picture.py).
picture() {
    local name noise
    read -r name noise <<<"$(sed -n 's/^selected: \([a-z_]*\)-noise\([0-9.]*\) .*/\1 \2/p' "$STUDY_DIR/report/select.txt")"
    rm -f "$STUDY_DIR/results/picture/run_info.json"
    PYTHONPATH=. $PY experiments/pose_dance/picture.py "$(best_ckpt "$OUT/runs/$name/seed1/summary.json")" "$noise" \
        --png docs/images/generated_dances.png --record "$STUDY_DIR/results/picture"
}

mkdir -p "$STUDY_DIR/report"
case ${1:-all} in
train) train "$2" "$3" ;;
select) select_recipe ;;
final) final ;;
picture) picture ;;
all) select_recipe; final; picture ;;
*) echo "unknown part $1; known: select, final, all"; exit 2 ;;
esac
