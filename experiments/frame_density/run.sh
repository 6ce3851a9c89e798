#!/usr/bin/env bash
# The embedded default's next choice, aimed at the timing errors inside a movement family (issue 20):
# twice the frame density over the same 3 s clip (data.num_frames=32, about 10.7 sampled frames per
# second, against the default's 16) on the synthetic dancers, over dancer folds x seeds, both
# candidates run here on one commit and paired by fold and seed.
#
#   experiments/frame_density/run.sh [runs|report|all]     (FOLDS="0 1 2" SEEDS="1 2 3")
#
# Folds 0-2 of the five (n = 9 pairs): the CPU time of one 2-core machine; FOLDS="0 1 2 3 4" runs all.
#
# The choice is made on validation alone (val/acc_best, pooled over folds x seeds, paired): the
# candidate is kept only where its paired interval excludes zero in its favour; test is reported
# beside it and never decides. Fold-major and candidate-interleaved, so an interrupted study leaves
# whole pairs; rerunning continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/frame_density
source experiments/common.sh
FOLDS=${FOLDS:-"0 1 2"}
SEEDS=${SEEDS:-"1 2 3"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

runs() {
    for fold in $FOLDS; do
        for seed in $SEEDS; do
            study_run "$OUT" "default_fold$fold" "$seed" "data.fold=$fold"
            study_run "$OUT" "frames32_fold$fold" "$seed" "data.fold=$fold" data.num_frames=32
        done
    done
}

# Folds count as repeats beside seeds (--pool data.fold); the pair matches fold and seed.
report() {
    $PY -m deepdance.report "$STUDY_DIR/results" --out "$STUDY_DIR/report" --pool data.fold \
        --metrics val/acc_best,test/acc,test/acc_clips3,time/run_s$(printf ',test/acc_%s' BR PO LO MH LH HO WA KR JS JB) \
        --pair "(defaults)" "data.num_frames=32" --lower-is-better time/run_s
}

case ${1:-all} in
runs) runs ;;
report) report ;;
all) runs; report ;;
*) echo "unknown part $1; known: runs, report, all"; exit 2 ;;
esac
