"""run_info.json: every command that writes results says what made them, and a dirty tree
leaves its diff beside them. The tree is made dirty in a temporary git repository that
``git_state`` is pointed at, so the test does not depend on this checkout's state."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, open_dict

from deepdance.errors import DeepdanceError
from deepdance.models.registry import LATENT_LSTM
from deepdance.utils import run_info
from tests.helpers.runs import compose_config, run_eval, run_task, run_train


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def dirty_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one commit, a changed tracked file and an untracked one; the code
    deepdance records is this repository's."""
    repo = tmp_path / "code"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "model.py").write_text("lr = 0.1\n")
    _git(repo, "add", "model.py")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    (repo / "model.py").write_text("lr = 0.2\n")
    (repo / "notes.txt").write_text("not tracked\n")
    monkeypatch.setattr(run_info, "CODE_DIR", repo)
    return repo


def assert_dirty_record(run_dir: Path, repo: Path) -> dict[str, Any]:
    """run_info.json names the commit, says dirty, and its hash is the hash of the diff beside it."""
    info = json.loads((run_dir / run_info.RUN_INFO).read_text())
    git = info["git"]
    diff = (run_dir / run_info.UNCOMMITTED_DIFF).read_text()
    assert git["commit"] == _git(repo, "rev-parse", "HEAD").strip() and git["dirty"] is True
    assert "-lr = 0.1" in diff and "+lr = 0.2" in diff
    assert git["diff_sha256"] == hashlib.sha256(diff.encode()).hexdigest()
    assert git["diff_file"] == "uncommitted.diff" and git["untracked"] == ["notes.txt"]
    assert "not in the diff" in git["untracked_note"]
    assert {"cpu_model", "cpu_count", "memory_gb"} <= set(info["machine"]) and info["machine"][
        "cpu_count"
    ] >= 1
    assert "torch" in info["packages"] and info["command"]
    return info


