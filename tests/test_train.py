"""End-to-end runs on tiny synthetic data: train and eval in-process (composed as the CLI does),
summary.json; user errors end the run with exit code 2 and one ``error:`` line (the real CLI's
exit code and missing traceback are tested once per entry point in test_cli_errors.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig, open_dict

from tests.helpers.runs import compose_config, run_eval, run_train, small_run, train_in_process, user_error

pytestmark = pytest.mark.slow


def tiny_overrides(root: Path, run_dir: Path) -> list[str]:
    return small_run(root, f"hydra.run.dir={run_dir}")


@pytest.fixture(scope="module")
def trained_run(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("train_run")
    train_in_process(tiny_overrides(tiny_synthetic, run_dir))
    return run_dir


def test_train_writes_summary_with_logged_metric_names(trained_run: Path) -> None:
    summary = json.loads((trained_run / "summary.json").read_text())
    # a loss is finite and not negative
    assert math.isfinite(summary["train/loss"]) and summary["train/loss"] >= 0.0, summary["train/loss"]
    assert summary["val/acc_best"] >= summary["val/acc"]
    assert summary["split"] == "dancer" and summary["seed"] == 12345
    assert (
        Path(summary["best_ckpt"]).is_file()
        and Path(summary["best_ckpt"]).parent == trained_run / "checkpoints"
    )
    assert (trained_run / "checkpoints" / "last.ckpt").is_file()
    assert (trained_run / "confusion_matrix.png").stat().st_size > 1000
    matrix = pd.read_csv(trained_run / "confusion_matrix.csv", index_col=0)
    # 10 test dancers x 1 video
    assert matrix.shape == (10, 10) and matrix.to_numpy().sum() == 10
    # test/acc is the confusion matrix's diagonal share, and test/acc_BR its BR row
    assert summary["test/acc"] == pytest.approx(np.trace(matrix.to_numpy()) / 10)
    assert summary["test/acc_BR"] == pytest.approx(matrix.loc["BR", "BR"] / matrix.loc["BR"].sum())
    # the macro scores from the same matrix (rows: true genre, one test video each; columns: predicted)
    counts = matrix.to_numpy()
    hits, true, predicted = np.diag(counts), counts.sum(axis=1), counts.sum(axis=0)
    assert summary["test/acc_macro"] == pytest.approx(np.mean(hits / true))
    assert summary["test/f1_macro"] == pytest.approx(np.mean(2 * hits / (true + predicted)))
    # val/acc is the last epoch's and val/acc_best the best epoch's, as the CSV log has them
    val_acc = pd.read_csv(trained_run / "csv" / "metrics.csv")["val/acc"].dropna().tolist()
    assert len(val_acc) == 2 and summary["val/acc"] == pytest.approx(val_acc[-1])
    assert summary["val/acc_best"] == pytest.approx(max(val_acc))


def test_default_split_shares_no_dancer_between_splits(trained_run: Path) -> None:
    manifest = pd.read_csv(trained_run / "manifest.csv", dtype={"dancer": str})
    assert manifest.groupby("dancer")["split"].nunique().max() == 1
    assert set(manifest["split"]) == {"train", "val", "test"}
    assert (manifest.groupby(["genre", "split"])["dancer"].nunique() == 1).all()  # 3 dancers: 1/1/1


def test_eval_reproduces_test_metrics_from_checkpoint(trained_run: Path, cfg_eval: DictConfig) -> None:
    summary = json.loads((trained_run / "summary.json").read_text())
    with open_dict(cfg_eval):
        cfg_eval.ckpt_path = summary["best_ckpt"]
    run_eval(cfg_eval)
    evaluated = json.loads((Path(cfg_eval.hydra.run.dir) / "summary.json").read_text())
    assert evaluated["test/acc"] == pytest.approx(summary["test/acc"], abs=1e-6)
    assert evaluated["ckpt_path"] == summary["best_ckpt"]


def test_genre_gru_with_random_inception_runs_end_to_end(tiny_synthetic: Path, tmp_path: Path) -> None:
    overrides = [
        o
        for o in tiny_overrides(tiny_synthetic, tmp_path)
        if not o.startswith(("data.img_size", "model.backbone.name", "trainer.max_epochs"))
    ]
    train_in_process(
        [
            "experiment=genre_gru",
            "model.backbone.pretrained=false",
            *overrides,
            "data.img_size=299",
            "data.batch_size=2",
            "trainer.max_epochs=1",
            # the feature store runs InceptionV3 over every video once: keep it small (2 genres: 6 videos)
            "data.features.clips=1",
            "data.test_clips=1",
            "data.genres=[BR,HO]",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
        ]
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "test/acc" in summary and summary["experiment"] == "genre_gru"


def test_genre_gru_offline_without_weights_says_how_to_supply_them(
    tiny_synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cfg = compose_config("train", ["experiment=genre_gru", *tiny_overrides(tiny_synthetic, tmp_path)])
    assert "model.backbone.weights=" in user_error(run_train, cfg, capsys)


@pytest.mark.parametrize("case", ["missing", "empty", "not_a_video"])
def test_bad_data_root_is_a_one_line_error_naming_the_path(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "videos"
    if case != "missing":
        root.mkdir()
    culprit = root
    if case == "not_a_video":
        # three dancers, so the split (made from the names first) is whole and probing names the file
        for dancer in ("03", "02", "01"):
            culprit = root / f"gBR_sBM_c01_d{dancer}_mBR0_ch01.mp4"
            culprit.write_text("this is not a video")
    overrides = [f"data.root={root}", "data.synthetic=null", f"hydra.run.dir={tmp_path / 'run'}"]
    cfg = compose_config("train", [*overrides, "print_config=false"])
    assert str(culprit) in user_error(run_train, cfg, capsys)
