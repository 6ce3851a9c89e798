#!/usr/bin/env bash
# Does genre conditioning steer the pose-space generator, or does it learn the dancer? (issue 22)
#
#   experiments/pose_condition/run.sh [real|synthetic|report|all]
#   experiments/pose_condition/run.sh run PART NAME SEED     (one run: two shells share the work)
#
# The generator's recipe and rollout noise are the ones experiments/pose_dance chose on validation
# (its report/select.txt), trained the same way; here with model.condition=genre ("conditioned")
# and without ("unconditioned"), seeds 1-3, each graded by a pose_gru of the same seed:
#   real:      ../shared/data/aist_annotations (CC BY 4.0), break, house, krump and middle hip-hop,
#              ONE dancer per genre, whole sequences held out (data.split=sequence): a conditioned
#              model can learn the dancer rather than the genre, and the recognizer can recognise
#              the dancer; nothing here can tell the two apart;
#   synthetic: the synthetic dancers' exported annotations (4 genres x 5 dancers x 2 musics, one
#              camera, 8 s each), held-out DANCERS (data.split=dancer): the seeds come from dancers
#              that neither the generator nor the recognizer saw.
# score_generation (split=test, the chosen noise) writes, per seed: gen/genre_acc (held-out seeds
# steered to their own genre), gen_cross/genre_acc (each held-out seed steered to every other
# genre), gen_random/genre_acc (the mean training pose held still as seed, steered to each genre;
# gen_random/chance = 1/genres), each beside _uncond (the unconditioned model from the same seeds).
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/pose_condition
source experiments/common.sh
ROOT=$(realpath "${ROOT:-../shared/data/aist_annotations}")
SEEDS=${SEEDS:-"1 2 3"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SELECT=experiments/pose_dance/report/select.txt
read -r RECIPE NOISE <<<"$(sed -n 's/^selected: \([a-z_]*\)-noise\([0-9.]*\) .*/\1 \2/p' "$SELECT")"
[[ -n "${RECIPE:-}" ]] || { echo "no selection in $SELECT: run experiments/pose_dance/run.sh select first"; exit 2; }
declare -A RECIPES=([aclstm]='' [aclstm_noise]='model.input_noise=0.1')
# shellcheck disable=SC2206  # the recipe's overrides, one word each
GENERATOR=(experiment=pose_dance trainer.max_epochs=12 callbacks.early_stopping=null
    callbacks.model_checkpoint.monitor=null ${RECIPES[$RECIPE]})
SYNTHETIC_ROOT="$(realpath -m "$OUT")/synthetic_annotations"
SYNTHETIC=(data.synthetic.seconds=8 data.synthetic.cameras=1 'data.genres=[BR,HO,KR,MH]' data.split=dancer)
declare -A DATA=(
    [real]="data.root=$ROOT data.split=sequence"
    [synthetic]="data.root=null data.synthetic_root=$SYNTHETIC_ROOT ${SYNTHETIC[*]}"
)
# the real sample holds ~45 training views of break dance to one of each other genre: genre-balanced
# windows, or the recognizer learns the majority class alone
declare -A RECOGNIZER_DATA=(
    [real]="data=aist_pose data.root=$ROOT data.split=sequence data.genres=[BR,HO,KR,MH] data.balance=genre"
    [synthetic]="data=synthetic_pose data.root=$SYNTHETIC_ROOT ${SYNTHETIC[*]}"
)

# The real unconditioned model is experiments/pose_dance's final run of the same seed (same recipe,
# data and epochs), when its run directory is at hand (POSE_DANCE_OUT); else it is trained here.
POSE_DANCE_OUT=${POSE_DANCE_OUT:-logs/studies/pose_dance}
uncond_summary() {
    local shared="$POSE_DANCE_OUT/runs/$RECIPE/seed$2/summary.json"
    if [[ $1 == real && -f $shared ]]; then echo "$shared"; else echo "$OUT/runs/$1-unconditioned/seed$2/summary.json"; fi
}

# one PART NAME SEED: NAME is recognizer, conditioned or unconditioned
one() {
    local part=$1 name=$2 seed=$3
    # shellcheck disable=SC2086  # the data's overrides, one word each
    case $name in
    recognizer) study_run "$OUT" "$part-recognizer" "$seed" experiment=pose_gru ${RECOGNIZER_DATA[$part]} ;;
    conditioned) study_run "$OUT" "$part-conditioned" "$seed" "${GENERATOR[@]}" ${DATA[$part]} model.condition=genre ;;
    unconditioned)
        [[ -f $(uncond_summary "$part" "$seed") ]] \
            || study_run "$OUT" "$part-unconditioned" "$seed" "${GENERATOR[@]}" ${DATA[$part]} ;;
    *) echo "unknown run $name; known: recognizer, conditioned, unconditioned"; exit 2 ;;
    esac
}

# score PART SEED: the conditioned model beside the unconditioned one, graded by the recognizer
score() {
    local part=$1 seed=$2 run_dir="$OUT/score/$1/seed$2"
    for name in recognizer conditioned unconditioned; do one "$part" "$name" "$seed"; done
    if [[ ! -f "$run_dir/summary.json" ]]; then
        echo "=== score $part seed=$seed"
        $PY -m deepdance.score_generation "seed=$seed" split=test "noise=$NOISE" rollouts=96 \
            "lstm_ckpt=$(best_ckpt "$OUT/runs/$part-conditioned/seed$seed/summary.json")" \
            "uncond_ckpt=$(best_ckpt "$(uncond_summary "$part" "$seed")")" \
            "recognizer_ckpt=$(best_ckpt "$OUT/runs/$part-recognizer/seed$seed/summary.json")" \
            "hydra.run.dir=$run_dir" >"$OUT/score-$part-seed$seed.log" 2>&1 \
            || { echo "failed: see $OUT/score-$part-seed$seed.log"; tail -3 "$OUT/score-$part-seed$seed.log"; exit 1; }
    fi
    study_copy "$run_dir" "$STUDY_DIR/results/$part/seed$seed"
}

report() {
    # each with its _uncond twin (--baselines _uncond)
    local metrics="gen_random/chance,gen/genre_acc_real,gen/genre_acc,gen_cross/genre_acc,gen_random/genre_acc"
    metrics+=",gen/fdd,gen/liveliness_ratio,gen/fid_k"
    for part in real synthetic; do
        [[ -d "$STUDY_DIR/results/$part" ]] || continue
        $PY -m deepdance.report "$STUDY_DIR/results/$part" --out "$STUDY_DIR/report/$part" \
            --inputs lstm_ckpt,uncond_ckpt,recognizer_ckpt --baselines _uncond --metrics "$metrics" \
            --pair "(defaults) uncond" "(defaults)"
        $PY -m deepdance.report "$STUDY_DIR/results/$part-recognizer" --out "$STUDY_DIR/report/$part-recognizer" \
            --metrics test/acc,val/acc
    done
}

case ${1:-all} in
run) one "$2" "$3" "$4" ;;
real | synthetic) for seed in $SEEDS; do score "$1" "$seed"; done; report ;;
report) report ;;
all) for part in real synthetic; do for seed in $SEEDS; do score "$part" "$seed"; done; done; report ;;
*) echo "unknown part $1; known: real, synthetic, report, all, run PART NAME SEED"; exit 2 ;;
esac
