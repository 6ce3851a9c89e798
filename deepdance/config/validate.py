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
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException
from pydantic import BaseModel

from deepdance.config import commands, model
from deepdance.config.base import parse
from deepdance.config.data import GENRE_DATA, SILHOUETTE_DATA, GenreDataConfig, SilhouetteDataConfig
from deepdance.config.model import ClassifierConfig, LatentLSTMConfig
from deepdance.config.trainer import TrainerConfig
from deepdance.errors import DeepdanceError

S = TypeVar("S", bound=BaseModel)
DATA = {GENRE_DATA: GenreDataConfig, SILHOUETTE_DATA: SilhouetteDataConfig}
MODELS = {
    model.CLASSIFIER: ClassifierConfig,
    model.AUTOENCODER: model.AutoencoderConfig,
    model.LATENT_LSTM: LatentLSTMConfig,
}
KINDS = {"dir": ("folder", "no such folder"), "file": ("file", "no such file")}


def top(schema: type[S], cfg: DictConfig) -> S:
    """The command's own top-level keys, each resolved alone (``???`` left out)."""
    values = {}
    for name in (name for name in schema.model_fields if name in cfg):
        try:
            values[name] = OmegaConf.to_object(cfg[name]) if OmegaConf.is_config(cfg[name]) else cfg[name]
        except MissingMandatoryValue:
            continue
    return parse(schema, values)


def existing(value: str | None, key: str, kind: str = "any", hint: str = "") -> Path:
    """A path that exists: ``kind`` file, dir or any."""
    noun, missing = KINDS.get(kind, ("file or folder", "no such file or folder"))
    hint = f"; {hint}" if hint else ""
    if not value:
        raise DeepdanceError(f"{key}={value}: expected a path to an existing {noun}{hint}")
    path = Path(value).expanduser()
    if not (path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()):
        missing = "a file, not a folder" if kind == "dir" and path.is_file() else missing
        raise DeepdanceError(f"{key}={value}: {missing}{hint}")
    return path


def check_family(path: Path | str, command: str, key: str = "ckpt_path") -> dict[str, Any]:
    """The checkpoint's metadata; one line when ``command`` does not take its model family."""
    from deepdance.models.registry import require_family
    from deepdance.utils.checkpoints import read_deepdance_metadata

    metadata = read_deepdance_metadata(path, setting=key)
    require_family(metadata, command, path, key)
    return metadata


def schema_of(node: Any, group: str, schemas: dict[str, type[S]]) -> type[S]:
    """The schema of the class the group's ``_target_`` names (an old path read as today's)."""
    from deepdance.utils.legacy_targets import current_target

    target = OmegaConf.select(node, "_target_") if OmegaConf.is_config(node) else node.get("_target_")
    if current_target(str(target)) not in schemas:
        raise DeepdanceError(f"{group}._target_={target!r}: expected one of {', '.join(schemas)}")
    return schemas[current_target(str(target))]


def check_data(node: Any) -> GenreDataConfig | SilhouetteDataConfig:
    """``data``: its schema, its files, and (real videos) a split from the file names alone."""
    from deepdance.data.genre.manifest import build_manifest

    config = parse(schema_of(node, "data", DATA), node, "data")
    if isinstance(config, SilhouetteDataConfig):
        if config.root is not None:
            existing(config.root, "data.root", hint="a silhouette video or a folder of them")
        return config
    if config.split == "files" or config.split_dir is not None:
        existing(config.split_dir, "data.split_dir", "dir", "a folder of <split_set>_train/val/test.txt")
    if config.synthetic is None:
        existing(config.root, "data.root", hint="data=aist reads AIST++ videos from this folder")
        # an empty split stops the run before hours of probing or feature extraction
        build_manifest(config)
    return config


