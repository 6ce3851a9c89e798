"""A study refuses a dirty tree unless ALLOW_DIRTY=1, which records the diff beside its results.

The real ``experiments/common.sh`` runs a tiny study script in a temporary git repository, as a
subprocess: what is tested is the shell's refusal and exit code. ``PY`` is a stand-in for
Python that writes what a finished training run leaves (summary, overrides, run record, and a
dirty tree's diff, as ``deepdance.utils.run_info`` does), so no model is trained.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

STUDY = """#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY_DIR=experiments/tiny
source experiments/common.sh
study_run "$OUT" default 1 model.lr=0.1
"""

# python -m deepdance.train seed=1 ... hydra.run.dir=DIR, as far as a study can tell
FAKE_PYTHON = """#!/usr/bin/env bash
set -euo pipefail
for arg in "$@"; do [[ $arg == hydra.run.dir=* ]] && dir=${arg#hydra.run.dir=}; done
mkdir -p "$dir/.hydra"
echo '{"test/acc": 0.5}' >"$dir/summary.json"
printf -- '- seed=1\\n- model.lr=0.1\\n' >"$dir/.hydra/overrides.yaml"
echo "{\\"git\\": {\\"commit\\": \\"$(git rev-parse HEAD)\\"}}" >"$dir/run_info.json"
if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then git diff HEAD >"$dir/uncommitted.diff"; fi
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def study_repo(tmp_path: Path) -> Path:
    """A repository holding common.sh, the tiny study and one tracked code file, all committed."""
    repo = tmp_path / "repo"
    (repo / "experiments" / "tiny").mkdir(parents=True)
    for script in ("common.sh", "clean_tree.sh"):
        shutil.copy(REPO / "experiments" / script, repo / "experiments" / script)
    (repo / "experiments" / "tiny" / "run.sh").write_text(STUDY)
    (repo / "experiments" / "tiny" / "run.sh").chmod(0o755)
    (repo / "model.py").write_text("lr = 0.1\n")
    # run dirs are not committed, as in the project
    (repo / ".gitignore").write_text("logs/\n")
    fake = tmp_path / "fake_python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "study")
    return repo


def run_study(repo: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if key != "ALLOW_DIRTY"}
    environ.update({"PY": str(repo.parent / "fake_python"), **env})
    return subprocess.run(
        [str(repo / "experiments" / "tiny" / "run.sh")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def results(repo: Path) -> Path:
    return repo / "experiments" / "tiny" / "results" / "default" / "seed1"


def test_a_clean_tree_runs_and_records_no_diff(study_repo: Path) -> None:
    # an untracked file is not a change to the code the study runs
    (study_repo / "scratch.txt").write_text("notes\n")
    done = run_study(study_repo)
    assert done.returncode == 0, done.stderr
    assert (results(study_repo) / "summary.json").is_file() and (
        results(study_repo) / "run_info.json"
    ).is_file()
    assert not (results(study_repo) / "uncommitted.diff").exists()
    assert not (study_repo / "experiments" / "tiny" / "uncommitted.diff").exists()


def test_a_dirty_tree_is_refused_before_any_run(study_repo: Path) -> None:
    (study_repo / "model.py").write_text("lr = 0.2\n")
    done = run_study(study_repo)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: uncommitted changes to tracked files (1 files)")
    )
    assert "ALLOW_DIRTY=1" in done.stderr
    assert (
        not results(study_repo).exists() and not (study_repo / "logs" / "studies" / "tiny" / "runs").exists()
    )


def test_allow_dirty_records_the_diff_for_the_study_and_each_run(study_repo: Path) -> None:
    (study_repo / "model.py").write_text("lr = 0.2\n")
    done = run_study(study_repo, ALLOW_DIRTY="1")
    assert done.returncode == 0, done.stderr
    study_diff = (study_repo / "experiments" / "tiny" / "uncommitted.diff").read_text()
    run_diff = (results(study_repo) / "uncommitted.diff").read_text()
    assert "+lr = 0.2" in study_diff and "+lr = 0.2" in run_diff


def test_the_studys_own_rewritten_results_do_not_make_it_dirty(study_repo: Path) -> None:
    assert run_study(study_repo).returncode == 0
    _git(study_repo, "add", ".")
    _git(study_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "results")
    # a resumed study rewrites its committed results and report
    (results(study_repo) / "summary.json").write_text('{"test/acc": 0.6}\n')
    shutil.rmtree(study_repo / "logs")
    done = run_study(study_repo)
    assert done.returncode == 0, done.stderr


def test_every_study_script_checks_the_tree() -> None:
    """Each runnable study sources common.sh (training studies) or clean_tree.sh itself."""
    scripts = sorted(REPO.glob("experiments/*/*.sh"))
    assert len(scripts) >= 8
    sources = ("source experiments/common.sh", "source experiments/clean_tree.sh")
    unchecked = [
        str(path.relative_to(REPO)) for path in scripts if not any(s in path.read_text() for s in sources)
    ]
    assert not unchecked, f"study scripts that do not refuse a dirty tree: {unchecked}"