def test_a_clean_tree_has_no_diff_and_a_stale_one_is_removed(dirty_repo: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_info.write_run_info(run_dir, DictConfig({"task_name": "t"}))
    assert_dirty_record(run_dir, dirty_repo)
    _git(dirty_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "second")
    run_info.write_run_info(run_dir, DictConfig({"task_name": "t"}))
    git = json.loads((run_dir / run_info.RUN_INFO).read_text())["git"]
    assert git["dirty"] is False and "diff_sha256" not in git
    assert not (run_dir / run_info.UNCOMMITTED_DIFF).exists()
    # untracked files alone do not make a tree dirty (the studies' rule), but they are named
    assert git["untracked"] == ["notes.txt"]


def test_outside_git_the_commit_is_unknown(tmp_path: Path) -> None:
    assert run_info.git_state(tmp_path) == {"commit": None, "dirty": None}


def test_train_and_eval_record_a_dirty_tree(
    dirty_repo: Path, cfg_train: DictConfig, cfg_eval: DictConfig, tmp_path: Path
) -> None:
    with open_dict(cfg_train):
        cfg_train.trainer.max_epochs = 1
    metrics, _ = run_train(cfg_train)
    assert_dirty_record(tmp_path / "run", dirty_repo)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    with open_dict(cfg_eval):
        cfg_eval.ckpt_path = summary["best_ckpt"]
    run_eval(cfg_eval)
    assert_dirty_record(tmp_path / "eval", dirty_repo)


class _Scorer:
    def score(self) -> dict[str, float]:
        return {"gen/fdd": 1.0}


def test_score_generation_records_a_dirty_tree(
    dirty_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is written before scoring (the scorer itself is replaced: its cost is not
    what is tested here)."""
    import deepdance.score_generation as command

    # the start-up checks would read the checkpoints; their verdict is the latent LSTM's metadata
    latent_lstm = {"model_target": LATENT_LSTM.target}
    monkeypatch.setattr(command, "validate_score_generation", lambda cfg: latent_lstm)
    monkeypatch.setattr(command, "load_scorer", lambda *args, **kwargs: _Scorer())
    run_dir = tmp_path / "score"
    cfg = compose_config(
        "score_generation", ["lstm_ckpt=lstm.ckpt", "recognizer_ckpt=genre.ckpt", f"hydra.run.dir={run_dir}"]
    )
    run_task(command.score, cfg)
    assert_dirty_record(run_dir, dirty_repo)
    assert json.loads((run_dir / "summary.json").read_text())["gen/fdd"] == 1.0


def _stop_after_the_record(*args: Any) -> Callable[..., Any]:
    raise DeepdanceError("stopped by the test after the run record")


def test_bench_records_a_dirty_tree_before_measuring(
    dirty_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepdance.bench import runner

    monkeypatch.setattr(runner, "machine_facts", _stop_after_the_record)
    run_dir = tmp_path / "bench"
    cfg = compose_config("bench", ["bench=smoke", f"hydra.run.dir={run_dir}"])
    with pytest.raises(DeepdanceError, match="stopped by the test"):
        run_task(lambda c: runner.run_benchmark(c), cfg)
    assert_dirty_record(run_dir, dirty_repo)


def test_report_records_a_dirty_tree_in_its_folder(dirty_repo: Path, tmp_path: Path) -> None:
    from deepdance.report import main

    runs = tmp_path / "runs"
    for seed, acc in ((1, 0.5), (2, 0.7)):
        run = runs / f"seed{seed}"
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(f"- seed={seed}\n")
        (run / "summary.json").write_text(json.dumps({"test/acc": acc}))
    main([str(runs), "--out", str(tmp_path / "report")])
    info = assert_dirty_record(tmp_path / "report", dirty_repo)
    assert info["inputs"] == [str(runs)]


def test_bench_tables_name_the_code_that_made_them() -> None:
    from deepdance.bench.report import _code_line

    dirty = {"commit": "0123456789abcdef", "dirty": True, "diff_sha256": "fedcba9876543210"}
    assert _code_line(dirty) == "Code: commit `0123456789`, dirty (uncommitted diff SHA-256 fedcba987654)."
    assert _code_line({"commit": "0123456789abcdef", "dirty": False}).endswith(", clean.")
    assert _code_line(None) == "Code: no git record."


def test_a_reports_record_leaves_out_the_studys_other_reports_but_not_code(dirty_repo: Path) -> None:
    """A study rewrites several tracked reports in turn: one rewritten report must not mark the
    next report's record dirty, while a changed code file still does."""
    report = dirty_repo / "experiments" / "s" / "report" / "motion"
    report.mkdir(parents=True)
    (report / ".deepdance_report.json").write_text("{}\n")
    (report / "report.md").write_text("old\n")
    _git(dirty_repo, "add", "-A", "experiments")
    _git(dirty_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "report")
    (report / "report.md").write_text("regenerated\n")
    outputs = run_info.tracked_folders_holding(".deepdance_report.json")
    assert outputs == ["experiments/s/report/motion"]
    assert run_info.git_state(outputs=outputs)["dirty"] is False
    assert run_info.git_state()["dirty"] is True
    (dirty_repo / "model.py").write_text("lr = 0.3\n")
    state = run_info.git_state(outputs=outputs)
    assert state["dirty"] is True and "+lr = 0.3" in state["diff"] and "regenerated" not in state["diff"]


def test_a_study_runs_record_leaves_out_the_studys_own_results_but_not_code(
    dirty_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun rewrites the study's committed results seed by seed: the next seed's record must
    not turn dirty for them (experiments/clean_tree.sh names them in $DEEPDANCE_STUDY_OUTPUTS), while a
    changed code file still makes it dirty."""
    _git(dirty_repo, "checkout", "-q", "model.py")
    results = dirty_repo / "experiments" / "s" / "results" / "seed1"
    results.mkdir(parents=True)
    (results / "summary.json").write_text('{"acc": 0.5}\n')
    _git(dirty_repo, "add", "-A", "experiments")
    _git(dirty_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "results")
    (results / "summary.json").write_text('{"acc": 0.6}\n')
    assert run_info.collect_run_info()["git"]["dirty"] is True
    monkeypatch.setenv(run_info.STUDY_OUTPUTS_ENV, "experiments/s/results:experiments/s/report")
    git = run_info.collect_run_info()["git"]
    assert git["dirty"] is False
    assert git["outputs_left_out"] == ["experiments/s/results", "experiments/s/report"]
    (dirty_repo / "model.py").write_text("lr = 0.3\n")
    git = run_info.collect_run_info()["git"]
    assert git["dirty"] is True and "+lr = 0.3" in git["diff"] and "0.6" not in git["diff"]


def test_clean_tree_sh_hands_the_studys_outputs_to_its_runs_and_still_ignores_them(tmp_path: Path) -> None:
    """The real script, sourced as a study sources it: a resumed study (its committed results
    rewritten) starts, and the runs it starts see the study's outputs in their environment."""
    repo = tmp_path / "repo"
    (repo / "experiments" / "s" / "results").mkdir(parents=True)
    script = Path(__file__).resolve().parents[1] / "experiments" / "clean_tree.sh"
    (repo / "experiments" / "clean_tree.sh").write_text(script.read_text())
    (repo / "experiments" / "s" / "results" / "summary.json").write_text("{}\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "study")
    (repo / "experiments" / "s" / "results" / "summary.json").write_text('{"acc": 1}\n')
    child = "python3 -c \"import os; print(os.environ['DEEPDANCE_STUDY_OUTPUTS'])\""
    study = f"set -euo pipefail; STUDY_DIR=experiments/s; source experiments/clean_tree.sh; {child}"
    done = subprocess.run(
        ["bash", "-c", study],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "experiments/s/results:experiments/s/report"
