"""The shared LightningModule base, the model-family registry and the report callbacks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader

from deepdance.callbacks import ConfusionMatrixReport, FrameStrips, RolloutVideo
from deepdance.errors import DeepdanceError
from deepdance.models.autoencoder_module import SilhouetteAEModule
from deepdance.models.base import DeepdanceModule
from deepdance.models.genre_module import GenreClassifier
from deepdance.models.latent_lstm_module import LatentLSTMModule
from deepdance.models.registry import (
    FAMILIES,
    describe_model,
    families_for,
    family_of,
    load_model,
    require_family,
)

LEGACY = Path(__file__).parent / "data" / "legacy"
GENRE_CKPT = LEGACY / "genre_classifier_87ec936.ckpt"
LSTM_CKPT = LEGACY / "latent_lstm_87ec936.ckpt"
OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
SMALL_NET = {"height": 24, "width": 40, "latent_dim": 8, "channels": 4, "hidden": 16}


def _tags(log_dir: Path) -> dict[str, list[str]]:
    """What TensorBoard's event files under ``log_dir`` hold, by kind (images, scalars, ...)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: dict[str, list[str]] = {}
    for events in log_dir.rglob("events.*"):
        accumulator = EventAccumulator(str(events.parent))
        accumulator.Reload()
        for kind, names in accumulator.Tags().items():
            if isinstance(names, list):
                tags.setdefault(kind, []).extend(names)
    return tags


def _trainer(tmp_path: Path, callbacks: list[pl.Callback]) -> pl.Trainer:
    loggers = [TensorBoardLogger(tmp_path, name="tb", version=0), CSVLogger(tmp_path, name="csv", version=0)]
    return pl.Trainer(
        default_root_dir=tmp_path,
        logger=loggers,
        callbacks=callbacks,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )


# ------------------------------------------------------------------ old checkpoints


@pytest.mark.parametrize("model_class, path", [(GenreClassifier, GENRE_CKPT), (LatentLSTMModule, LSTM_CKPT)])
def test_checkpoints_written_before_the_base_class_load_as_data(model_class, path: Path) -> None:
    """Checkpoints of main 87ec936 (with the report settings then in their hyper-parameters)
    load with weights_only into the new classes, through their typed config, weights included."""
    stored = torch.load(path, map_location="cpu", weights_only=True)
    model = family_of(f"{model_class.__module__}.{model_class.__name__}").load(path)
    assert isinstance(model, model_class) and isinstance(model.config, model_class.config_class)
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in stored["state_dict"].items())
    assert model.hparams.optimizer == stored["hyper_parameters"]["optimizer"]
    # the rollout settings of old LSTM checkpoints are now the RolloutVideo callback's
    assert not {"video_every_n_epochs", "video_steps"} & set(model.hparams)


def test_legacy_checkpoints_load_through_the_registry() -> None:
    genre, metadata, family = load_model(GENRE_CKPT, "predict")
    assert isinstance(genre, GenreClassifier) and family.name == "genre_classifier" and not genre.training
    assert metadata["data"]["img_size"] == genre.hparams.img_size
    lstm, _, family = load_model(LSTM_CKPT, "generate")
    assert isinstance(lstm, LatentLSTMModule) and family is FAMILIES["latent_lstm"]
    context = torch.randn(2, lstm.hparams.look_back, lstm.autoencoder.config["latent_dim"])
    assert lstm(context).shape == (2, lstm.autoencoder.config["latent_dim"])
    with pytest.raises(
        DeepdanceError,
        match=r"holds a deepdance.models.genre_module.GenreClassifier \(genre "
        r"classifier\) checkpoint, not a latent LSTM or pose-space dance generator checkpoint",
    ):
        load_model(GENRE_CKPT, "generate")
    with pytest.raises(
        DeepdanceError, match="not a genre classifier or skeleton genre classifier checkpoint"
    ):
        load_model(LSTM_CKPT, "predict", setting="ckpt_path")


# ------------------------------------------------------------------ base class


def test_hyperparameters_are_plain_data_and_reload_with_weights_only(tmp_path: Path) -> None:
    """Hydra hands the constructor OmegaConf nodes; the checkpoint must hold plain Python."""
    cfg = OmegaConf.create({"net": SMALL_NET, "optimizer": OPTIMIZER, "scheduler": None})
    model = SilhouetteAEModule.from_hparams(
        {"net": cfg.net, "optimizer": cfg.optimizer, "scheduler": cfg.scheduler}
    )
    assert type(model.hparams.net) is dict and type(model.hparams.optimizer) is dict
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(tmp_path / "ae.ckpt")
    loaded = FAMILIES["silhouette_ae"].load(tmp_path / "ae.ckpt")
    # the typed config's every setting, the defaults spelled out, reads back the same
    assert loaded.hparams == model.hparams and SMALL_NET.items() <= loaded.hparams.net.items()
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


