"""The data of a run, built one way: videos -> manifest -> feature store -> datamodule.

Genre data: the videos exist (synthetic ones are generated on first use), the manifest is built
once from their names, a frozen backbone's feature store is filled from the manifest's videos
(``deepdance.features.extract.fill_feature_store``), and the datamodule is built with both.
Nothing reads the datamodule back or changes it afterwards. Other data (the silhouette dance)
is instantiated from its config as it is.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from deepdance.config.base import parse
from deepdance.config.data import GENRE_DATA, GenreDataConfig
from deepdance.config.pose_data import POSE_DATA
from deepdance.config.pose_motion import POSE_MOTION
from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.genre.manifest import build_manifest, ensure_videos, video_refs
from deepdance.data.pose import PoseDataModule
from deepdance.data.silhouette.datamodule import SilhouetteDataModule
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError
from deepdance.features.extract import (
    ExtractionSettings,
    FrameEmbedder,
    VideoRef,
    complete_store,
    extraction_trainer,
    fill_feature_store,
    wants_feature_store,
)
from deepdance.features.store import FeatureStore
from deepdance.utils.legacy_targets import current_target

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def build_datamodule(
    data_cfg: DictConfig,
    model: Any,
    trainer_cfg: DictConfig,
    splits: tuple[str, ...] = SPLITS,
    fast_dev_run: bool = False,
) -> pl.LightningDataModule:
    """The run's datamodule. A frozen backbone reads the features of ``splits`` from the store
    (filled here on first use), never the videos; under ``fast_dev_run`` only a complete store
    is read (a one-batch check should not fill it)."""
    if current_target(OmegaConf.select(data_cfg, "_target_")) == POSE_MOTION:
        # whole keypoint sequences for the pose-space generator
        from deepdance.data.pose.motion import PoseMotionDataModule

        return PoseMotionDataModule.from_config(data_cfg)
    if current_target(OmegaConf.select(data_cfg, "_target_")) == POSE_DATA:
        # keypoint sequences: read whole on setup, no videos and no feature store
        return PoseDataModule.from_config(data_cfg)
    if current_target(OmegaConf.select(data_cfg, "_target_")) != GENRE_DATA:
        # the silhouette dance: its typed config, from the node
        return SilhouetteDataModule.from_config(data_cfg)
    config = parse(GenreDataConfig, data_cfg, "data")
    ensure_videos(config)
    manifest = build_manifest(config)
    store = stored_features(manifest, config, model, trainer_cfg, splits, fast_dev_run)
    return GenreDataModule(config, manifest, store)


def extraction_inputs(
    manifest: pd.DataFrame, config: GenreDataConfig, model: Any, splits: tuple[str, ...]
) -> tuple[list[VideoRef], ClipSampler, FrameEmbedder, ExtractionSettings]:
    """What fills the store: the videos of ``splits``, the sampler of the stored clips
    (``data.features.clips`` per video), the model's frozen backbone, and ``data.features``."""
    features = config.features
    videos = video_refs(manifest[manifest["split"].isin(splits)], config.root)
    sampler = ClipSampler(config.num_frames, config.sampling, features.clips)
    extraction = ExtractionSettings(
        dir=features.dir,
        img_size=config.img_size,
        batch_size=features.batch_size,
        inference_batch_size=features.inference_batch_size,
        num_workers=config.num_workers,
    )
    return videos, sampler, FrameEmbedder.of_classifier(model), extraction


def stored_features(
    manifest: pd.DataFrame,
    config: GenreDataConfig,
    model: Any,
    trainer_cfg: DictConfig,
    splits: tuple[str, ...],
    fast_dev_run: bool = False,
) -> FeatureStore | None:
    """The filled store when ``data.features.use`` wants one for this model, else None."""
    if not wants_feature_store(config.features.use, model):
        return None
    inputs = extraction_inputs(manifest, config, model, splits)
    trainer = extraction_trainer(trainer_cfg)
    if fast_dev_run and complete_store(*inputs, trainer) is None:
        log.info("fast_dev_run: the feature store is incomplete; decoding videos instead of filling it")
        return None
    store, report = fill_feature_store(*inputs, trainer)
    if report.failed:
        shown = "; ".join(f"{video}: {reason}" for video, reason in report.failed[:3])
        raise DeepdanceError(f"{len(report.failed)} video(s) have no stored features: {shown}")
    log.info(
        "reading features from %s (%d videos: %d reused, %d computed)",
        store.dir,
        report.total,
        report.reused,
        report.computed,
    )
    return store
