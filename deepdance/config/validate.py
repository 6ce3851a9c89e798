"""Each entry point's start-up check, first thing inside ``task_wrapper``: the schemas of its
groups, then what no schema can know, said once here: a timm model name, a checkpoint's model
family, files on disk, a split that needs the directory listing. A wrong value costs one
``error:`` line before any video is decoded, dataset generated or model built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel

from deepdance.config import commands, model, pose_model, pose_motion
from deepdance.config.base import parse, plain
from deepdance.config.data import GENRE_DATA, SILHOUETTE_DATA, GenreDataConfig, SilhouetteDataConfig
from deepdance.config.pose_data import POSE_DATA, PoseDataConfig
from deepdance.config.trainer import TrainerConfig
from deepdance.errors import DeepdanceError

S = TypeVar("S", bound=BaseModel)
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
KINDS = {"dir": ("folder", "no such folder"), "file": ("file", "no such file")}
AE_HINT = "the best checkpoint of experiment=deep_dance_ae"


def top(schema: type[S], cfg: DictConfig) -> S:
    """The command's own top-level keys, each resolved alone (a ``???`` one is left out)."""
    keys = [key for key in schema.model_fields if key in cfg]
    try:
        return parse(schema, {key: plain(cfg[key], key) for key in keys})
    except OmegaConfBaseException as err:
        raise DeepdanceError(
            f"cannot read the command's settings ({' '.join(str(err).split())[:200]})"
        ) from None


def existing(value: str | None, key: str, kind: str = "any", hint: str = "") -> Path:
    """A path that exists: ``kind`` file, dir or any."""
    noun, missing = KINDS.get(kind, ("file or folder", "no such file or folder"))
    hint, path = f"; {hint}" if hint else "", Path(value or "").expanduser()
    if not value:
        raise DeepdanceError(f"{key}={value}: expected a path to an existing {noun}{hint}")
    if not (path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()):
        missing = "a file, not a folder" if kind == "dir" and path.is_file() else missing
        raise DeepdanceError(f"{key}={value}: {missing}{hint}")
    return path


def check_family(path: Path, command: str, key: str = "ckpt_path") -> dict[str, Any]:
    """The checkpoint's metadata; one line when ``command`` does not take its model family."""
    from deepdance.models.registry import require_family
    from deepdance.utils.checkpoints import read_deepdance_metadata

    metadata = read_deepdance_metadata(path, setting=key)
    require_family(metadata, command, path, key)
    return metadata


def schema_of(node: Any, group: str, schemas: dict[str, type[S]]) -> type[S]:
    """The schema of the class the group's ``_target_`` names (an old path read as today's)."""
    from deepdance.utils.legacy_targets import current_target

    target = current_target(str(node.get("_target_")))
    if target not in schemas:
        raise DeepdanceError(f"{group}._target_={target!r}: expected one of {', '.join(schemas)}")
    return schemas[target]


def check_data(node: Any) -> GenreDataConfig | SilhouetteDataConfig | PoseDataConfig:
    """``data``: its schema, its files, and (real videos) a split from the file names alone."""
    from deepdance.data.genre.manifest import build_manifest

    config = parse(schema_of(node, "data", DATA), node, "data")
    if isinstance(config, SilhouetteDataConfig):
        if config.source == "annotations":
            return check_motion_silhouettes(config)
        if config.root is not None:
            existing(config.root, "data.root", hint="a silhouette video or a folder of them")
        return check_silhouette_pose(config)
    if isinstance(config, pose_motion.PoseMotionConfig):
        return check_pose_motion(config)
    if isinstance(config, PoseDataConfig):
        return check_pose_data(config)
    if config.split == "files" or config.split_dir is not None:
        existing(config.split_dir, "data.split_dir", "dir", "a folder of <split_set>_train/val/test.txt")
    if config.synthetic is None:
        existing(config.root, "data.root", hint="data=aist reads AIST++ videos from this folder")
        # an empty split stops the run before hours of probing or feature extraction
        build_manifest(config)
    return config


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
    return check_silhouette_pose(config)


