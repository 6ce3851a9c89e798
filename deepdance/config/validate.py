"""Each entry point's start-up check, first thing inside ``task_wrapper``: the schemas of its
groups and its own keys (a timm name, a command's paths and its rules on the run's groups are
theirs), then what no schema can know, said once here: a checkpoint's model family, the files a
group's settings name, a split that needs the directory listing. A wrong value costs one
``error:`` line before any video is decoded, dataset generated or model built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hydra.errors import HydraException
from hydra.utils import get_method
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
        existing(config.root, "data.root", *config.real_root)
        get_method(config.split_by_names)(config)
    return config


def check_motion_silhouettes(config: SilhouetteDataConfig) -> SilhouetteDataConfig:
    """``data.source=annotations``: an annotation folder whose keypoints2d views exist (read before
    any frame is drawn), split by name where ``data.split`` asks."""
    from deepdance.data.silhouette.datamodule import named_splits
    from deepdance.data.silhouette.motion import annotation_views

    hint = "an AIST++ annotation folder (keypoints2d/<sequence>.pkl) or a keypoints2d .pkl"
    existing(config.root, "data.root", hint=hint)
    named_splits([view.path for view in annotation_views(config.root, config.motion.views)], config)
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

        path = Path(command.ckpt_path)
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
    check_data(cfg.data)
    check_model(cfg)
    parse(TrainerConfig, cfg.trainer, "trainer")


def validate_eval(cfg: DictConfig) -> tuple[dict[str, Any], DictConfig]:
    """``python -m deepdance.eval``: the checkpoint's family and the data it is tested on (its
    stored settings with this command's ``data.*`` on top): returns its metadata and that data."""
    from deepdance.models.registry import check_data_target

    path = Path(top(commands.EvalCommand, cfg).ckpt_path)
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
    path, video = Path(command.ckpt_path), Path(command.video)
    metadata = check_family(path, "predict")[0]
    check_predict_inputs(metadata, path, video, cfg.get("pose"))
    return metadata


def validate_generate(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.generate``: a latent LSTM checkpoint, a seed video if one is named."""
    return check_family(Path(top(commands.GenerateCommand, cfg).ckpt_path), "generate")[0]


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing(OmegaConf.select(cfg, "data.root"), "data.root", hint="data.root=<the folder of videos to scan>")
    parse(schema_of(cfg.data, "data", DATA), cfg.data, "data")
    top(commands.ScanCommand, cfg)


def validate_silhouettes(cfg: DictConfig) -> tuple[list[Path], Any]:
    """``python -m deepdance.silhouettes``: the silhouette data settings, the videos, and an ``out``
    that is a folder of its own (never beside or above the videos); the videos and that folder."""
    from deepdance.data.silhouette.motion import annotation_views
    from deepdance.data.silhouette.preview import check_out
    from deepdance.data.video_out import videos_by_name

    command = top(commands.SilhouettesCommand, cfg)
    schema = schema_of(cfg.data, "data", {SILHOUETTE_DATA: SilhouetteDataConfig})
    config = parse(schema, cfg.data, "data")
    video = Path(command.video)
    # data=motion_silhouettes: video= is an annotation folder or a keypoints2d file, each view a video
    if config.source == "annotations":
        videos = [view.path for view in annotation_views(video, config.motion.views)]
    else:
        videos = videos_by_name(video)
    return videos, check_out(videos, video, Path(command.out))


def validate_score_generation(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.score_generation``: a latent LSTM and a silhouette genre recognizer,
    or a pose-space generator (and optionally a skeleton genre recognizer); the generator's metadata."""
    from deepdance.models.registry import FAMILIES, LATENT_LSTM

    command = top(commands.ScoreGenerationCommand, cfg)
    metadata, generator = check_family(Path(command.lstm_ckpt), "score_generation", "lstm_ckpt")
    if generator is LATENT_LSTM:
        top(commands.LatentScoringCommand, cfg)
    recognizer = command.recognizer_ckpt
    if recognizer is not None:
        found = check_family(Path(recognizer), "recognizer_ckpt", "recognizer_ckpt")[1]
        if found.name != generator.recognizer:
            wanted = FAMILIES[generator.recognizer]
            raise DeepdanceError(
                f"recognizer_ckpt={recognizer}: a {found.short}; a {generator.short}'s dances are graded "
                f"by a {wanted.short} ({wanted.hint})"
            )
    uncond = command.uncond_ckpt
    if uncond is not None and check_family(Path(uncond), "score_generation", "uncond_ckpt")[1] != generator:
        raise DeepdanceError(f"uncond_ckpt={uncond}: not a {generator.short}, as lstm_ckpt is")
    return metadata


def validate_extract_poses(cfg: DictConfig) -> tuple[commands.ExtractPosesCommand, Any, list[Path]]:
    """``python -m deepdance.extract_poses``: the ``pose`` node, the videos (listed, none opened), an
    ``out`` that holds none of them and none it did not write, and a pose store apart from the
    videos; returns the command, its ``PoseConfig`` and the videos."""
    from deepdance.config.pose import PoseConfig
    from deepdance.data.video_out import NEVER_BESIDE, out_apart, videos_by_name
    from deepdance.pose.outputs import HINT, owned_out, planned_files, refuse_foreign

    command = top(commands.ExtractPosesCommand, cfg)
    config = parse(PoseConfig, cfg.get("pose") or {}, "pose")
    videos = videos_by_name(Path(command.video))
    folder = owned_out(out_apart(videos, Path(command.out), HINT))
    store = Path(config.store_dir).expanduser().resolve()
    beside = next((video for video in videos if video.parent == store), None)
    if beside is not None:
        raise DeepdanceError(f"pose.store_dir={config.store_dir}: the folder of {beside}; {NEVER_BESIDE}")
    stems = sorted(video.stem for video in videos)
    refuse_foreign(folder, folder.audit(), planned_files(stems, command.format, config.masks))
    return command, config, videos


def validate_score_poses(cfg: DictConfig) -> tuple[commands.ScorePosesCommand, Any, dict[str, list[Path]]]:
    """``python -m deepdance.score_poses``: the ``pose`` node (a backend it has) and the renders
    under ``rgb_root``, each with its truth (listed, none opened); the command, its ``PoseConfig``
    and the videos by background."""
    from deepdance.config.pose import PoseConfig
    from deepdance.pose.scoring import find_renders

    command = top(commands.ScorePosesCommand, cfg)
    config = parse(PoseConfig, cfg.get("pose") or {}, "pose")
    videos = find_renders(Path(command.rgb_root), command.backgrounds)
    if command.max_videos is not None:
        videos = {kind: paths[: command.max_videos] for kind, paths in videos.items()}
    return command, config, videos
