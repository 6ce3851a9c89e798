"""deepdance.run.fit: the run metadata is written whatever ``callbacks=`` says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from tests.helpers.runs import REPO, TINY_SYNTHETIC

# One tiny training and one evaluation, in-process (a few seconds).
pytestmark = pytest.mark.slow


def _job_config(config_name: str, overrides: list[str], run_dir: Path) -> DictConfig:
    """The config Hydra hands a task for ``python -m deepdance.<config_name> OVERRIDES``."""
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def test_callbacks_none_still_writes_checkpoints_that_eval_accepts(
    tiny_synthetic: Path, tmp_path: Path
) -> None:
    from deepdance.eval import evaluate
    from deepdance.run.fit import train
    from deepdance.utils.checkpoints import read_deepdance_metadata

    synthetic = ",".join(f"{k}:{v}" for k, v in TINY_SYNTHETIC.items())
    data = [
        f"data.root={tiny_synthetic}",
        f"data.synthetic={{{synthetic}}}",
        "data.num_frames=4",
        "data.img_size=32",
        "data.batch_size=4",
        "data.num_workers=0",
        "data.persistent_workers=false",
        "data.features.use=false",
    ]
    train_dir = tmp_path / "train"
    cfg = _job_config(
        "train",
        [
            *data,
            "callbacks=none",
            "model.backbone.name=resnet10t",
            "trainer.max_epochs=1",
            "trainer.accelerator=cpu",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
            "logger=csv",
            "print_config=false",
            "seed=5",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
        train_dir,
    )
    assert not cfg.callbacks
    train(cfg)

    ckpt = json.loads((train_dir / "summary.json").read_text())["best_ckpt"]
    # Lightning's own checkpointing (no ModelCheckpoint from config) wrote it, inside the run dir.
    assert ckpt and Path(ckpt).is_file() and Path(ckpt).is_relative_to(train_dir)
    metadata = read_deepdance_metadata(ckpt)
    assert metadata["model_target"] == cfg.model._target_
    assert metadata["data"]["num_frames"] == 4 and metadata["data"]["root"] == str(tiny_synthetic)

    eval_dir = tmp_path / "eval"
    eval_cfg = _job_config(
        "eval",
        [
            # Lightning's default name, epoch=0-step=2.ckpt, needs quotes on a command line too.
            f"ckpt_path='{ckpt}'",
            "data.num_workers=0",
            "trainer.accelerator=cpu",
            "trainer.limit_test_batches=1",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
        eval_dir,
    )
    metrics, _ = evaluate(eval_cfg)
    assert "test/acc" in metrics
    assert json.loads((eval_dir / "summary.json").read_text())["ckpt_path"] == ckpt
