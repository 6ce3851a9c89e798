"""Each entry point's start-up check, first thing inside ``task_wrapper``: the schemas of its
groups, then what no schema can know, said once here: a checkpoint's model family, files on
disk, a split that needs the directory listing (a timm name is the model schema's). A wrong value costs one
``error:`` line before any video is decoded, dataset generated or model built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel

from deepdance.config import commands, model, pose_model, pose_motion
from deepdance.config.base import parse
from deepdance.config.data import GENRE_DATA, SILHOUETTE_DATA, GenreDataConfig, SilhouetteDataConfig
from deepdance.config.pose_data import POSE_DATA, PoseDataConfig
from deepdance.config.startup import check_family, existing, schema_of, top
from deepdance.config.stored import data_config
from deepdance.config.trainer import TrainerConfig

# handed on, so that every entry point finds its check here
from deepdance.config.validate_pose import validate_extract_poses as validate_extract_poses
from deepdance.config.validate_pose import validate_score_generation as validate_score_generation
from deepdance.config.validate_pose import validate_score_poses as validate_score_poses
from deepdance.errors import DeepdanceError

DATA = {
    GENRE_DATA: GenreDataConfig,
    SILHOUETTE_DATA: SilhouetteDataConfig,
    POSE_DATA: PoseDataConfig,
    pose_motion.POSE_MOTION: pose_motion.PoseMotionConfig,
}
MODELS = {
    model.CLASSIFIER: model.ClassifierConfig,
    model.AUTOENCODER: model.AutoencoderConfig,
    model.LATENT_LSTM: model.LatentLSTMConfig,
    pose_model.POSE_CLASSIFIER: pose_model.PoseClassifierConfig,
    pose_motion.POSE_LSTM: pose_motion.PoseLSTMConfig,
}
AE_HINT = "the best checkpoint of experiment=deep_dance_ae"


# per data schema: what a real ``data.root`` is, said in its refusal
REAL_ROOTS = {
    GenreDataConfig: ("any", "data=aist reads AIST++ videos from this folder"),
    PoseDataConfig: ("dir", "data=aist_pose reads an AIST++ annotation folder"),
    pose_motion.PoseMotionConfig: ("dir", "data=pose_motion reads an AIST++ annotation folder"),
}


def check_data(node: Any) -> GenreDataConfig | SilhouetteDataConfig | PoseDataConfig:
    """``data``: its schema, its files, and (real videos or keypoints) a split from the file names
    alone: an empty split stops the run before hours of probing, feature extraction or training."""
    config = parse(schema_of(node, "data", DATA), node, "data")
    if getattr(config, "split", None) == "files" or getattr(config, "split_dir", None) is not None:
        existing(config.split_dir, "data.split_dir", "dir", "a folder of <split_set>_train/val/test.txt")
    if isinstance(config, SilhouetteDataConfig):
        if config.source == "annotations":
            return check_motion_silhouettes(config)
        if config.root is not None:
            existing(config.root, "data.root", hint="a silhouette video or a folder of them")
        return config
    # the pose generator's root=null, and the others' synthetic settings, read the synthetic dancers
    motion = isinstance(config, pose_motion.PoseMotionConfig)
    if config.root is not None if motion else config.synthetic is None:
        existing(config.root, "data.root", *REAL_ROOTS[type(config)])
        split_from_names(config)
    return config


def split_from_names(config: GenreDataConfig | PoseDataConfig) -> None:
    """The data schema's own split of a real folder, imported only for that schema (the pose
    generator's module pulls Lightning and the silhouette datamodule into start-up)."""
    if isinstance(config, pose_motion.PoseMotionConfig):
        from deepdance.data.pose.motion import motion_table

        motion_table(config)
    elif isinstance(config, PoseDataConfig):
        from deepdance.data.pose.sequences import split_table

        split_table(config)
    else:
        from deepdance.data.genre.manifest import build_manifest

        build_manifest(config)


def check_motion_silhouettes(config: SilhouetteDataConfig) -> SilhouetteDataConfig:
    """``data.source=annotations``: an annotation folder whose keypoints2d views exist (read before
    any frame is drawn), split by name where ``data.split`` asks."""
    from deepdance.data.silhouette.datamodule import dancer_split, sequence_split
    from deepdance.data.silhouette.motion import annotation_views

    hint = "an AIST++ annotation folder (keypoints2d/<sequence>.pkl) or a keypoints2d .pkl"
    existing(config.root, "data.root", hint=hint)
    paths = [view.path for view in annotation_views(config.root, config.motion.views)]
    if config.split == "dancer":
        dancer_split(paths, config.seed, config.val_dancers, config.test_dancers)
    elif config.split == "sequence":
        sequence_split(paths, config.seed, config.val_sequences, config.test_sequences)
    return config


