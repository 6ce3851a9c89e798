"""Checkpoints are data, not code; ckpt_path=last; config errors before heavy work (the CLI's
user errors run in this process: SystemExit(2) and one error line, see tests.helpers.runs)."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf

from deepdance.errors import DeepdanceError
from deepdance.utils.checkpoints import (
    AtomicCheckpointIO,
    UnsafeCheckpoint,
    load_checkpoint,
    one_read_per_checkpoint,
    resolve_ckpt_path,
)
from tests.helpers.runs import compose_config, run_eval, run_train, user_error

GENRE = "deepdance.models.genre_module.GenreClassifier"
GENERATOR = "deepdance.models.latent_lstm_module.LatentLSTMModule"


class Payload:
    """Unpickling this runs ``touch marker``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "payload_ran"
    path = tmp_path / "evil.ckpt"
    torch.save(
        {
            "state_dict": {},
            "deepdance": {"model_target": GENRE, "data": {}},
            "hyper_parameters": Payload(marker),
        },
        path,
    )
    assert not marker.exists()
    return path, marker


def test_crafted_checkpoint_is_refused_and_its_payload_never_runs(tmp_path: Path) -> None:
    path, marker = crafted_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpoint) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert (
        message.startswith(f"ckpt_path={path}: refused to load")
        and "system" in message
        and "\n" not in message
    )
    from deepdance.models.genre_module import GenreClassifier

    # Lightning's own loader (deepdance reads through load_checkpoint): torch's weights-only
    # unpickler refuses the os.system global by name before anything runs
    refusal = r"(?s)Weights only load failed.*GLOBAL (posix|nt)\.system"
    with pytest.raises(pickle.UnpicklingError, match=refusal):
        GenreClassifier.load_from_checkpoint(path, weights_only=True)
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["eval", "train"])
def test_cli_refuses_crafted_checkpoint_in_one_line(
    entry: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path, marker = crafted_checkpoint(tmp_path)
    overrides = [f"ckpt_path={path}", f"hydra.run.dir={tmp_path / 'run'}", "print_config=false"]
    cfg = compose_config(entry, [*overrides, f"data.root={tmp_path / 'never'}"])
    last = user_error({"eval": run_eval, "train": run_train}[entry], cfg, capsys)
    assert last.startswith(f"error: ckpt_path={path}: refused to load")
    assert not marker.exists() and not (tmp_path / "never").exists()


def fake_checkpoint(path: Path, model_target: str, data_target: str) -> Path:
    torch.save(
        {
            "state_dict": {"w": torch.zeros(2)},
            "deepdance": {"model_target": model_target, "data": {"_target_": data_target}},
        },
        path,
    )
    return path


@pytest.mark.slow
def test_checkpoint_of_the_other_model_family_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    generator = fake_checkpoint(
        tmp_path / "generator.ckpt", GENERATOR, "deepdance.data.silhouette.SilhouetteDataModule"
    )
    train = compose_config(
        "train",
        [
            f"ckpt_path={generator}",
            f"hydra.run.dir={tmp_path / 'train'}",
            "print_config=false",
            f"data.root={tmp_path / 'never'}",
        ],
    )
    last = user_error(run_train, train, capsys)
    assert (
        f"ckpt_path={generator} holds a {GENERATOR} (Deep-Dance latent LSTM (generator family)) checkpoint"
        in last
    )
    assert f"this run's model is {GENRE} (genre classifier)" in last and not (tmp_path / "never").exists()

    evaluation = compose_config(
        "eval", [f"ckpt_path={generator}", "data=synthetic", f"hydra.run.dir={tmp_path / 'eval'}"]
    )
    last = user_error(run_eval, evaluation, capsys)
    assert (
        "trained on deepdance.data.silhouette.SilhouetteDataModule, "
        "but the data config builds deepdance.data.genre.GenreDataModule" in last
    )


def test_truncated_or_foreign_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    good = fake_checkpoint(tmp_path / "good.ckpt", GENRE, "x")
    assert load_checkpoint(good)["deepdance"]["model_target"] == GENRE
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(DeepdanceError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(truncated)
    (tmp_path / "empty.ckpt").write_bytes(b"")
    with pytest.raises(DeepdanceError, match="empty file"):
        load_checkpoint(tmp_path / "empty.ckpt")
    with pytest.raises(DeepdanceError, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.ckpt")


def test_atomic_checkpoint_io_writes_plain_data_that_loads_weights_only(tmp_path: Path) -> None:
    checkpoint = {
        "state_dict": {"w": torch.ones(3)},
        "hyper_parameters": {
            "data": OmegaConf.create({"root": "/x", "sizes": [1, 2]}),
            "where": Path("/tmp"),
            "score": np.float64(0.5),
        },
        "hparams_type": dict,
    }
    AtomicCheckpointIO().save_checkpoint(checkpoint, tmp_path / "c.ckpt")
    loaded = torch.load(tmp_path / "c.ckpt", weights_only=True)
    assert loaded["hyper_parameters"] == {
        "data": {"root": "/x", "sizes": [1, 2]},
        "where": "/tmp",
        "score": 0.5,
    }
    assert "hparams_type" not in loaded and [p.name for p in tmp_path.iterdir()] == ["c.ckpt"]


def test_a_command_reads_each_checkpoint_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside ``one_read_per_checkpoint`` a second load is served from the first read, as the
    caller's own copy of the settings; a changed file is read again; outside, every load reads."""
    path = tmp_path / "c.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "hyper_parameters": {"lr": 0.1}}, path)
    reads: list[str] = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda f, *a, **k: reads.append(str(f)) or real_load(f, *a, **k))
    with one_read_per_checkpoint():
        first = load_checkpoint(path)
        first["hyper_parameters"]["lr"] = 99.0
        second = load_checkpoint(path)
        assert len(reads) == 1 and second["hyper_parameters"] == {"lr": 0.1}
        torch.save({"state_dict": {}, "hyper_parameters": {"lr": 0.2}}, path)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
        assert load_checkpoint(path)["hyper_parameters"] == {"lr": 0.2} and len(reads) == 2
    load_checkpoint(path)
    load_checkpoint(path)
    assert len(reads) == 4


def test_utils_import_no_model() -> None:
    """Model-family loading lives with the registry: reading checkpoints pulls in no model code."""
    import subprocess
    import sys

    code = (
        "import sys, deepdance.utils.checkpoints, deepdance.utils.legacy_targets; "
        "print(sorted(m for m in sys.modules if m.startswith('deepdance.models')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ckpt_path_last_prefers_this_run_then_the_newest_run_of_the_task(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    runs = logs / "train" / "runs"
    for i, name in enumerate(["2026-01-01_10-00-00", "2026-01-02_10-00-00", "other"]):
        path = runs / name / "checkpoints" / "last.ckpt"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        os.utime(path, (time.time() - 100 + 10 * i,) * 2)
    (logs / "genre_gru" / "runs" / "newer" / "checkpoints").mkdir(parents=True)
    (logs / "genre_gru" / "runs" / "newer" / "checkpoints" / "last.ckpt").write_bytes(
        b"x"
    )  # another task: ignored
    me = runs / "now"
    me.mkdir()
    assert resolve_ckpt_path("last", me, logs, "train") == runs / "other" / "checkpoints" / "last.ckpt"
    (me / "checkpoints").mkdir()
    (me / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert resolve_ckpt_path("last", me, logs, "train") == me / "checkpoints" / "last.ckpt"
    (me / "hpc_ckpt_1.ckpt").write_bytes(b"x")  # Lightning's SLURM requeue checkpoint, newer
    assert resolve_ckpt_path("last", me, logs, "train") == me / "hpc_ckpt_1.ckpt"
    assert resolve_ckpt_path(None, me, logs, "train") is None
    assert resolve_ckpt_path("/a/b.ckpt", me, logs, "train") == Path("/a/b.ckpt")
    with pytest.raises(DeepdanceError, match="ckpt_path=last: no .* no earlier run of task 'nothing'"):
        resolve_ckpt_path("last", tmp_path / "x", logs, "nothing")


# ----------------------------------------------------------------------------------------- config errors
def test_config_errors_are_one_line_and_say_what_is_accepted() -> None:
    from deepdance.config.base import parse
    from deepdance.config.data import GenreDataConfig
    from deepdance.models.genre_module import GenreClassifier

    head = {"gru_sizes": [4], "dense": 4, "dropout": 0.0, "input_norm": True}
    opt = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}

    def classifier(backbone: dict, **settings: object) -> GenreClassifier:
        return GenreClassifier.from_hparams(
            {"backbone": backbone, "head": head, "optimizer": opt, **settings}
        )

    cases = [
        (
            lambda: classifier({"name": "resnet_999", "pretrained": False}),
            "model.backbone.name='resnet_999': expected a timm model name",
        ),
        (
            lambda: classifier({"name": "inception_v3", "pretrained": False}, img_size=64),
            "model.img_size=64: expected an integer >= 75 (inception_v3's smallest input",
        ),
        (
            lambda: parse(GenreDataConfig, {"root": "/x", "num_frames": 0}, "data"),
            "data.num_frames=0: expected an integer >= 1",
        ),
        (
            lambda: parse(GenreDataConfig, {"root": "/x", "genres": ["BR", "XX"]}, "data"),
            "'XX'",
        ),
        (
            lambda: parse(GenreDataConfig, {"root": "/x", "genres": ["BR"]}, "data"),
            "at least two distinct genres",
        ),
    ]
    for build, expected in cases:
        with pytest.raises(DeepdanceError) as err:
            build()
        assert expected in str(err.value) and "\n" not in str(err.value)


def test_genre_filter_relabels_classes_in_list_order(tiny_synthetic: Path, tmp_path: Path) -> None:
    from deepdance.config.data import GenreDataConfig
    from deepdance.data.genre.datamodule import GenreDataModule

    config = GenreDataConfig(
        root=str(tiny_synthetic), num_frames=4, img_size=32, num_workers=0, genres=["PO", "BR"]
    )
    dm = GenreDataModule(config, report_dir=str(tmp_path))
    dm.setup("fit")
    assert (
        set(dm.manifest["genre"]) == {"PO", "BR"} and dm.class_names == ["PO", "BR"] and dm.num_classes == 2
    )
    assert dict(zip(dm.manifest["genre"], dm.manifest["label"])) == {"PO": 0, "BR": 1}


@pytest.mark.slow
def test_unknown_genre_stops_before_any_data_is_generated(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "synthetic"
    cfg = compose_config(
        "train", [f"data.root={root}", "data.genres=[BR,XX]", f"hydra.run.dir={tmp_path / 'run'}"]
    )
    message = user_error(run_train, cfg, capsys)
    assert message.startswith("error: data.genres=['BR', 'XX']: expected") and "BR, PO, LO, MH" in message
    assert not root.exists()


def test_a_trusted_old_checkpoint_converts_to_plain_data(tmp_path: Path) -> None:
    from deepdance.utils.checkpoints import convert_trusted_checkpoint

    old = tmp_path / "old.ckpt"
    torch.save(
        {
            "state_dict": {"w": torch.ones(1)},
            "datamodule_hyper_parameters": {"synthetic": OmegaConf.create({"seed": 1})},
        },
        old,
    )
    with pytest.raises(UnsafeCheckpoint, match="DictConfig.*python -m deepdance.convert_checkpoint"):
        load_checkpoint(old)
    new = convert_trusted_checkpoint(old, tmp_path / "new.ckpt")
    assert load_checkpoint(new)["datamodule_hyper_parameters"] == {"synthetic": {"seed": 1}}


class WorseningModel(pl.LightningModule):
    """A tiny regression whose monitored ``val/acc`` gets worse every epoch, so only epoch 0
    is ever the best: the case where Lightning 2.6 stops refreshing ``last.ckpt``."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.layer(batch).pow(2).mean()
        self.log("train/acc", -float(self.current_epoch), on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        self.log("val/acc", -float(self.current_epoch))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def fit_worsening(
    tmp_path: Path, max_epochs: int, validate: bool, ckpt_path: str | None = None, extra_callbacks: tuple = ()
) -> pl.Trainer:
    from torch.utils.data import DataLoader

    from deepdance.callbacks import CheckpointOnInterrupt, ModelCheckpoint

    data = DataLoader(torch.randn(12, 4), batch_size=4)  # 3 steps per epoch
    checkpoint = ModelCheckpoint(
        dirpath=tmp_path,
        filename="epoch_{epoch:03d}",
        monitor="val/acc" if validate else "train/acc",
        mode="max",
        save_last=True,
        auto_insert_metric_name=False,
    )
    trainer = pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=2 if validate else 0,
        callbacks=[checkpoint, CheckpointOnInterrupt(str(tmp_path)), *extra_callbacks],
    )
    trainer.fit(
        WorseningModel(),
        train_dataloaders=data,
        val_dataloaders=data if validate else None,
        ckpt_path=ckpt_path,
        weights_only=True,
    )
    return trainer


@pytest.mark.parametrize(
    "validate", [True, False], ids=["saved-after-validation", "saved-at-train-epoch-end"]
)
def test_last_ckpt_is_the_newest_epoch_even_when_the_metric_got_worse(tmp_path: Path, validate: bool) -> None:
    trainer = fit_worsening(tmp_path, max_epochs=3, validate=validate)
    last = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert (last["global_step"], last["epoch"]) == (9, 2)  # Lightning 2.6 alone: (3, 0), a copy of the best
    assert Path(trainer.checkpoint_callback.best_model_path).name == "epoch_000.ckpt"  # best still means best


def test_resume_after_sigterm_mid_epoch_ends_with_the_same_last_ckpt_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from tests.helpers.interrupt import SignalAt

    with pytest.raises(SIGTERMException):
        fit_worsening(tmp_path, max_epochs=3, validate=True, extra_callbacks=(SignalAt(5, "SIGTERM"),))
    assert (
        torch.load(tmp_path / "last.ckpt", weights_only=True)["global_step"] == 5
    )  # saved by CheckpointOnInterrupt
    fit_worsening(tmp_path, max_epochs=3, validate=True, ckpt_path=str(tmp_path / "last.ckpt"))
    last = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert (last["global_step"], last["epoch"]) == (
        9,
        2,
    )  # Lightning 2.6 alone: (9, 3), written by on_train_end
