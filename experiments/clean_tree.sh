# Sourced by every study script after `cd` to the repository root and setting STUDY_DIR: a study
# refuses to start on a tree whose tracked files differ from the commit (its own results/ and
# report/ aside: a resumed study has rewritten them), since a number must name the code that
# made it. ALLOW_DIRTY=1 runs anyway and records the diff in $STUDY_DIR/uncommitted.diff (each
# run also keeps its own beside its run_info.json).
# The study's own outputs: rewritten by a resumed study, so they do not make the tree dirty.
STUDY_OUTPUTS=(":(exclude)$STUDY_DIR/results" ":(exclude)$STUDY_DIR/report" ":(exclude)$STUDY_DIR/uncommitted.diff")
# The same folders for each run's run_info.json (deepdance.utils.run_info.study_outputs): a rerun's
# later runs are not recorded dirty because its earlier runs rewrote their committed results.
export DEEPDANCE_STUDY_OUTPUTS="$STUDY_DIR/results:$STUDY_DIR/report"
# study_dirty: the tracked files that differ from the commit, outside the study's own outputs.
study_dirty() {
    git status --porcelain --untracked-files=no -- . "${STUDY_OUTPUTS[@]}"
}

if [[ -n "$(study_dirty)" ]]; then
    if [[ "${ALLOW_DIRTY:-0}" != 1 ]]; then
        echo "error: uncommitted changes to tracked files ($(study_dirty | wc -l) files): commit them, or run" \
            "with ALLOW_DIRTY=1 to record the diff in $STUDY_DIR/uncommitted.diff" >&2
        exit 2
    fi
    mkdir -p "$STUDY_DIR"
    git diff HEAD -- . "${STUDY_OUTPUTS[@]}" >"$STUDY_DIR/uncommitted.diff"
    echo "ALLOW_DIRTY=1: running on uncommitted changes, recorded in $STUDY_DIR/uncommitted.diff" \
        "(at $(git rev-parse --short HEAD))" >&2
else
    # an earlier dirty run's diff would describe code this run does not have
    rm -f "$STUDY_DIR/uncommitted.diff"
fi
