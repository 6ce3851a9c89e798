"""Start-up checks of every entry point's settings, run before anything heavy.

A wrong value should cost one line and no time: it is named here, with what would be
accepted, before a video is opened, a dataset generated or a model built. Each entry point
calls its ``validate_<entry>(cfg)`` first thing inside ``task_wrapper``, which prints a
``DeepdanceError`` as ``error: ...`` with exit code 2. Values are read one key at a time
(resolving only that key), so the checks also run on a config from Hydra's compose API.

Hydra itself already refuses a misspelled key without ``+`` (struct mode) and an unknown
group option; a key added with ``+`` is caught here against the signature of the class the
group builds.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from deepdance.errors import DeepdanceError
from deepdance.models.registry import GENRE_CLASSIFIER, SILHOUETTE_AE, require_family
from deepdance.models.registry import LATENT_LSTM as LSTM_FAMILY

GENRE_DATA = "deepdance.data.genre.GenreDataModule"
SILHOUETTE_DATA = "deepdance.data.silhouette.SilhouetteDataModule"
# The model families' class paths, from the one registry.
CLASSIFIER = GENRE_CLASSIFIER.target
AUTOENCODER = SILHOUETTE_AE.target
LATENT_LSTM = LSTM_FAMILY.target
# Hydra's instantiate keywords: allowed in any group beside the class's own arguments.
HYDRA_KEYS = {"_target_", "_recursive_", "_partial_", "_convert_", "_args_"}
# Lightning 2.x precision names (Trainer(precision=...)).
PRECISIONS = (
    "64",
    "32",
    "16",
    "bf16",
    "64-true",
    "32-true",
    "16-true",
    "bf16-true",
    "16-mixed",
    "bf16-mixed",
    "transformer-engine",
    "transformer-engine-float16",
)
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")

_ABSENT = object()


def _plain(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def setting(cfg: DictConfig, key: str, hint: str = "", default: Any = _ABSENT) -> Any:
    """The resolved value of the dotted ``key`` (plain Python); ``???`` is a one-line error."""
    try:
        value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=True)
    except MissingMandatoryValue:
        raise DeepdanceError(f"{key} is required{': ' + hint if hint else ''}") from None
    except OmegaConfBaseException as err:
        raise DeepdanceError(f"{key}: cannot be read ({' '.join(str(err).split())[:200]})") from None
    if value is _ABSENT:
        if default is _ABSENT:
            raise DeepdanceError(f"{key} is missing from the config{': ' + hint if hint else ''}")
        return default
    return _plain(value)


def _bad(key: str, value: Any, accepted: str) -> DeepdanceError:
    return DeepdanceError(f"{key}={value!r}: expected {accepted}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(
    cfg: DictConfig,
    key: str,
    low: int | None = None,
    high: int | None = None,
    optional: bool = False,
    default: Any = _ABSENT,
) -> int | None:
    """An integer in ``[low, high]`` (``null`` too when ``optional``)."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    accepted = (
        "an integer" + (f" >= {low}" if low is not None else "") + (f" <= {high}" if high is not None else "")
    )
    accepted += " or null" if optional else ""
    if not _is_int(value) or (low is not None and value < low) or (high is not None and value > high):
        raise _bad(key, value, accepted)
    return value


def number(
    cfg: DictConfig,
    key: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    default: Any = _ABSENT,
) -> float | None:
    """A number in the interval given; ``low_open``/``high_open`` exclude the ends."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    bounds = ""
    if low is not None and high is not None:
        bounds = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        bounds = f" {'>' if low_open else '>='} {low}"
    elif high is not None:
        bounds = f" {'<' if high_open else '<='} {high}"
    accepted = f"a number{bounds}" + (" or null" if optional else "")
    if not _is_number(value):
        raise _bad(key, value, accepted)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise _bad(key, value, accepted)
    return float(value)


def boolean(cfg: DictConfig, key: str, optional: bool = False, default: Any = _ABSENT) -> bool | None:
    """Read a true/false setting; a string like 'false' would otherwise pass as truthy."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise _bad(key, value, "true or false" + (" or null" if optional else ""))
    return value


