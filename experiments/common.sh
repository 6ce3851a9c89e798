# Shared by the studies' run.sh scripts (set STUDY_DIR, then source it): one training run per
# call, resumable.
#
#   study_run OUT NAME SEED [override ...]
#
# runs `python -m deepdance.train seed=SEED override...` into OUT/runs/NAME/seedSEED (skipped when
# that run already wrote its summary.json, so an interrupted study continues where it stopped),
# then copies the run's summary.json and .hydra/overrides.yaml into the study's committed
# results/NAME/seedSEED/, from which `python -m deepdance.report` regenerates every table, and its
# run_info.json (git commit, package versions, command), so each committed number says what made it.
#
# A dirty tree is refused (experiments/clean_tree.sh); with ALLOW_DIRTY=1 the diff is recorded:
# the study's uncommitted.diff at the start, each run's beside its results/NAME/seedSEED/run_info.json.
set -euo pipefail
export HF_HUB_OFFLINE=1 WANDB_MODE=offline
PY=${PY:-python}
# Settings every run of a study shares (the report leaves overrides common to all runs out of
# the group names): no config print-out and no live progress bar in the logs.
QUIET=(print_config=false callbacks.rich_progress_bar=null)
# The study's run directories (not committed): logs/studies/<study> from STUDY_DIR, or OUT=...
OUT=${OUT:-logs/studies/${STUDY_DIR#experiments/}}
mkdir -p "$OUT"

# Refuse a dirty tree, or record its diff with ALLOW_DIRTY=1 (shared with the studies that do not
# train through study_run).
source experiments/clean_tree.sh

# study_copy RUN_DIR RESULTS: a finished run's summary.json, overrides, run_info.json (a staged
# run's: STAGE/run_info.json) and (dirty runs) uncommitted.diff into the study's results.
study_copy() {
    mkdir -p "$2/.hydra"
    cp "$1/summary.json" "$2/summary.json"
    cp "$1/.hydra/overrides.yaml" "$2/.hydra/overrides.yaml"
    if [[ -f "$1/run_info.json" ]]; then cp "$1/run_info.json" "$2/run_info.json"; fi
    # a staged run (experiment=deep_dance) keeps one record per stage: each beside the results too
    local stage
    for stage in "$1"/*/run_info.json; do
        [[ -f "$stage" ]] || continue
        mkdir -p "$2/$(basename "$(dirname "$stage")")"
        cp "$stage" "$2/$(basename "$(dirname "$stage")")/run_info.json"
    done
    # a dirty run's diff beside its record; none from a clean run (nor a stale one of an earlier run)
    if [[ -f "$1/uncommitted.diff" ]]; then cp "$1/uncommitted.diff" "$2/uncommitted.diff"; else rm -f "$2/uncommitted.diff"; fi
}

# best_ckpt SUMMARY [KEY]: the checkpoint a finished run's summary.json names under KEY
# (default best_ckpt; a two-stage run's autoencoder: ae/best_ckpt), as an absolute path.
best_ckpt() {
    $PY -c 'import json, os, sys; print(os.path.abspath(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
        "$1" "${2:-best_ckpt}"
}

study_run() {
    local out=$1 name=$2 seed=$3
    shift 3
    local run_dir="$out/runs/$name/seed$seed" results="$STUDY_DIR/results/$name/seed$seed"
    if [[ ! -f "$run_dir/summary.json" ]]; then
        echo "=== $name seed=$seed: $*"
        $PY -m deepdance.train "seed=$seed" "$@" "${QUIET[@]}" "hydra.run.dir=$run_dir" >"$out/$name-seed$seed.log" 2>&1 \
            || { echo "failed: see $out/$name-seed$seed.log"; tail -3 "$out/$name-seed$seed.log"; return 1; }
    fi
    study_copy "$run_dir" "$results"
}