def check_model(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> BaseModel:
    """``model``: its schema, a backbone's weights file, the LSTM's rules on its data and its
    autoencoder checkpoint (an earlier stage's, when ``allow_missing`` names it)."""
    unset = OmegaConf.is_missing(cfg.model, "autoencoder_ckpt")
    # required, but said after the rules between settings
    node = OmegaConf.merge(cfg.model, {"autoencoder_ckpt": "-"}) if unset else cfg.model
    config = parse(schema_of(node, "model", MODELS), node, "model", context={"data": cfg.get("data") or {}})
    if isinstance(config, model.ClassifierConfig) and config.backbone.weights is not None:
        hint = f"a state dict of {config.backbone.name}"
        existing(config.backbone.weights, "model.backbone.weights", "file", hint)
    if not isinstance(config, model.LatentLSTMConfig) or isinstance(config, pose_motion.PoseLSTMConfig):
        return config
    if unset and "model.autoencoder_ckpt" not in allow_missing:
        raise DeepdanceError(f"model.autoencoder_ckpt is required: {AE_HINT}")
    if not unset:
        path = existing(config.autoencoder_ckpt, "model.autoencoder_ckpt", "file", AE_HINT)
        check_family(path, "autoencoder_ckpt", "model.autoencoder_ckpt")
    return config


def validate_train(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> None:
    """``python -m deepdance.train`` (one run, or one stage of a pipeline)."""
    command = top(commands.TrainCommand, cfg)
    check_data(cfg.data)
    check_model(cfg, allow_missing)
    parse(TrainerConfig, cfg.trainer, "trainer")
    # ``last`` is resolved (and its family checked) by train itself
    if command.ckpt_path not in (None, "", "last"):
        from deepdance.models.registry import check_model_target
        from deepdance.utils.checkpoints import read_deepdance_metadata

        path = existing(command.ckpt_path, "ckpt_path", "file", "a checkpoint of this model, or last")
        check_model_target(read_deepdance_metadata(path), cfg.model._target_, path)


def validate_stages(cfg: DictConfig, compose: Callable[[str, DictConfig], DictConfig]) -> None:
    """``experiment=deep_dance``: each stage's config (``compose(name, stage)``) before any trains."""
    seen: list[str] = []
    for name in cfg.stages:
        stage = parse(commands.Stage, cfg.stages[name], f"stages.{name}")
        if stage.autoencoder_from not in (None, *seen):
            key = f"stages.{name}.autoencoder_from={stage.autoencoder_from!r}"
            raise DeepdanceError(f"{key}: expected an earlier stage: {', '.join(seen) or 'none'}")
        try:
            stage_cfg = compose(name, cfg.stages[name])
        except (HydraException, OmegaConfBaseException) as err:
            raise DeepdanceError(f"stages.{name}: {' '.join(str(err).split())[:300]}") from None
        validate_train(stage_cfg, ("model.autoencoder_ckpt",) if stage.autoencoder_from else ())
        seen.append(name)


def validate_extract_features(cfg: DictConfig) -> None:
    """``python -m deepdance.extract_features``: train's genre data and a frozen backbone."""
    top(commands.ExtractFeaturesCommand, cfg)
    if not isinstance(check_data(cfg.data), GenreDataConfig):
        raise DeepdanceError(f"data: expected a genre dataset ({GENRE_DATA}: data=synthetic or data=aist)")
    config = check_model(cfg)
    parse(TrainerConfig, cfg.trainer, "trainer")
    if not isinstance(config, model.ClassifierConfig) or not config.backbone.freeze:
        raise DeepdanceError(
            "model.backbone.freeze=false: extract_features expected a frozen backbone (e.g. "
            "model=genre_gru); features of a backbone that trains change every step"
        )


def validate_eval(cfg: DictConfig) -> tuple[dict[str, Any], DictConfig]:
    """``python -m deepdance.eval``: the checkpoint's family and the data it is tested on (its
    stored settings with this command's ``data.*`` on top): returns its metadata and that data."""
    from deepdance.models.registry import check_data_target

    command = top(commands.EvalCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file", "a checkpoint written by deepdance.train")
    metadata = check_family(path, "eval")[0]
    data_cfg = data_config(metadata.get("data") or {}, cfg)
    check_data_target(metadata, data_cfg.get("_target_"), path)
    check_data(data_cfg)
    parse(TrainerConfig, cfg.trainer, "trainer")
    return metadata, data_cfg


def validate_predict(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.predict``: a genre classifier checkpoint and a video or folder (a
    skeleton classifier's: keypoints2d files too, and the ``pose`` node of its front end)."""
    from deepdance.pose.predict import check_predict_inputs

    command = top(commands.PredictCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file")
    video = existing(command.video, "video", hint="a video file or a folder of videos")
    metadata = check_family(path, "predict")[0]
    check_predict_inputs(metadata, path, video, cfg.get("pose"))
    return metadata


def validate_generate(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.generate``: a latent LSTM checkpoint, a seed video if one is named."""
    command = top(commands.GenerateCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file", "the latent LSTM's best_ckpt")
    if command.seed != "random":
        hint = "seed=random, a dance video to continue, or (pose_dance) a keypoints .pkl"
        existing(command.seed, "seed", "file", hint)
    return check_family(path, "generate")[0]


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing(OmegaConf.select(cfg, "data.root"), "data.root", hint="data.root=<the folder of videos to scan>")
    parse(schema_of(cfg.data, "data", DATA), cfg.data, "data")
    top(commands.ScanCommand, cfg)


def validate_silhouettes(cfg: DictConfig) -> tuple[list[Path], Any]:
    """``python -m deepdance.silhouettes``: the silhouette data settings, the videos, and an ``out``
    that is a folder of its own (never beside or above the videos); the videos and that folder."""
    from deepdance.data.silhouette.motion import annotation_views
    from deepdance.data.silhouette.preview import check_out, input_videos

    command = top(commands.SilhouettesCommand, cfg)
    schema = schema_of(cfg.data, "data", {SILHOUETTE_DATA: SilhouetteDataConfig})
    config = parse(schema, cfg.data, "data")
    # data=motion_silhouettes: video= is an annotation folder or a keypoints2d file, each view a video
    drawn = config.source == "annotations"
    hint = (
        "an AIST++ annotation folder or a keypoints2d .pkl" if drawn else "a video file or a folder of videos"
    )
    video = existing(command.video, "video", hint=hint)
    videos = [v.path for v in annotation_views(video, config.motion.views)] if drawn else input_videos(video)
    return videos, check_out(videos, video, Path(command.out))