def choice(
    cfg: DictConfig, key: str, options: Iterable[Any], optional: bool = False, default: Any = _ABSENT
) -> Any:
    """Read a setting that must be one of a fixed set, naming the accepted values on error."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    options = list(options)
    if value not in options:
        raise _bad(key, value, "one of " + ", ".join(map(str, options)) + (" or null" if optional else ""))
    return value


def text(cfg: DictConfig, key: str, optional: bool = False, default: Any = _ABSENT) -> str | None:
    """Read a non-empty string setting, so an empty name fails at start-up rather than mid-run."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(key, value, "a non-empty string" + (" or null" if optional else ""))
    return value


def int_list(cfg: DictConfig, key: str, low: int = 1, optional: bool = False) -> list[int] | None:
    """A non-empty list of integers >= ``low``."""
    value = setting(cfg, key)
    if value is None and optional:
        return None
    if not isinstance(value, list) or not value or not all(_is_int(v) and v >= low for v in value):
        raise _bad(key, value, f"a non-empty list of integers >= {low}" + (" or null" if optional else ""))
    return value


def existing_path(
    cfg: DictConfig,
    key: str,
    kind: str = "any",
    hint: str = "",
    optional: bool = False,
    default: Any = _ABSENT,
) -> Path | None:
    """A path that exists: ``kind`` file, dir or any."""
    value = setting(cfg, key, hint=hint, default=default)
    if value in (None, "") and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(
            key,
            value,
            "a path to an existing " + {"dir": "folder", "file": "file"}.get(kind, "file or folder"),
        )
    path = Path(value).expanduser()
    ok = path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()
    if not ok:
        what = {"file": "no such file", "dir": "no such folder"}.get(kind, "no such file or folder")
        if kind == "dir" and path.is_file():
            what = "a file, not a folder"
        raise DeepdanceError(f"{key}={value}: {what}{'; ' + hint if hint else ''}")
    return path


def known_keys(cfg: DictConfig, group: str, known: Iterable[str], owner: str) -> None:
    """Every key of ``group`` is one of ``known`` (a ``+key=...`` typo is caught here)."""
    node = OmegaConf.select(cfg, group)
    if not isinstance(node, DictConfig):
        return
    known = set(known) | HYDRA_KEYS
    unknown = sorted(str(k) for k in node if k not in known)
    if unknown:
        listed = ", ".join(sorted(k for k in known if not k.startswith("_")))
        raise DeepdanceError(f"{group}.{unknown[0]}: not a setting of {owner}; known: {listed}")


