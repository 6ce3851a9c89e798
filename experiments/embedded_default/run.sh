#!/usr/bin/env bash
# The embedded default over five seeds (README, "Results on the embedded synthetic dancers"):
# `python -m deepdance.train` with seed=1..5 on held-out dancers, beside the same command with
# one frame per clip (data.num_frames=1: appearance only, no motion) as the control. Seeds pair
# the two: same split (data.seed is fixed), same training seed.
#   experiments/embedded_default/run.sh        (SEEDS="1 2 3 4 5" RUN_GROUPS="default one_frame")
# The runs of seeds 1-3 of the default are the same command as embedded_selection's "current"
# runs; linked into OUT/runs/default/ they are not trained twice (results/ says which).
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/embedded_default
source experiments/common.sh
SEEDS=${SEEDS:-"1 2 3 4 5"}
RUN_GROUPS=${RUN_GROUPS:-"default one_frame"}

for seed in $SEEDS; do
    [[ " $RUN_GROUPS " == *" default "* ]] && study_run "$OUT" default "$seed"
    [[ " $RUN_GROUPS " == *" one_frame "* ]] && study_run "$OUT" one_frame "$seed" data.num_frames=1
done

$PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report" \
    --metrics test/acc,test/acc_clips3,test/f1_macro,val/acc_best,time/run_s \
    --pair "data.num_frames=1" "(defaults)"
