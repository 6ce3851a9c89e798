#!/usr/bin/env bash
# The CPU benchmark behind bench-cpu.json/.md (the command recorded in bench-cpu.json), writing
# its tables here (an earlier deepdance result of the same name is replaced). docs/bench.md explains the rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/bench
source experiments/clean_tree.sh
export HF_HUB_OFFLINE=1 WANDB_MODE=offline
# 3 repeats (median, min, max); the model sweep at batch 1 (the seed's) and 20 (deepdance's call here)
${PY:-python} -m deepdance.bench 'bench.sets=[aist_1080p60]' bench.limit=2 bench.repeats=3 \
    bench.profiles.cpu.batch_videos=1 'bench.profiles.cpu.model_batch_sizes=[1,20]' \
    bench.out_dir=experiments/bench "$@"
