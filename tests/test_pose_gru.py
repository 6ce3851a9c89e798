"""experiment=pose_gru: the skeleton genre model learns from keypoints, reports what the video
model reports, and loads back from its checkpoint through the model registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from deepdance.config.pose_model import PoseClassifierConfig
from deepdance.data.aist.annotations.keypoints import load_keypoints2d
from deepdance.models.pose_module import PoseClassifier, predict_sequence
from deepdance.models.registry import FAMILIES, load_model
from tests.helpers.poses import write_dance_folder
from tests.helpers.runs import compose_config, run_train

GENRES = ("BR", "PO", "LO")
# chance is 1/3; the three genres differ only in tempo, so this needs the motion
MIN_TEST_ACC = 0.8


def tiny_model(**settings: object) -> PoseClassifier:
    optimizer = {"_target_": "torch.optim.Adam", "lr": 0.01}
    return PoseClassifier(PoseClassifierConfig(optimizer=optimizer, class_names=list(GENRES), **settings))


def test_forward_ignores_padded_frames() -> None:
    model = tiny_model(encoder={"hidden": [16], "temporal_kernel": 3}).eval()
    poses, mask = torch.randn(2, 6, 85), torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False
    logits = model(poses, mask)
    assert logits.shape == (2, 3)
    changed = poses.clone()
    changed[1, 4:] = 100.0
    # padding never reaches the GRU, whatever it holds
    torch.testing.assert_close(model(changed, mask)[1], logits[1])


@pytest.fixture(scope="module")
def dances(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 genres x 6 dancers x 2 musics, 2 views of 2 s each: 1 test, 1 val, 4 train dancers per genre."""
    return write_dance_folder(tmp_path_factory.mktemp("dances"), GENRES, dancers_per_genre=6, views=2)


def pose_run(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "experiment=pose_gru",
        "data=aist_pose",
        f"data.root={root}",
        f"data.genres=[{','.join(GENRES)}]",
        "data.num_frames=12",
        "data.test_clips=3",
        "data.view_vote=true",
        "data.batch_size=4",
        "trainer.max_epochs=25",
        "trainer.accelerator=cpu",
        "callbacks.rich_progress_bar=null",
        "callbacks.early_stopping=null",
        # 12 val samples reach val/acc 1.0 early, on an undertrained model: keep the lowest val loss
        "callbacks.model_checkpoint.monitor=val/loss",
        "callbacks.model_checkpoint.mode=min",
        "logger=csv",
        "print_config=false",
        "seed=1",
        f"hydra.run.dir={out}",
        *extra,
    ]


def test_pose_gru_learns_held_out_dancers_and_reloads(dances: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    metrics, objects = run_train(compose_config("train", pose_run(dances, tmp_path)))
    summary = json.loads((tmp_path / "summary.json").read_text())
    manifest = pd.read_csv(tmp_path / "manifest.csv", dtype={"dancer": str})
    test = manifest[manifest["split"] == "test"]
    # 3 genres x 1 held-out dancer x 2 musics x 2 views, none of them seen in training
    assert len(test) == 3 * 2 * 2
    assert not set(test["dancer"]) & set(manifest.loc[manifest["split"] == "train", "dancer"])
    assert summary["test/acc"] >= MIN_TEST_ACC, summary
    # the video model's report: K windows averaged, views voted, per genre, confusion matrix
    for key in ("test/acc_clips3", "test/acc_views", "test/f1_macro", "test/acc_BR"):
        assert key in summary, sorted(summary)
    matrix = pd.read_csv(tmp_path / "confusion_matrix.csv", index_col=0)
    assert matrix.shape == (3, 3) and matrix.to_numpy().sum() == len(test)
    assert (tmp_path / "test_predictions.csv").is_file()

    # the best checkpoint through the registry: the same model, the same scores
    model, metadata, family = load_model(summary["best_ckpt"], "eval")
    assert family is FAMILIES["pose_classifier"] and isinstance(model, PoseClassifier)
    assert metadata["data"]["_target_"] == "deepdance.data.pose.PoseDataModule"
    batch = next(iter(objects["datamodule"].val_dataloader()))
    trained = objects["model"].eval()
    with torch.no_grad():
        torch.testing.assert_close(
            model(batch["poses"], batch["mask"]), trained(batch["poses"], batch["mask"])
        )

    # predict from one annotation file: probabilities over the classes, the right genre here
    path = Path(test["path"].iloc[0])
    probabilities = predict_sequence(model, load_keypoints2d(path), metadata["data"])
    assert probabilities.shape == (3,) and np.isclose(probabilities.sum(), 1.0, atol=1e-5)
    assert GENRES[int(probabilities.argmax())] == test["genre"].iloc[0]