def test_optimizer_and_scheduler_come_from_config_and_skip_frozen_parameters() -> None:
    scheduler = {"_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau", "_partial_": True, "patience": 2}
    # no _partial_ given: older configs wrote the optimiser without it
    model = SilhouetteAEModule.from_hparams(
        {"net": SMALL_NET, "optimizer": {"_target_": "torch.optim.SGD", "lr": 0.5}, "scheduler": scheduler}
    )
    model.net.decoder.requires_grad_(False)
    frozen = {id(p) for p in model.parameters() if not p.requires_grad}
    config = model.configure_optimizers()
    optimizer = config["optimizer"]
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["lr"] == 0.5
    params = [p for group in optimizer.param_groups for p in group["params"]]
    assert params and not {id(p) for p in params} & frozen
    assert len(params) == sum(p.requires_grad for p in model.parameters())
    assert isinstance(config["lr_scheduler"]["scheduler"], torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert (
        config["lr_scheduler"]["monitor"] == "val/loss" and config["lr_scheduler"]["scheduler"].patience == 2
    )
    # validating every 3rd epoch: the plateau scheduler steps only then, when its metric exists
    model._trainer = SimpleNamespace(check_val_every_n_epoch=3)
    assert model.configure_optimizers()["lr_scheduler"]["frequency"] == 3
    no_scheduler = SilhouetteAEModule.from_hparams(
        {"net": SMALL_NET, "optimizer": OPTIMIZER}
    ).configure_optimizers()
    assert set(no_scheduler) == {"optimizer"} and isinstance(no_scheduler["optimizer"], torch.optim.Adam)


def test_frozen_backbone_is_not_optimised() -> None:
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "test_resnet", "pretrained": False, "freeze": True},
            "head": {"gru_sizes": [8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
        }
    )
    model.backbone.requires_grad_(False)
    params = model.configure_optimizers()["optimizer"].param_groups[0]["params"]
    assert {id(p) for p in params} == {id(p) for p in model.head.parameters()}


def test_unknown_settings_are_refused_but_old_report_keys_accepted() -> None:
    model = SilhouetteAEModule.from_hparams(
        {"net": SMALL_NET, "optimizer": OPTIMIZER, "log_images_every_n_epochs": 3, "num_logged_images": 4}
    )
    assert "log_images_every_n_epochs" not in model.hparams
    with pytest.raises(DeepdanceError, match="model.log_image_every: not a setting of SilhouetteAEModule"):
        SilhouetteAEModule.from_hparams({"net": SMALL_NET, "optimizer": OPTIMIZER, "log_image_every": 3})
    with pytest.raises(DeepdanceError, match=r"model.optimizer._target_ is required"):
        SilhouetteAEModule.from_hparams({"net": SMALL_NET, "optimizer": {"lr": 0.1}})
    # the schema checks once: a loss or a net the autoencoder cannot take stops before building
    with pytest.raises(DeepdanceError, match="model.loss='l1': expected one of bce, mse"):
        SilhouetteAEModule.from_hparams({"net": SMALL_NET, "optimizer": OPTIMIZER, "loss": "l1"})
    with pytest.raises(DeepdanceError, match="divisible by 8"):
        SilhouetteAEModule.from_hparams({"net": {**SMALL_NET, "height": 20}, "optimizer": OPTIMIZER})


# ------------------------------------------------------------------ registry


def test_every_family_is_a_deepdance_module_and_named_for_its_commands() -> None:
    for family in FAMILIES.values():
        assert issubclass(family.model_class(), DeepdanceModule)
        assert family_of(family.target) is family
        assert family.description in describe_model(family.target)
    assert [f.name for f in families_for("predict")] == ["genre_classifier", "pose_classifier"]
    assert [f.name for f in families_for("generate")] == ["latent_lstm", "pose_lstm"]
    assert [f.name for f in families_for("autoencoder_ckpt")] == ["silhouette_ae"]
    assert len(families_for("eval")) == len(FAMILIES)
    # eval adds each family's report callbacks to its test run
    assert [type(c) for c in FAMILIES["genre_classifier"].report_callbacks()] == [ConfusionMatrixReport]
    assert [type(c) for c in FAMILIES["silhouette_ae"].report_callbacks()] == [FrameStrips]
    assert family_of("my.Model") is None and describe_model("my.Model") == "my.Model"
    with pytest.raises(DeepdanceError, match="x.ckpt holds a my.Model checkpoint, not a genre classifier or"):
        require_family({"model_target": "my.Model"}, "predict", "x.ckpt")
    with pytest.raises(DeepdanceError, match="holds a non-deepdance checkpoint"):
        require_family({}, "generate", "x.ckpt")


# ------------------------------------------------------------------ predict's model call


