"""The checks of the commands that use a trained checkpoint: eval, predict, generate and
score_generation."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from deepdance.config_checks.checkpoints import check_ckpt, check_family
from deepdance.config_checks.data import check_data
from deepdance.config_checks.trainer import check_seed, check_trainer
from deepdance.config_checks.values import (
    _bad,
    boolean,
    choice,
    existing_path,
    integer,
    number,
    setting,
    text,
)


def data_config(stored: dict[str, Any], cfg: DictConfig) -> DictConfig:
    """The stored data settings, with the ``data.*`` overrides of this command line on top."""
    from hydra.core.hydra_config import HydraConfig

    merged = OmegaConf.create(stored)
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key == "data":
            # a whole new data group replaces the stored one
            return cfg.data
        if key.startswith("data."):
            OmegaConf.update(merged, key[len("data.") :], OmegaConf.select(cfg, key), force_add=True)
    return merged


def validate_eval(cfg: DictConfig) -> tuple[dict[str, Any], DictConfig]:
    """``python -m deepdance.eval``: the checkpoint (read as data, its family), the data it
    is tested on (the stored settings with this command's ``data.*`` on top), the trainer.
    Returns the checkpoint's metadata and that data config."""
    from deepdance.models.registry import check_data_target

    check_seed(cfg)
    path = check_ckpt(cfg, "ckpt_path=<a checkpoint written by deepdance.train>")
    metadata = check_family(path, "eval")
    data_cfg = data_config(metadata.get("data") or {}, cfg)
    check_data_target(metadata, data_cfg.get("_target_"), path)
    view = OmegaConf.create({"paths": cfg.get("paths") or {}})
    view.data = data_cfg
    check_data(view)
    check_trainer(cfg)
    return metadata, data_cfg


def validate_predict(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.predict``: a genre classifier checkpoint and a video or folder."""
    path = check_ckpt(cfg, "ckpt_path=<a genre classifier checkpoint>")
    existing_path(cfg, "video", kind="any", hint="video=<a video file or a folder of videos>")
    integer(cfg, "clips", low=1, optional=True, default=None)
    integer(cfg, "top", low=1, default=5)
    device = setting(cfg, "device", default="auto")
    if not isinstance(device, str) or not (device in ("auto", "cpu", "cuda") or device.startswith("cuda:")):
        raise _bad("device", device, "auto, cpu, cuda or cuda:N")
    text(cfg, "output", optional=True, default=None)
    return check_family(path, "predict")


def validate_generate(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.generate``: a latent LSTM checkpoint and sane rollout settings."""
    path = check_ckpt(cfg, "ckpt_path=<the latent LSTM's best_ckpt of experiment=deep_dance>")
    seed = setting(cfg, "seed", default="random")
    if str(seed) != "random":
        existing_path(cfg, "seed", kind="file", hint="seed=random or the path of a dance video to continue")
    integer(cfg, "steps", low=1)
    integer(cfg, "num_frames", low=1, optional=True, default=None)
    number(cfg, "fps", low=0, low_open=True)
    boolean(cfg, "interpolate", default=True)
    number(cfg, "noise", low=0, default=0.0)
    integer(cfg, "rng_seed", default=0)
    text(cfg, "genre", optional=True, default=None)
    text(cfg, "out")
    boolean(cfg, "gif", default=False)
    text(cfg, "strip", optional=True, default=None)
    boolean(cfg, "grid", default=False)
    device = setting(cfg, "device", default="cpu")
    if not isinstance(device, str) or not (device in ("cpu", "cuda") or device.startswith("cuda:")):
        raise _bad("device", device, "cpu, cuda or cuda:N")
    return check_family(path, "generate")


def validate_score_generation(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.score_generation``: a latent LSTM, a genre recognizer, sane counts."""
    from deepdance.models.generation_scoring import MIN_STEPS

    lstm = existing_path(
        cfg, "lstm_ckpt", kind="file", hint="the latent LSTM's best_ckpt of experiment=deep_dance"
    )
    recognizer = existing_path(
        cfg, "recognizer_ckpt", kind="file", hint="the best_ckpt of experiment=silhouette_genre"
    )
    uncond = existing_path(cfg, "uncond_ckpt", kind="file", optional=True, default=None)
    existing_path(cfg, "data_root", kind="any", optional=True, default=None)
    integer(cfg, "steps", low=MIN_STEPS)
    for key in ("rollouts", "random_rollouts", "train_clips"):
        integer(cfg, key, low=2)
    choice(cfg, "split", ("val", "test"))
    number(cfg, "recognizer_fps", low=0, low_open=True, optional=True, default=None)
    integer(cfg, "seed", default=0)
    genres = setting(cfg, "genres", default=None)
    if genres is not None and not (isinstance(genres, list) and all(isinstance(g, str) for g in genres)):
        raise _bad("genres", genres, "null (every genre the LSTM learned) or a list such as [BR,KR]")
    device = setting(cfg, "device", default="cpu")
    if not isinstance(device, str) or not (device in ("cpu", "cuda") or device.startswith("cuda:")):
        raise _bad("device", device, "cpu, cuda or cuda:N")
    check_family(recognizer, "recognizer_ckpt", key="recognizer_ckpt")
    if uncond is not None:
        check_family(uncond, "score_generation", key="uncond_ckpt")
    return check_family(lstm, "score_generation", key="lstm_ckpt")
