"""Checkpoints written before deepdance/data/ was split into subpackages still load and run.

Both files in tests/data/legacy/ were written by main at commit 87ec936: their metadata names
``deepdance.data.genre_datamodule.GenreDataModule`` and
``deepdance.data.silhouette.SilhouetteDataModule``. The genre classifier was trained on the tiny
synthetic data of ``conftest.TINY_SYNTHETIC`` (num_frames 4, img_size 32, optimizer state
stripped); the latent LSTM carries its autoencoder.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

import decord
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from deepdance.utils.checkpoints import load_checkpoint
from deepdance.utils.legacy_targets import LEGACY_TARGETS, current_target, upgrade_targets
from tests.helpers.runs import REPO

LEGACY = REPO / "tests" / "data" / "legacy"
GENRE_CKPT = LEGACY / "genre_classifier_87ec936.ckpt"
LSTM_CKPT = LEGACY / "latent_lstm_87ec936.ckpt"
# written by main at b63e0a1 (before the LSTM took a typed config and lost its evaluation
# harness): mixture head, 2-step rollout loss, context dropout 0.5, optimizer state stripped
MDN_LSTM_CKPT = LEGACY / "latent_lstm_mdn_b63e0a1.ckpt"


@pytest.fixture
def hydra_conf() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        yield
    HydraConfig.instance().cfg = None
    GlobalHydra.instance().clear()


def compose_entry(entry: str, overrides: list[str]) -> DictConfig:
    """The config a CLI run gets, with Hydra's record of the overrides (eval reads it)."""
    cfg = compose(config_name=entry, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def test_every_old_path_maps_to_a_class_that_imports() -> None:
    import hydra

    for old, new in LEGACY_TARGETS.items():
        assert old != new and hydra.utils.get_class(new).__name__ == old.rsplit(".", 1)[1]
    assert (
        current_target("deepdance.models.genre_module.GenreClassifier")
        == "deepdance.models.genre_module.GenreClassifier"
    )
    stored = {
        "model_target": "x.Y",
        "data": {"_target_": "deepdance.data.augment.ClipAugment", "n": [{"_target_": "a.B"}]},
    }
    assert upgrade_targets(stored) == {
        "model_target": "x.Y",
        "data": {"_target_": "deepdance.data.genre.ClipAugment", "n": [{"_target_": "a.B"}]},
    }


def test_old_metadata_reads_as_todays_paths() -> None:
    assert (
        load_checkpoint(GENRE_CKPT)["deepdance"]["data"]["_target_"] == "deepdance.data.genre.GenreDataModule"
    )
    assert (
        load_checkpoint(LSTM_CKPT)["deepdance"]["data"]["_target_"]
        == "deepdance.data.silhouette.SilhouetteDataModule"
    )


def test_old_genre_checkpoint_evaluates(tiny_synthetic: Path, tmp_path: Path, hydra_conf: None) -> None:
    """eval rebuilds the datamodule from the stored (old) data config and tests the model."""
    from deepdance.eval import evaluate

    cfg = compose_entry(
        "eval",
        [
            f"ckpt_path={GENRE_CKPT}",
            f"data.root={tiny_synthetic}",
            f"data.features.dir={tmp_path / 'features'}",
            "trainer=cpu",
            "logger=csv",
            f"paths.output_dir={tmp_path / 'run'}",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
    )
    metrics, objects = evaluate(cfg)
    assert type(objects["datamodule"]).__module__ == "deepdance.data.genre.datamodule"
    acc = float(metrics["test/acc"])
    assert (tmp_path / "run" / "summary.json").is_file()
    # the accuracy is the share of test videos whose single-clip prediction is their genre
    with open(tmp_path / "run" / "test_predictions.csv", newline="") as handle:
        hits = [row["pred_single"] == row["genre"] for row in csv.DictReader(handle)]
    assert len(hits) == 10 and acc == pytest.approx(sum(hits) / len(hits))


def test_a_mdn_lstm_checkpoint_of_b63e0a1_evaluates(tmp_path: Path, hydra_conf: None) -> None:
    """eval rebuilds its synthetic dance from the stored data settings and tests the LSTM: the
    one-step metrics beside every baseline, rollout errors and liveliness."""
    from deepdance.eval import evaluate

    cfg = compose_entry(
        "eval",
        [
            f"ckpt_path={MDN_LSTM_CKPT}",
            f"++data.synthetic.dir={tmp_path / 'dance'}",
            f"++data.cache_dir={tmp_path / 'cache'}",
            "trainer=cpu",
            "logger=csv",
            f"paths.output_dir={tmp_path / 'run'}",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
    )
    metrics, objects = evaluate(cfg)
    module = objects["model"]
    assert module.hparams.head == "mdn" and module.training_loss.steps == 2
    assert module.training_loss.context_dropout == 0.5
    # the ridge baseline and the latents' statistics come from the checkpoint, not from a refit
    stored = torch.load(MDN_LSTM_CKPT, weights_only=True)["state_dict"]
    assert torch.equal(module.ridge.weight.cpu(), stored["ridge.weight"])
    assert torch.equal(module.latent_std.cpu(), stored["latent_std"])
    live = {k: float(v) for k, v in metrics.items() if k.startswith("test/liveliness3")}
    assert live["test/liveliness3_repeat"] == 0 and live["test/liveliness3_real"] > 0
    assert live["test/liveliness3_ratio"] == pytest.approx(
        live["test/liveliness3"] / live["test/liveliness3_real"]
    )
    keys = {"test/rollout1_mse", "test/rollout3_iou_ridge", "test/next_iou_extrap", "test/next_mse_recon"}
    assert keys <= set(metrics) and all(math.isfinite(float(metrics[k])) for k in keys)


def test_old_lstm_checkpoint_generates(tmp_path: Path, hydra_conf: None) -> None:
    from deepdance.generate import generate

    out = tmp_path / "dance.mp4"
    cfg = compose_entry(
        "generate",
        [
            f"ckpt_path={LSTM_CKPT}",
            "seed=random",
            "steps=3",
            "fps=3",
            f"out={out}",
            f"paths.output_dir={tmp_path}",
        ],
    )
    reads = []
    real_load = torch.load
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch, "load", lambda f, *a, **k: reads.append(f) or real_load(f, *a, **k))
        stats, _ = generate(cfg)
    assert stats["frames"] > 3 and len(decord.VideoReader(str(out))) == stats["frames"]
    # the start-up check and the model share one read of the checkpoint
    assert len(reads) == 1