def check_pose_data(config: PoseDataConfig) -> PoseDataConfig:
    """``data=aist_pose``: its split files, and (a real folder) a split from the file names alone."""
    from deepdance.data.pose.sequences import split_table

    if config.split == "files":
        existing(config.split_dir, "data.split_dir", "dir", "a folder of <split_set>_train/val/test.txt")
    if config.synthetic is None:
        existing(config.root, "data.root", "dir", "data=aist_pose reads an AIST++ annotation folder")
        split_table(config)
    return config


def check_pose_motion(config: pose_motion.PoseMotionConfig) -> pose_motion.PoseMotionConfig:
    """``data=pose_motion``: its split files, and (a real folder) a split from the file names alone."""
    from deepdance.data.pose.motion import motion_table

    if config.split == "files":
        existing(config.split_dir, "data.split_dir", "dir", "a folder of <split_set>_train/val/test.txt")
    if config.root is not None:
        existing(config.root, "data.root", "dir", "data=pose_motion reads an AIST++ annotation folder")
        motion_table(config)
    return config


def check_model(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> BaseModel:
    """``model``: its schema, a backbone timm knows, the LSTM's rules on its data and its
    autoencoder checkpoint (an earlier stage's, when ``allow_missing`` names it)."""
    unset = OmegaConf.is_missing(cfg.model, "autoencoder_ckpt")
    # required, but said after the rules between settings
    node = OmegaConf.merge(cfg.model, {"autoencoder_ckpt": "-"}) if unset else cfg.model
    config = parse(schema_of(node, "model", MODELS), node, "model")
    if isinstance(config, model.ClassifierConfig):
        check_backbone(config)
    if not isinstance(config, model.LatentLSTMConfig):
        return config
    # the pose-space LSTM: no autoencoder, and the synthetic dancers' poses (data.root=null) have genres
    pose = isinstance(config, pose_motion.PoseLSTMConfig)
    if not pose and config.condition == "genre" and OmegaConf.select(cfg, "data.root") is None:
        raise DeepdanceError(
            "model.condition=genre needs data.root=<folder of AIST++-named silhouette videos> (each "
            "video's genre is read from its name); the embedded dance has no genre labels"
        )
    targets, steps = OmegaConf.select(cfg, "data.target_frames", default=1), config.rollout_loss_steps
    if targets != steps:
        raise DeepdanceError(
            f"data.target_frames={targets} must equal model.rollout_loss_steps={steps} (each training "
            "window holds that many targets; experiment=deep_dance_lstm sets it)"
        )
    if pose:
        return config
    if unset and "model.autoencoder_ckpt" not in allow_missing:
        raise DeepdanceError(f"model.autoencoder_ckpt is required: {AE_HINT}")
    if not unset:
        path = existing(config.autoencoder_ckpt, "model.autoencoder_ckpt", "file", AE_HINT)
        check_family(path, "autoencoder_ckpt", "model.autoencoder_ckpt")
    return config


def check_backbone(config: model.ClassifierConfig) -> None:
    """A timm model name (not built), its weights file, its smallest input."""
    import timm

    from deepdance.models.backbones import _MIN_SIZE

    name, minimum = config.backbone.name, _MIN_SIZE.get(config.backbone.name.split(".")[0], 16)
    if not timm.is_model(name):
        close = ", ".join(timm.list_models(f"*{name.split('_')[0]}*")[:6]) or "none"
        raise DeepdanceError(f"model.backbone.name={name!r}: not a timm model; similar: {close}")
    if config.backbone.weights is not None:
        existing(config.backbone.weights, "model.backbone.weights", "file", f"a state dict of {name}")
    if config.img_size is not None and config.img_size < minimum:
        raise DeepdanceError(
            f"data.img_size={config.img_size}: expected an integer >= {minimum} ({name}'s smallest input)"
        )


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


def data_config(stored: dict[str, Any], cfg: DictConfig) -> DictConfig:
    """The stored data settings, with the ``data.*`` overrides of this command line on top."""
    from hydra.core.hydra_config import HydraConfig

    merged = OmegaConf.create(stored)
    for override in HydraConfig.get().overrides.task if HydraConfig.initialized() else []:
        key = override.split("=", 1)[0].lstrip("+~")
        # a whole new data group replaces the stored one
        if key == "data":
            return cfg.data
        if key.startswith("data."):
            OmegaConf.update(merged, key[len("data.") :], OmegaConf.select(cfg, key), force_add=True)
    return merged


def validate_eval(cfg: DictConfig) -> tuple[dict[str, Any], DictConfig]:
    """``python -m deepdance.eval``: the checkpoint's family and the data it is tested on (its
    stored settings with this command's ``data.*`` on top): returns its metadata and that data."""
    from deepdance.models.registry import check_data_target

    command = top(commands.EvalCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file", "a checkpoint written by deepdance.train")
    metadata = check_family(path, "eval")
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
    metadata = check_family(path, "predict")
    check_predict_inputs(metadata, path, video, cfg.get("pose"))
    return metadata


def validate_generate(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.generate``: a latent LSTM checkpoint, a seed video if one is named."""
    command = top(commands.GenerateCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file", "the latent LSTM's best_ckpt")
    if command.seed != "random":
        hint = "seed=random, a dance video to continue, or (pose_dance) a keypoints .pkl"
        existing(command.seed, "seed", "file", hint)
    return check_family(path, "generate")


def validate_score_generation(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.score_generation``: a latent LSTM and a silhouette genre recognizer,
    or a pose-space generator (and optionally a skeleton genre recognizer); the generator's metadata."""
    from deepdance.models.registry import GENRE_CLASSIFIER, POSE_CLASSIFIER, POSE_LSTM, require_family

    command = top(commands.ScoreGenerationCommand, cfg)
    lstm = existing(command.lstm_ckpt, "lstm_ckpt", "file", "the latent LSTM's or pose generator's best_ckpt")
    metadata = check_family(lstm, "score_generation", "lstm_ckpt")
    pose = require_family(metadata, "score_generation", lstm, "lstm_ckpt") is POSE_LSTM
    if command.recognizer_ckpt is None and not pose:
        raise DeepdanceError(
            "recognizer_ckpt is required for a latent LSTM: its dances are graded by a silhouette "
            "genre recognizer (experiment=silhouette_genre)"
        )
    if command.recognizer_ckpt is not None:
        recognizer = existing(
            command.recognizer_ckpt, "recognizer_ckpt", "file", "a genre recognizer's best_ckpt"
        )
        stored = check_family(recognizer, "recognizer_ckpt", "recognizer_ckpt")
        found = require_family(stored, "recognizer_ckpt", recognizer, "recognizer_ckpt")
        wanted, generator = (POSE_CLASSIFIER, "pose") if pose else (GENRE_CLASSIFIER, "latent LSTM")
        if found is not wanted:
            raise DeepdanceError(
                f"recognizer_ckpt={command.recognizer_ckpt}: a {found.short}; a {generator} "
                f"generator's dances are graded by a {wanted.short} ({wanted.hint})"
            )
    if not pose:
        check_silhouette_scoring(command)
    if command.data_root is not None:
        existing(command.data_root, "data_root")
    if command.uncond_ckpt is not None:
        uncond = check_family(
            existing(command.uncond_ckpt, "uncond_ckpt", "file"), "score_generation", "uncond_ckpt"
        )
        if (require_family(uncond, "score_generation", command.uncond_ckpt) is POSE_LSTM) != pose:
            raise DeepdanceError(
                f"uncond_ckpt={command.uncond_ckpt}: not the same kind of generator as lstm_ckpt "
                "(a latent LSTM and a pose-space generator are not compared)"
            )
    return metadata


def check_silhouette_scoring(command: commands.ScoreGenerationCommand) -> None:
    """The settings a latent LSTM's scorer takes (split=all and noise are the pose generator's)."""
    if command.steps is not None and command.steps < commands.MIN_SCORED_STEPS:
        raise DeepdanceError(f"steps={command.steps}: expected an integer >= {commands.MIN_SCORED_STEPS}")
    if command.split == "all":
        raise DeepdanceError("split=all: a latent LSTM is scored on a held-out split; expected val or test")
    if command.noise:
        raise DeepdanceError(f"noise={command.noise:g}: a pose generator's setting; a latent LSTM takes none")


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing(OmegaConf.select(cfg, "data.root"), "data.root", hint="data.root=<the folder of videos to scan>")
    parse(schema_of(cfg.data, "data", DATA), cfg.data, "data")
    top(commands.ScanCommand, cfg)


def validate_extract_poses(cfg: DictConfig) -> tuple[commands.ExtractPosesCommand, Any, list[Path]]:
    """``python -m deepdance.extract_poses``: the ``pose`` node, the videos (listed, none opened),
    and an ``out`` and pose store that are not the videos' folder; returns the command, its
    ``PoseConfig`` and the videos."""
    from deepdance.pose.validate import check_extract_poses

    return check_extract_poses(top(commands.ExtractPosesCommand, cfg), cfg.get("pose"))


def validate_score_poses(cfg: DictConfig) -> tuple[commands.ScorePosesCommand, Any, dict[str, list[Path]]]:
    """``python -m deepdance.score_poses``: the ``pose`` node (a backend it has) and the renders
    under ``rgb_root``, each with its truth (listed, none opened); the command, its ``PoseConfig``
    and the videos by background."""
    from deepdance.config.pose import PoseConfig
    from deepdance.pose.backends import check_backend
    from deepdance.pose.scoring import find_renders

    command = top(commands.ScorePosesCommand, cfg)
    pose = cfg.get("pose")
    config = parse(PoseConfig, pose if pose is not None else {}, "pose")
    check_backend(config.backend)
    hint = "python -m deepdance.make_synthetic --rgb writes one"
    root = existing(command.rgb_root, "rgb_root", "dir", hint)
    videos = find_renders(root, command.backgrounds)
    if command.max_videos is not None:
        videos = {kind: paths[: command.max_videos] for kind, paths in videos.items()}
    return command, config, videos


def validate_silhouettes(cfg: DictConfig) -> tuple[list[Path], Any]:
    """``python -m deepdance.silhouettes``: the silhouette data settings, the videos, and an ``out``
    that is a folder of its own (never beside or above the videos); the videos and that folder."""
    from deepdance.data.silhouette.preview import check_out, input_videos

    command = top(commands.SilhouettesCommand, cfg)
    schema = schema_of(cfg.data, "data", {SILHOUETTE_DATA: SilhouetteDataConfig})
    config = check_silhouette_pose(parse(schema, cfg.data, "data"))
    if config.source == "annotations":
        from deepdance.data.silhouette.motion import annotation_views

        # data=motion_silhouettes: video= is an annotation folder or a keypoints2d file, each view a video
        video = existing(command.video, "video", hint="an AIST++ annotation folder or a keypoints2d .pkl")
        videos = [view.path for view in annotation_views(video, config.motion.views)]
        return videos, check_out(videos, video, Path(command.out))
    video = existing(command.video, "video", hint="a video file or a folder of videos")
    videos = input_videos(video)
    return videos, check_out(videos, video, Path(command.out))


def check_silhouette_pose(config: SilhouetteDataConfig) -> SilhouetteDataConfig:
    """Silhouettes from the pose front end (``threshold_rule=person``, ``follow``): a backend it has."""
    from deepdance.pose.backends import BACKENDS

    if (config.threshold_rule == "person" or config.follow) and config.pose.backend not in BACKENDS:
        known = ", ".join(BACKENDS)
        raise DeepdanceError(f"data.pose.backend={config.pose.backend!r}: expected one of {known}")
    if config.threshold_rule == "person" and not config.pose.masks:
        raise DeepdanceError("data.pose.masks=false: data.threshold_rule=person needs the person masks")
    return config
