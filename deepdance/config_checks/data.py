"""Checks of the ``data`` group: the genre videos and the silhouette dance."""

from __future__ import annotations

import dataclasses
import inspect

from omegaconf import DictConfig

from deepdance.config_checks.values import (
    HYDRA_KEYS,
    _bad,
    _is_int,
    boolean,
    choice,
    existing_path,
    integer,
    known_keys,
    number,
    setting,
    signature_keys,
    text,
    wrapped,
)
from deepdance.errors import DeepdanceError

GENRE_DATA = "deepdance.data.genre.GenreDataModule"
SILHOUETTE_DATA = "deepdance.data.silhouette.SilhouetteDataModule"


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
    check_fold(cfg, split)
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
    fold = setting(cfg, "data.fold", default=None)
    if fold is not None and fold >= config.dancers_per_genre:
        raise DeepdanceError(
            f"data.fold={fold}: expected 0 <= fold < {config.dancers_per_genre} "
            f"(data.synthetic.dancers_per_genre={config.dancers_per_genre})"
        )
    if split == "dancer" and config.dancers_per_genre < test_dancers + 2:
        raise DeepdanceError(
            f"data.synthetic.dancers_per_genre={config.dancers_per_genre}: expected >= {test_dancers + 2} "
            f"with data.split=dancer and data.test_dancers={test_dancers} "
            "(train, val and test each need a dancer)"
        )


def check_fold(cfg: DictConfig, split: str) -> None:
    """``data.fold``: a dancer rotation, so valid with ``data.split=dancer`` only (one test and one
    val dancer per genre); the upper bound needs the dancers, so the manifest checks it."""
    fold = integer(cfg, "data.fold", low=0, optional=True, default=None)
    if fold is not None and split != "dancer":
        raise DeepdanceError(
            f"data.fold={fold}: expected null with data.split={split} (folds rotate dancers)"
        )
    if fold is not None and (
        setting(cfg, "data.val_dancers", default=1) != 1 or setting(cfg, "data.test_dancers", default=1) != 1
    ):
        raise DeepdanceError(
            f"data.fold={fold}: expected data.val_dancers=1 and data.test_dancers=1 (a fold holds out "
            "one test and one val dancer per genre)"
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