def test_clip_logits_embeds_each_distinct_frame_once_and_equals_forward() -> None:
    torch.manual_seed(0)
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "test_resnet", "pretrained": False},
            "head": {"gru_sizes": [8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
        }
    ).eval()
    frames = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    clip_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    mask = torch.tensor([[True, True, True, True], [True, True, True, False]])
    calls = []
    model.backbone.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    with torch.no_grad():
        logits = model.clip_logits(frames, mask, clip_index)
        assert calls == [5]
        expected = model(frames[clip_index], mask)
        assert torch.allclose(logits, expected, atol=1e-5)
        assert torch.allclose(model.clip_logits(frames[clip_index], mask), expected, atol=1e-5)


# ------------------------------------------------------------------ report callbacks


def _feature_batches(classes: int, videos: int, dim: int) -> DataLoader:
    torch.manual_seed(0)
    items = [
        {
            "features": torch.randn(4, dim),
            "mask": torch.ones(4, dtype=torch.bool),
            "label": i % classes,
            "video": i,
        }
        for i in range(videos)
    ]
    return DataLoader(items, batch_size=4)


def test_confusion_matrix_report_writes_files_and_reaches_every_logger(tmp_path: Path) -> None:
    names = ["BR", "PO", "LO"]
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "test_resnet", "pretrained": False, "freeze": True},
            "head": {"gru_sizes": [8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
            "class_names": names,
        }
    )
    loader = _feature_batches(len(names), 10, model.spec.num_features)
    trainer = _trainer(tmp_path, [ConfusionMatrixReport()])
    metrics = trainer.test(model, loader)[0]
    counts = np.loadtxt(
        tmp_path / "confusion_matrix.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3), dtype=int
    )
    assert counts.sum() == 10 and counts.sum(axis=1).tolist() == [4, 3, 3]
    assert np.trace(counts) / 10 == pytest.approx(metrics["test/acc"])
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 1000
    predictions = (tmp_path / "test_predictions.csv").read_text().splitlines()
    assert predictions[0].startswith("video_id,genre,pred_single") and len(predictions) == 11
    assert "test/confusion_matrix" in _tags(tmp_path / "tb")["images"]
    # the module computed the report; without the callback nothing is written
    assert model.test_report is not None and model.test_report.confusion.sum() == 10
    other = tmp_path / "without"
    _trainer(other, []).test(model, loader)
    assert not (other / "confusion_matrix.csv").exists()


def test_frame_strips_writes_inputs_above_reconstructions(tmp_path: Path) -> None:
    model = SilhouetteAEModule.from_hparams({"net": SMALL_NET, "optimizer": OPTIMIZER})
    frames = [{"frame": torch.randint(0, 2, (1, 24, 40), dtype=torch.uint8) * 255} for _ in range(6)]
    trainer = _trainer(tmp_path, [FrameStrips(every_n_epochs=1, count=3)])
    trainer.validate(model, DataLoader(frames, batch_size=4))
    from PIL import Image

    picture = np.asarray(Image.open(tmp_path / "reconstructions" / "val_epoch_000.png"))
    # two rows (inputs, reconstructions) of three 24x40 frames, 2-pixel gaps
    assert picture.shape == (2 * 24 + 2, 3 * 40 + 2 * 2)
    assert "val/reconstructions" in _tags(tmp_path / "tb")["images"]
    trainer.test(model, DataLoader(frames, batch_size=4))
    assert (tmp_path / "reconstructions" / "test_epoch_000.png").is_file()


def test_rollout_video_writes_the_mp4_and_reaches_every_logger(tmp_path: Path) -> None:
    import decord

    from deepdance.data.silhouette import Segment, SilhouetteSequences

    model = FAMILIES["latent_lstm"].load(LSTM_CKPT)
    hp = model.hparams
    video = np.random.default_rng(0).integers(0, 2, (40, 24, 40), dtype=np.uint8) * 255
    segments = {"train": [Segment(0, 0, 30)], "val": [Segment(0, 30, 35)], "test": [Segment(0, 35, 40)]}
    model.use_sequences(
        SilhouetteSequences([video], segments, dict(hp.preprocessing), hp.look_back), fit=True
    )
    trainer = _trainer(tmp_path, [])
    RolloutVideo(every_n_epochs=1, steps=3).on_validation_end(trainer, model)
    out = tmp_path / "rollouts" / "epoch_000.mp4"
    assert len(decord.VideoReader(str(out))) == hp.look_back + 3
    assert out.with_suffix(".png").stat().st_size > 0
    trainer.loggers[0].experiment.flush()
    assert "val/rollout" in _tags(tmp_path / "tb")["images"]
    # a model without rollouts, or an epoch off the schedule: nothing written
    RolloutVideo(every_n_epochs=1).on_validation_end(
        trainer, SilhouetteAEModule.from_hparams({"net": SMALL_NET, "optimizer": OPTIMIZER})
    )
    RolloutVideo(every_n_epochs=0).on_validation_end(trainer, model)
    assert sorted(p.name for p in (tmp_path / "rollouts").iterdir()) == ["epoch_000.mp4", "epoch_000.png"]