def signature_keys(target: str) -> tuple[set[str], str]:
    """The keyword arguments the class ``target`` takes (imported, not built)."""
    import hydra

    try:
        cls = hydra.utils.get_class(target)
    except (ImportError, ValueError, AttributeError) as err:
        raise DeepdanceError(
            f"_target_={target}: cannot be imported ({' '.join(str(err).split())[:160]})"
        ) from None
    params = inspect.signature(cls.__init__).parameters
    # ``**legacy`` (keys of older checkpoints) is no setting a config may give
    named = {name for name, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return named - {"self"}, cls.__name__


def wrapped(prefix: str, build: Any, *args: Any, **kwargs: Any) -> Any:
    """Build a small settings object (no I/O), naming ``prefix`` when it refuses a value."""
    try:
        return build(*args, **kwargs)
    except DeepdanceError as err:
        if str(err).startswith(prefix.split("=")[0]):
            raise
        raise DeepdanceError(f"{prefix}: {err}") from None
    except (TypeError, ValueError) as err:
        raise DeepdanceError(f"{prefix}: {' '.join(str(err).split())}") from None


# ---------------------------------------------------------------- data


def check_data(cfg: DictConfig) -> None:
    """``data``: the group's keys, types and ranges; the data root where real videos are read."""
    target = text(cfg, "data._target_")
    keys, owner = signature_keys(target)
    known_keys(cfg, "data", keys, owner)
    if target == GENRE_DATA:
        check_genre_data(cfg)
    elif target == SILHOUETTE_DATA:
        check_silhouette_data(cfg)


def check_genre_data(cfg: DictConfig) -> None:
    """Check the genre-recognition data settings before any video is opened."""
    from deepdance.data.aist import normalise_cameras, normalise_situations
    from deepdance.data.genre.augment import ClipAugment
    from deepdance.data.genre.datamodule import FEATURE_DEFAULTS, SAMPLINGS, check_genres
    from deepdance.data.synthetic import SyntheticConfig

    integer(cfg, "data.num_frames", low=1)
    integer(cfg, "data.img_size", low=16)
    choice(cfg, "data.sampling", SAMPLINGS, default="exact")
    split = choice(cfg, "data.split", ("dancer", "random", "files"), default="dancer")
    integer(cfg, "data.seed", default=0)
    integer(cfg, "data.batch_size", low=1)
    integer(cfg, "data.num_workers", low=0)
    boolean(cfg, "data.pin_memory", optional=True, default=None)
    boolean(cfg, "data.persistent_workers", default=False)
    boolean(cfg, "data.train_jitter", default=True)
    integer(cfg, "data.val_dancers", low=1, default=1)
    integer(cfg, "data.test_dancers", low=1, default=1)
    integer(cfg, "data.test_clips", low=1, default=1)
    boolean(cfg, "data.view_vote", default=False)
    choice(cfg, "data.on_bad_video", ("skip", "error"), default="skip")
    choice(cfg, "data.split_set", ("crossmodal", "pose"), default="crossmodal")
    check_genres(setting(cfg, "data.genres", default=None))
    cameras, situations = (
        setting(cfg, "data.cameras", default=None),
        setting(cfg, "data.situations", default=None),
    )
    if cameras is not None:
        wrapped(
            f"data.cameras={cameras}", normalise_cameras, cameras if isinstance(cameras, list) else [cameras]
        )
    if situations is not None:
        wrapped(
            f"data.situations={situations}",
            normalise_situations,
            situations if isinstance(situations, list) else [situations],
        )
    split_hint = (
        "a folder holding <split_set>_train.txt, _val.txt, _test.txt (the AIST++ annotations' splits/)"
    )
    if split == "files":
        existing_path(cfg, "data.split_dir", kind="dir", hint=split_hint, default=None)
    else:
        existing_path(cfg, "data.split_dir", kind="dir", hint=split_hint, optional=True, default=None)
    features = setting(cfg, "data.features", default=None) or {}
    if not isinstance(features, dict):
        raise _bad("data.features", features, "a mapping of " + ", ".join(FEATURE_DEFAULTS))
    known_keys(cfg, "data.features", FEATURE_DEFAULTS, "data.features")
    if "use" in features:
        choice(cfg, "data.features.use", ("auto", True, False, "true", "false"))
    for key in ("clips", "batch_size", "inference_batch_size"):
        if key in features:
            integer(cfg, f"data.features.{key}", low=1)
    augment = setting(cfg, "data.augment", default=None)
    if augment is not None:
        if not isinstance(augment, dict):
            raise _bad(
                "data.augment",
                augment,
                "null or a mapping of " + ", ".join(f.name for f in dataclasses.fields(ClipAugment)),
            )
        known_keys(cfg, "data.augment", (f.name for f in dataclasses.fields(ClipAugment)), "ClipAugment")
        wrapped(f"data.augment={augment}", ClipAugment, **augment)
    synthetic = setting(cfg, "data.synthetic", default=None)
    if synthetic is None:
        root_hint = (
            "data=aist reads AIST++ videos from this folder (python -m deepdance.download_aist), "
            "data=synthetic generates them"
        )
        existing_path(cfg, "data.root", kind="any", hint=root_hint)
        check_split_from_names(cfg)
        return
    if not isinstance(synthetic, dict):
        raise _bad("data.synthetic", synthetic, "null (real videos) or a mapping of generator settings")
    known_keys(
        cfg, "data.synthetic", (f.name for f in dataclasses.fields(SyntheticConfig)), "SyntheticConfig"
    )
    config = wrapped("data.synthetic", SyntheticConfig, **synthetic)
    text(cfg, "data.root")
    test_dancers = setting(cfg, "data.test_dancers", default=1)
    if split == "dancer" and config.dancers_per_genre < test_dancers + 2:
        raise DeepdanceError(
            f"data.synthetic.dancers_per_genre={config.dancers_per_genre}: expected >= {test_dancers + 2} "
            f"with data.split=dancer and data.test_dancers={test_dancers} "
            "(train, val and test each need a dancer)"
        )


def check_split_from_names(cfg: DictConfig) -> None:
    """Real videos: the manifest and its split, from the file names alone (nothing decoded), so
    an empty split stops the run before hours of probing or feature extraction."""
    from deepdance.data.genre.datamodule import GenreDataModule

    settings = {k: v for k, v in setting(cfg, "data").items() if k not in HYDRA_KEYS}
    GenreDataModule(**settings).load_manifest()


def check_silhouette_data(cfg: DictConfig) -> None:
    """Check the silhouette data settings before any frame is decoded."""
    existing_path(
        cfg,
        "data.root",
        kind="any",
        optional=True,
        default=None,
        hint="a silhouette video or a folder of them; null renders the synthetic dance",
    )
    number(cfg, "data.fps", low=0, low_open=True, optional=True, default=3.0)
    integer(cfg, "data.height", low=8, default=120)
    integer(cfg, "data.width", low=8, default=200)
    choice(cfg, "data.threshold_rule", ("fixed", "otsu", "background"), default="fixed")
    number(cfg, "data.threshold", low=0, high=255, default=128)
    choice(cfg, "data.polarity", ("dark", "light"), default="dark")
    crop = setting(cfg, "data.crop", default=None)
    if crop is not None and (
        not isinstance(crop, list) or len(crop) != 4 or not all(_is_int(v) and v >= 0 for v in crop)
    ):
        raise _bad("data.crop", crop, "null or [top, left, bottom, right] in pixels")
    number(cfg, "data.start_seconds", low=0, default=0.0)
    test = number(cfg, "data.test_fraction", low=0, high=1, low_open=True, high_open=True, default=0.1)
    val = number(cfg, "data.val_fraction", low=0, high=1, low_open=True, high_open=True, default=0.1)
    if test + val >= 1:
        raise DeepdanceError(
            f"data.test_fraction={test} + data.val_fraction={val}: "
            "expected a sum below 1 (training needs frames)"
        )
    split = choice(cfg, "data.split", ("chronological", "dancer"), default="chronological")
    integer(cfg, "data.seed", default=0)
    integer(cfg, "data.val_dancers", low=1, default=1)
    integer(cfg, "data.test_dancers", low=1, default=1)
    if split == "dancer" and setting(cfg, "data.root", default=None) is None:
        raise DeepdanceError(
            "data.split=dancer needs data.root=<folder of AIST++-named silhouette videos> (e.g. "
            "the labelled dancers: python -m deepdance.make_synthetic --silhouette); the embedded "
            "dance is one dancer"
        )
    integer(cfg, "data.context_frames", low=1, optional=True, default=None)
    integer(cfg, "data.target_frames", low=1, default=1)
    boolean(cfg, "data.flip", default=False)
    check_augmentation(cfg)
    integer(cfg, "data.batch_size", low=1)
    integer(cfg, "data.num_workers", low=0, default=0)
    if (
        setting(cfg, "data.root", default=None) is None
        and setting(cfg, "data.synthetic", default=None) is not None
    ):
        from deepdance.data.synthetic.silhouettes import ensure_synthetic_silhouettes

        keys = set(inspect.signature(ensure_synthetic_silhouettes).parameters) - {"directory"} | {"dir"}
        known_keys(cfg, "data.synthetic", keys, "the synthetic silhouette dance")
        integer(cfg, "data.synthetic.num_frames", low=1, default=1500)
        number(cfg, "data.synthetic.fps", low=0, low_open=True, default=3.0)
        integer(cfg, "data.synthetic.height", low=16, default=120)
        integer(cfg, "data.synthetic.width", low=16, default=200)


def check_augmentation(cfg: DictConfig) -> None:
    """``data.phases`` and ``data.time_warp`` (deepdance.data.silhouette.augment)."""
    from deepdance.data.silhouette.augment import check_phases, check_time_warp

    phases = integer(cfg, "data.phases", low=1, default=1)
    check_phases(phases, setting(cfg, "data.fps", default=3.0))
    check_time_warp(setting(cfg, "data.time_warp", default=None))


# ---------------------------------------------------------------- model


def check_model(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> None:
    """``model``: the group's keys, types and ranges; a backbone name timm knows (not built)."""
    target = text(cfg, "model._target_")
    keys, owner = signature_keys(target)
    known_keys(cfg, "model", keys, owner)
    number(cfg, "model.optimizer.lr", low=0, low_open=True)
    if OmegaConf.select(cfg, "model.optimizer.weight_decay") is not None:
        number(cfg, "model.optimizer.weight_decay", low=0)
    if target == CLASSIFIER:
        check_classifier(cfg)
    elif target == AUTOENCODER:
        choice(cfg, "model.loss", ("bce", "mse"), default="bce")
        for key in ("height", "width", "latent_dim", "channels", "hidden", "pools"):
            integer(cfg, f"model.net.{key}", low=1)
    elif target == LATENT_LSTM:
        integer(cfg, "model.look_back", low=2)
        int_list(cfg, "model.net.hidden_sizes")
        number(cfg, "model.net.dropout", low=0, high=1, high_open=True, default=0.0)
        number(cfg, "model.ridge_alpha", low=0)
        int_list(cfg, "model.rollout_horizons")
        check_condition(cfg)
        check_rollout_training(cfg)
        if "model.autoencoder_ckpt" not in allow_missing:
            path = existing_path(
                cfg,
                "model.autoencoder_ckpt",
                kind="file",
                hint="the best checkpoint of experiment=deep_dance_ae",
            )
            check_family(path, "autoencoder_ckpt", "model.autoencoder_ckpt")


def check_condition(cfg: DictConfig) -> None:
    """``model.condition``: null, or genre on videos whose AIST++ names give each one's genre."""
    condition = choice(cfg, "model.condition", ("genre",), optional=True, default=None)
    integer(cfg, "model.genre_dim", low=1, default=8)
    if condition == "genre" and setting(cfg, "data.root", default=None) is None:
        raise DeepdanceError(
            "model.condition=genre needs data.root=<folder of AIST++-named silhouette videos> (each "
            "video's genre is read from its name; e.g. the labelled dancers: python -m "
            "deepdance.make_synthetic --silhouette); the embedded dance has no genre labels"
        )


def check_rollout_training(cfg: DictConfig) -> None:
    """The LSTM's remedies against freezing: head, rollout loss (its windows), noise."""
    choice(cfg, "model.head", ("point", "mdn"), default="point")
    integer(cfg, "model.mixtures", low=1, default=5)
    steps = integer(cfg, "model.rollout_loss_steps", low=1, default=1)
    number(cfg, "model.scheduled_sampling", low=0, high=1, default=0.0)
    number(cfg, "model.input_noise", low=0, default=0.0)
    targets = setting(cfg, "data.target_frames", default=1)
    if targets != steps:
        raise DeepdanceError(
            f"data.target_frames={targets} must equal model.rollout_loss_steps={steps} (each training "
            "window holds that many targets; experiment=deep_dance_lstm sets it from the model)"
        )


def check_classifier(cfg: DictConfig) -> None:
    """Check the classifier settings (backbone, sizes, head) before any weights are built."""
    import timm

    from deepdance.data.genre.datamodule import check_genres
    from deepdance.models.backbones import _MIN_SIZE, create_backbone
    from deepdance.models.sequence_heads import GRUHead

    backbone_keys = set(inspect.signature(create_backbone).parameters) - {"in_chans"}
    known_keys(cfg, "model.backbone", backbone_keys, "model.backbone")
    name = text(cfg, "model.backbone.name")
    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('_')[0]}*")[:6]
        raise DeepdanceError(
            f"model.backbone.name={name!r}: not a timm model; similar: {', '.join(close) or 'none'} "
            "(see timm.list_models())"
        )
    boolean(cfg, "model.backbone.pretrained", default=False)
    existing_path(
        cfg,
        "model.backbone.weights",
        kind="file",
        optional=True,
        default=None,
        hint=f"a .safetensors or .pth state dict of {name}",
    )
    freeze = boolean(cfg, "model.backbone.freeze", default=False)
    number(cfg, "model.backbone.drop_rate", low=0, high=1, high_open=True, default=0.0)
    head_keys = set(inspect.signature(GRUHead).parameters) - {"in_features", "num_classes"}
    known_keys(cfg, "model.head", head_keys, "GRUHead")
    int_list(cfg, "model.head.gru_sizes")
    integer(cfg, "model.head.dense", low=1, default=8)
    number(cfg, "model.head.dropout", low=0, high=1, high_open=True, default=0.4)
    boolean(cfg, "model.head.input_norm", default=True)
    frame_diff = boolean(cfg, "model.frame_diff", default=False)
    boolean(cfg, "model.channels_last", default=True)
    boolean(cfg, "model.compile", default=False)
    check_genres(setting(cfg, "model.class_names", default=None))
    if frame_diff and freeze:
        raise DeepdanceError(
            "model.frame_diff=true feeds 6-channel frames the backbone must learn from: "
            "expected model.backbone.freeze=false"
        )
    minimum = _MIN_SIZE.get(name.split(".")[0], 16)
    img_size = integer(cfg, "model.img_size", low=1, optional=True, default=None)
    if img_size is not None and img_size < minimum:
        raise DeepdanceError(
            f"data.img_size={img_size}: expected an integer >= {minimum} ({name}'s smallest input)"
        )


# ---------------------------------------------------------------- trainer and checkpoints


def check_trainer(cfg: DictConfig) -> None:
    """``trainer``: what Lightning would otherwise refuse mid-fit (or not at all)."""
    integer(cfg, "trainer.max_epochs", low=-1, optional=True, default=None)
    integer(cfg, "trainer.min_epochs", low=0, optional=True, default=None)
    integer(cfg, "trainer.max_steps", low=-1, default=-1)
    choice(cfg, "trainer.accelerator", ACCELERATORS, default="auto")
    devices = setting(cfg, "trainer.devices", default="auto")
    ok = (
        (_is_int(devices) and devices >= -1 and devices != 0)
        or devices == "auto"
        or (isinstance(devices, list) and devices and all(_is_int(d) and d >= 0 for d in devices))
    )
    if not ok and not (isinstance(devices, str) and devices.replace(",", "").isdigit()):
        raise _bad("trainer.devices", devices, "auto, -1 (all), a count >= 1, or a list of device indices")
    integer(cfg, "trainer.num_nodes", low=1, default=1)
    precision = setting(cfg, "trainer.precision", default="32")
    if str(precision) not in PRECISIONS or isinstance(precision, bool):
        raise _bad("trainer.precision", precision, "one of " + ", ".join(PRECISIONS))
    integer(cfg, "trainer.check_val_every_n_epoch", low=1, optional=True, default=1)
    integer(cfg, "trainer.log_every_n_steps", low=1, optional=True, default=None)
    integer(cfg, "trainer.num_sanity_val_steps", low=-1, optional=True, default=None)
    integer(cfg, "trainer.accumulate_grad_batches", low=1, default=1)
    number(cfg, "trainer.gradient_clip_val", low=0, optional=True, default=None)
    for split in ("train", "val", "test", "predict"):
        key = f"trainer.limit_{split}_batches"
        value = setting(cfg, key, default=None)
        if value is not None and not (
            (_is_int(value) and value >= 0) or (isinstance(value, float) and 0 <= value <= 1)
        ):
            raise _bad(key, value, "null (all), a number of batches >= 0, or a fraction in [0.0, 1.0]")
    fast = setting(cfg, "trainer.fast_dev_run", default=False)
    if not (isinstance(fast, bool) or (_is_int(fast) and fast >= 0)):
        raise _bad("trainer.fast_dev_run", fast, "true, false or a number of batches >= 0")


def check_family(path: Path | str, command: str, key: str = "ckpt_path") -> dict[str, Any]:
    """The checkpoint's stored metadata, refused in one line when ``command`` does not take its
    model family (``deepdance.models.registry``)."""
    from deepdance.utils.checkpoints import read_deepdance_metadata

    metadata = read_deepdance_metadata(path, setting=key)
    require_family(metadata, command, path, key)
    return metadata


def check_ckpt(cfg: DictConfig, hint: str) -> Path:
    """A mandatory ``ckpt_path`` that names an existing file."""
    return existing_path(cfg, "ckpt_path", kind="file", hint=hint)


def check_seed(cfg: DictConfig) -> None:
    """A seed must be an integer or null; a string seed would be silently ignored."""
    integer(cfg, "seed", optional=True, default=None)


# ---------------------------------------------------------------- entry points


def validate_train(cfg: DictConfig, allow_missing: Iterable[str] = ()) -> None:
    """``python -m deepdance.train`` (one run, or one stage of a pipeline)."""
    check_seed(cfg)
    for key in ("train", "test", "print_config"):
        boolean(cfg, key, default=True)
    check_data(cfg)
    check_model(cfg, allow_missing)
    check_trainer(cfg)
    ckpt = setting(cfg, "ckpt_path", default=None)
    if ckpt not in (None, "", "last"):
        # ``last`` is resolved (and its family checked) by train itself
        from deepdance.utils.checkpoints import check_model_target, load_checkpoint

        hint = "a checkpoint of this model, or last, or null"
        path = existing_path(cfg, "ckpt_path", kind="file", hint=hint)
        check_model_target(load_checkpoint(path).get("deepdance") or {}, text(cfg, "model._target_"), path)


def validate_stages(cfg: DictConfig, compose: Any) -> None:
    """``experiment=deep_dance``: every stage's config, before the first stage trains.
    ``compose(overrides)`` gives a stage's config; a checkpoint an earlier stage will write is
    not checked yet."""
    stages = setting(cfg, "stages")
    if not isinstance(stages, dict) or not stages:
        raise _bad("stages", stages, "a mapping of stage name to {experiment, overrides, autoencoder_from}")
    seen: list[str] = []
    for name, stage in stages.items():
        known_keys(cfg, f"stages.{name}", ("experiment", "overrides", "autoencoder_from"), "a stage")
        source = stage.get("autoencoder_from")
        if source is not None and source not in seen:
            raise _bad(
                f"stages.{name}.autoencoder_from",
                source,
                "the name of an earlier stage: " + (", ".join(seen) or "none"),
            )
        try:
            stage_cfg = compose(name, cfg.stages[name])
        except (HydraException, OmegaConfBaseException) as err:
            raise DeepdanceError(f"stages.{name}: {' '.join(str(err).split())[:300]}") from None
        validate_train(stage_cfg, allow_missing=("model.autoencoder_ckpt",) if source else ())
        seen.append(name)


def validate_extract_features(cfg: DictConfig) -> None:
    """``python -m deepdance.extract_features``: train's data and model, a frozen backbone."""
    check_seed(cfg)
    check_data(cfg)
    if text(cfg, "data._target_") != GENRE_DATA:
        raise _bad(
            "data",
            setting(cfg, "data._target_"),
            f"a genre dataset ({GENRE_DATA}: data=synthetic or data=aist)",
        )
    check_model(cfg)
    check_trainer(cfg)
    if text(cfg, "model._target_") != CLASSIFIER or not setting(cfg, "model.backbone.freeze", default=False):
        raise DeepdanceError(
            "model.backbone.freeze=false: extract_features expected a frozen backbone "
            "(model.backbone.freeze=true, e.g. model=genre_gru); "
            "features of a backbone that trains change every step"
        )
    splits = setting(cfg, "splits", default=None) or ["train", "val", "test"]
    if not isinstance(splits, list) or not splits or not set(splits) <= {"train", "val", "test"}:
        raise _bad("splits", splits, "a list of train, val, test")


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
    from deepdance.utils.checkpoints import check_data_target

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


def validate_scan(cfg: DictConfig) -> None:
    """``python -m deepdance.scan``: an existing folder (or file) of videos."""
    existing_path(cfg, "data.root", kind="any", hint="data.root=<the folder of videos to scan>")
    integer(cfg, "data.num_frames", low=1)
    integer(cfg, "workers", low=1)
    decode = integer(cfg, "decode_frames", low=-1)
    if decode == 0:
        raise _bad("decode_frames", decode, "-1 (every frame) or an integer >= 1")
    boolean(cfg, "fail_on_bad", default=True)


def validate_bench(cfg: DictConfig) -> None:
    """``python -m deepdance.bench``: inputs, backbone, sizes and repeats."""
    import timm

    from deepdance.bench.inputs import StandInSpec
    from deepdance.data.genre.datamodule import SAMPLINGS

    videos = setting(cfg, "bench.videos")
    inputs = setting(cfg, "bench.inputs", default={}) or {}
    if str(videos) == "synthetic":
        sets = setting(cfg, "bench.sets")
        if not isinstance(sets, list) or not sets or not all(s in inputs for s in sets):
            raise _bad("bench.sets", sets, "a non-empty list of stand-in sets: " + ", ".join(inputs))
        for name in sets:
            spec = {"name": str(name), **(inputs[name] or {})}
            wrapped(f"bench.inputs.{name}", StandInSpec, **spec)
    else:
        # the runner's own wording (deepdance/bench/inputs.py), said before anything is measured
        if not Path(str(videos)).expanduser().is_dir():
            raise DeepdanceError(
                f"bench.videos={videos}: not a directory (use 'synthetic' or a folder of video files)"
            )
    integer(cfg, "bench.limit", low=1, optional=True, default=None)
    integer(cfg, "bench.generate_workers", low=1, default=1)
    name = text(cfg, "bench.backbone.name")
    if not timm.is_model(name):
        raise _bad("bench.backbone.name", name, "a timm model name (see timm.list_models())")
    boolean(cfg, "bench.backbone.pretrained", default=False)
    existing_path(cfg, "bench.backbone.weights", kind="file", optional=True, default=None)
    integer(cfg, "bench.img_size", low=16)
    integer(cfg, "bench.num_frames", low=1)
    samplings = setting(cfg, "bench.samplings")
    if not isinstance(samplings, list) or "exact" not in samplings or not set(samplings) <= set(SAMPLINGS):
        raise _bad("bench.samplings", samplings, "a list of " + ", ".join(SAMPLINGS) + " that includes exact")
    boolean(cfg, "bench.channels_last", default=True)
    # median, min and max need at least three runs
    integer(cfg, "bench.repeats", low=3)
    integer(cfg, "bench.warmup", low=0)
    device = setting(cfg, "bench.device", default="auto")
    if not isinstance(device, str) or not (device in ("auto", "cpu", "cuda") or device.startswith("cuda:")):
        raise _bad("bench.device", device, "auto, cpu, cuda or cuda:N")
    for kind in setting(cfg, "bench.profiles", default={}) or {}:
        integer(cfg, f"bench.profiles.{kind}.batch_videos", low=1)
        integer(cfg, f"bench.profiles.{kind}.num_workers", low=0)
        choice(cfg, f"bench.profiles.{kind}.precision", ("fp32", "bf16"), default="fp32")
        int_list(cfg, f"bench.profiles.{kind}.model_batch_sizes")
    integer(cfg, "bench.training.batch_size", low=1)
    # the first epoch, then at least one steady-state epoch
    integer(cfg, "bench.training.epochs", low=2, default=3)
    training_set = setting(cfg, "bench.training.set", default=None)
    if (
        training_set is not None
        and str(videos) == "synthetic"
        and training_set not in setting(cfg, "bench.sets")
    ):
        raise _bad("bench.training.set", training_set, "null or one of bench.sets")
    int_list(cfg, "bench.training.head.gru_sizes")
    number(cfg, "bench.training.head.dropout", low=0, high=1, high_open=True, default=0.4)
    for key in ("height", "width", "batch_size", "look_back"):
        integer(cfg, f"bench.generator.{key}", low=1)
    for key in ("seconds", "output_fps", "model_fps", "playback_fps"):
        number(cfg, f"bench.generator.{key}", low=0, low_open=True)


def validate_download_args(args: argparse.Namespace) -> None:
    """``python -m deepdance.download_aist``: the arguments argparse cannot check alone."""
    from deepdance.data.aist import GENRES, normalise_cameras, normalise_situations

    root = Path(args.root).expanduser()
    if root.exists() and not root.is_dir():
        raise DeepdanceError(
            f"--root {args.root}: a file, not a folder; expected a folder for the .mp4 files"
        )
    location = str(args.list)
    if ("://" not in location or location.startswith("file://")) and not Path(
        location.removeprefix("file://")
    ).expanduser().is_file():
        raise DeepdanceError(
            f"--list {args.list}: no such file; expected a URL or a local file of video names"
        )
    for flag, value, low in (
        ("--workers", args.workers, 1),
        ("--retries", args.retries, 0),
        ("--max-videos", args.max_videos, 1),
    ):
        if value is not None and value < low:
            raise DeepdanceError(f"{flag} {value}: expected an integer >= {low}")
    if args.backoff < 0:
        raise DeepdanceError(f"--backoff {args.backoff}: expected a number of seconds >= 0")
    if args.timeout <= 0:
        raise DeepdanceError(f"--timeout {args.timeout}: expected a number of seconds > 0")
    unknown = sorted({g.upper() for g in args.genres or []} - set(GENRES))
    if unknown:
        raise DeepdanceError(
            f"--genres {' '.join(unknown)}: unknown genre; expected any of {' '.join(GENRES)}"
        )
    if args.situations:
        wrapped("--situations", normalise_situations, args.situations)
    if args.cameras:
        wrapped("--cameras", normalise_cameras, args.cameras)
