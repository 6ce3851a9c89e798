"""Interrupted training and reproducibility, with real signals on the real CLI.

Runs (tiny data, 3 epochs x 3 batches, trainer.deterministic=true, seed 12345, CPU):
A and A2 uninterrupted; B killed with SIGKILL in epoch 2 and resumed in a new run dir with
``ckpt_path=last``; C stopped with SIGTERM mid-epoch and resumed in its own run dir.
B and C, the runs that get a signal, are real ``python -m deepdance.train`` processes; the
others run in this process, composed as the CLI composes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.helpers.runs import run_cli, small_run, train_in_process

pytestmark = pytest.mark.slow


def overrides(root: Path, logs: Path, run: str) -> list[str]:
    return small_run(
        root,
        "data.batch_size=4",
        "trainer.max_epochs=3",
        "trainer.deterministic=true",
        "trainer.limit_train_batches=3",
        "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2",
        f"paths.log_dir={logs}",
        f"hydra.run.dir={logs / 'train' / 'runs' / run}",
    )


def signal_at(step: int, name: str) -> list[str]:
    return [
        "+callbacks.interrupt._target_=tests.helpers.interrupt.SignalAt",
        f"+callbacks.interrupt.step={step}",
        f"+callbacks.interrupt.signal_name={name}",
    ]


def metrics(run_dir: Path) -> dict[str, float]:
    """The run's logged metrics; ``time/run_s`` (its wall time) is left out, it is no result."""
    summary = json.loads((run_dir / "summary.json").read_text())
    return {k: v for k, v in summary.items() if "/" in k and not k.startswith("time/")}


@pytest.fixture(scope="module")
def runs(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    logs = tmp_path_factory.mktemp("logs")
    out: dict[str, object] = {"logs": logs}
    for name, extra in [
        ("A", []),
        ("A2", []),
        ("B", signal_at(7, "SIGKILL")),
        ("B2", ["ckpt_path=last"]),
        ("C", signal_at(5, "SIGTERM")),
        ("C2", ["ckpt_path=last"]),
    ]:
        # C2 is C requeued: same command, same run dir
        run = "C" if name == "C2" else name
        if name in ("B", "C"):
            out[name] = run_cli("deepdance.train", *overrides(tiny_synthetic, logs, run), *extra)
        else:
            out[name] = train_in_process([*overrides(tiny_synthetic, logs, run), *extra])
        if name == "C":  # before C2 overwrites it
            last = logs / "train" / "runs" / "C" / "checkpoints" / "last.ckpt"
            out["C_step"] = torch.load(last, weights_only=True)["global_step"] if last.is_file() else None
    return out


def run_dir(runs: dict, name: str) -> Path:
    return runs["logs"] / "train" / "runs" / name


def test_same_seed_and_config_give_identical_metrics(runs: dict) -> None:
    first, second = metrics(run_dir(runs, "A")), metrics(run_dir(runs, "A2"))
    assert len(first) > 10 and first == second


def test_sigkill_then_ckpt_path_last_resumes_to_exactly_the_same_metrics(runs: dict) -> None:
    assert runs["B"].returncode == -9  # SIGKILL: no handler, no clean-up
    last = run_dir(runs, "B") / "checkpoints" / "last.ckpt"
    assert (
        torch.load(last, weights_only=True)["global_step"] == 6
    )  # end of epoch 1, the newest saved (improved or not)
    summary = json.loads((run_dir(runs, "B2") / "summary.json").read_text())
    assert summary["resumed_from"] == str(last)  # the newest run of the task
    assert metrics(run_dir(runs, "B2")) == metrics(run_dir(runs, "A"))


def test_sigterm_mid_epoch_saves_a_checkpoint_exits_cleanly_and_resumes_exactly(runs: dict) -> None:
    result = runs["C"]
    assert result.returncode == 143, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "SIGTERM at epoch 1, step 5: saved" in output and "resume with ckpt_path=last" in output
    assert runs["C_step"] == 5  # mid-epoch 1: last.ckpt was saved by the SIGTERM, not at an epoch end
    checkpoints = run_dir(runs, "C") / "checkpoints"
    summary = json.loads((run_dir(runs, "C") / "summary.json").read_text())
    assert summary["resumed_from"] == str(checkpoints / "last.ckpt")
    final = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert final["global_step"] == 9 and final["epoch"] == 2  # the same 3 x 3 steps as an uninterrupted run
    assert (
        final["epoch"]
        == torch.load(run_dir(runs, "A") / "checkpoints" / "last.ckpt", weights_only=True)["epoch"]
    )
    assert metrics(run_dir(runs, "C")) == metrics(
        run_dir(runs, "A")
    )  # resumed mid-epoch, yet exactly the same run


def test_every_run_dir_records_config_commit_versions_and_manifest_hash(runs: dict) -> None:
    import hashlib

    import pandas as pd

    for name in ("A", "B2"):
        folder = run_dir(runs, name)
        info = json.loads((folder / "run_info.json").read_text())
        assert len(info["git"]["commit"]) == 40 and isinstance(info["git"]["dirty"], bool)
        assert {"torch", "pytorch-lightning", "timm", "decord", "av", "hydra-core"} <= set(info["packages"])
        assert info["manifest_sha256"] == hashlib.sha256((folder / "manifest.csv").read_bytes()).hexdigest()
        assert info["videos"] == len(pd.read_csv(folder / "manifest.csv"))
        resolved = (folder / "resolved_config.yaml").read_text()
        assert "${" not in resolved and f"output_dir: {folder}" in resolved
        assert (folder / ".hydra" / "config.yaml").is_file()
    assert (
        json.loads((run_dir(runs, "A") / "run_info.json").read_text())["manifest_sha256"]
        == json.loads((run_dir(runs, "B2") / "run_info.json").read_text())["manifest_sha256"]
    )


def test_checkpoints_written_by_training_are_plain_data(runs: dict) -> None:
    for path in (run_dir(runs, "A") / "checkpoints").glob("*.ckpt"):
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
        torch.load(path, weights_only=True)