def check_model(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> BaseModel:
    """``model``: its schema, a backbone timm knows, the autoencoder checkpoint it reads (an
    earlier stage's, when ``allow_missing`` names it)."""
    node, unset = cfg.model, OmegaConf.is_missing(cfg.model, "autoencoder_ckpt")
    if unset:
        # required, but said after the rules between settings
        node = OmegaConf.merge(node, {"autoencoder_ckpt": "(not set)"})
    config = parse(schema_of(node, "model", MODELS), node, "model")
    if isinstance(config, ClassifierConfig):
        check_backbone(config)
    if isinstance(config, LatentLSTMConfig):
        check_lstm_data(config, cfg)
        hint = "the best checkpoint of experiment=deep_dance_ae"
        if "model.autoencoder_ckpt" in allow_missing:
            return config
        if unset:
            raise DeepdanceError(f"model.autoencoder_ckpt is required: {hint}")
        path = existing(config.autoencoder_ckpt, "model.autoencoder_ckpt", "file", hint)
        check_family(path, "autoencoder_ckpt", "model.autoencoder_ckpt")
    return config


def check_backbone(config: ClassifierConfig) -> None:
    """A timm model name (not built), its weights file, its smallest input."""
    import timm

    from deepdance.models.backbones import _MIN_SIZE

    name = config.backbone.name
    if not timm.is_model(name):
        close = ", ".join(timm.list_models(f"*{name.split('_')[0]}*")[:6]) or "none"
        raise DeepdanceError(f"model.backbone.name={name!r}: not a timm model; similar: {close}")
    if config.backbone.weights is not None:
        existing(config.backbone.weights, "model.backbone.weights", "file", f"a state dict of {name}")
    minimum = _MIN_SIZE.get(name.split(".")[0], 16)
    if config.img_size is not None and config.img_size < minimum:
        raise DeepdanceError(
            f"data.img_size={config.img_size}: expected an integer >= {minimum} ({name}'s smallest input)"
        )


def check_lstm_data(config: LatentLSTMConfig, cfg: DictConfig) -> None:
    """The LSTM's rules on its data: genre labels from file names, targets per window."""
    if config.condition == "genre" and OmegaConf.select(cfg, "data.root") is None:
        raise DeepdanceError(
            "model.condition=genre needs data.root=<folder of AIST++-named silhouette videos> (each "
            "video's genre is read from its name); the embedded dance has no genre labels"
        )
    targets = OmegaConf.select(cfg, "data.target_frames", default=1)
    if targets != config.rollout_loss_steps:
        raise DeepdanceError(
            f"data.target_frames={targets} must equal model.rollout_loss_steps={config.rollout_loss_steps} "
            "(each training window holds that many targets; experiment=deep_dance_lstm sets it)"
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

        hint = "a checkpoint of this model, or last, or null"
        path = existing(command.ckpt_path, "ckpt_path", "file", hint)
        check_model_target(read_deepdance_metadata(path), cfg.model._target_, path)


def validate_stages(cfg: DictConfig, compose: Callable[[str, DictConfig], DictConfig]) -> None:
    """``experiment=deep_dance``: every stage's config (``compose(name, stage)``) before the first trains."""
    seen: list[str] = []
    for name in cfg.stages:
        stage = parse(commands.Stage, cfg.stages[name], f"stages.{name}")
        if stage.autoencoder_from not in (None, *seen):
            earlier = ", ".join(seen) or "none"
            key = f"stages.{name}.autoencoder_from={stage.autoencoder_from!r}"
            raise DeepdanceError(f"{key}: expected an earlier stage: {earlier}")
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
    model = check_model(cfg)
    parse(TrainerConfig, cfg.trainer, "trainer")
    if not isinstance(model, ClassifierConfig) or not model.backbone.freeze:
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
    """``python -m deepdance.predict``: a genre classifier checkpoint and a video or folder."""
    command = top(commands.PredictCommand, cfg)
    existing(command.video, "video", hint="a video file or a folder of videos")
    return check_family(existing(command.ckpt_path, "ckpt_path", "file"), "predict")


def validate_generate(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.generate``: a latent LSTM checkpoint, a seed video if one is named."""
    command = top(commands.GenerateCommand, cfg)
    path = existing(command.ckpt_path, "ckpt_path", "file", "the latent LSTM's best_ckpt")
    if command.seed != "random":
        existing(command.seed, "seed", "file", "seed=random or the path of a dance video to continue")
    return check_family(path, "generate")


def validate_score_generation(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.score_generation``: a latent LSTM, a genre recognizer (checkpoints)."""
    command = top(commands.ScoreGenerationCommand, cfg)
    checkpoints = {"lstm_ckpt": "score_generation", "recognizer_ckpt": "recognizer_ckpt"}
    if command.data_root is not None:
        existing(command.data_root, "data_root")
    if command.uncond_ckpt is not None:
        checkpoints["uncond_ckpt"] = "score_generation"
    found = {key: existing(getattr(command, key), key, "file") for key in checkpoints}
    metadata = {key: check_family(found[key], use, key) for key, use in reversed(checkpoints.items())}
    return metadata["lstm_ckpt"]


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing(OmegaConf.select(cfg, "data.root"), "data.root", hint="data.root=<the folder of videos to scan>")
    parse(schema_of(cfg.data, "data", DATA), cfg.data, "data")
    top(commands.ScanCommand, cfg)
