"""Fill the feature store: a frozen backbone over every video's clips, once.

One DataLoader item is one video: every frame of its stored clips decoded in one decord
pass (workers decode in parallel); a batch of videos goes through the backbone in chunks of
``inference_batch_size`` frames under ``torch.inference_mode``, channels_last, and bf16
autocast on GPU. It runs as Lightning's predict loop, so ``trainer=ddp`` spreads the videos
over the GPUs (DistributedSampler) and each rank writes the entries of its own shard.
Only missing, stale or corrupt entries are computed: a killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset

from deepdance.data.video import VideoError, probe_video, read_clip
from deepdance.data.video.clip_sampling import SAMPLING_RULE as SAMPLING_RULE
from deepdance.data.video.clip_sampling import ClipSampler, unique_frames
from deepdance.errors import DeepdanceError
from deepdance.features.store import FeatureKey, FeatureStore, VideoStamp, weights_digest
from deepdance.utils.stop import StopOnSigterm, check_stop

log = logging.getLogger(__name__)


def _decoder_version() -> str:
    for dist in ("decord", "decord2"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "decord unknown"


def feature_key(
    model: Any, img_size: int, num_frames: int, clips: int, precision: str, sampling: str = "exact"
) -> FeatureKey:
    """The store key of a frozen ``GenreClassifier`` backbone under these data settings."""
    return FeatureKey(
        backbone=str(model.hparams.backbone["name"]),
        weights=weights_digest(model.backbone),
        img_size=int(img_size),
        num_frames=int(num_frames),
        clips=int(clips),
        sampling=ClipSampler(num_frames, sampling, clips).store_rule,
        decoder=f"{_decoder_version()}; short side resized while decoding, centre square crop "
        "(deepdance.data.video.read_clip v1)",
        normalisation=f"mean={list(model.spec.mean)} std={list(model.spec.std)}",
        precision=precision,
    )


class VideoClipSetDataset(Dataset):
    """One item per video: the unique frames of all its clips ``(U, 3, S, S)`` uint8 and how
    clip frames map onto them (``inverse`` ``(C, T)``). A video that cannot be read gives an
    item with ``error`` instead, so one bad file does not stop the others."""

    def __init__(self, videos: list[tuple[str, str]], sampler: ClipSampler, img_size: int) -> None:
        self.videos = videos
        # the store's K test clips, exact or snapped to key frames as in the video datasets
        self.sampler = sampler
        self.img_size = img_size

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        relative_path, path = self.videos[index]
        try:
            stamp = VideoStamp.of(path)
            info = probe_video(path)
            # (C, T) each
            indices, mask = self.sampler.test_indices(info.num_frames, self.sampler.keyframes_of(path))
            unique, inverse = unique_frames(indices)
            frames = read_clip(path, unique, self.img_size, info)  # (U, 3, S, S)
        except (VideoError, OSError) as err:
            return {"relative_path": relative_path, "path": path, "error": str(err)}
        video = {
            "path": path,
            "size": stamp.size,
            "mtime": stamp.mtime,
            "frames": info.num_frames,
            "height": info.height,
            "width": info.width,
            "fps": info.fps,
        }
        return {
            "relative_path": relative_path,
            "path": path,
            "video": video,
            "frames": frames,
            "inverse": torch.from_numpy(inverse),
            "indices": torch.from_numpy(indices),
            "mask": torch.from_numpy(mask),
        }


def keep_as_list(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collate: videos have different numbers of unique frames, so a batch stays a list."""
    return items


class FeatureExtractor(pl.LightningModule):
    """Runs a classifier's frozen backbone in Lightning's predict loop and writes store entries."""

    def __init__(
        self,
        classifier: pl.LightningModule,
        store: FeatureStore,
        offsets: list[float],
        inference_batch_size: int = 64,
        bf16_on_gpu: bool = True,
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.store = store
        self.offsets = offsets
        self.inference_batch_size = int(inference_batch_size)
        self.bf16_on_gpu = bf16_on_gpu
        self.written = 0
        self.failures: list[tuple[str, str]] = []

    @torch.inference_mode()
    def embed(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames (N, 3, S, S) -> float32 features (N, D), in chunks of ``inference_batch_size``."""
        bf16 = self.bf16_on_gpu and self.device.type == "cuda"
        # enabled=False also switches off an outer autocast (e.g. precision=bf16-mixed on CPU), so
        # the arithmetic is the one the store key names.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            return torch.cat(
                [
                    self.classifier.embed_frames(chunk).float()
                    for chunk in frames.split(self.inference_batch_size)
                ]
            )

    def predict_step(self, batch: list[dict[str, Any]], batch_idx: int) -> int:
        for item in batch:
            if "error" in item:
                log.warning("feature extraction skipped %s: %s", item["path"], item["error"])
                self.failures.append((item["path"], item["error"]))
        items = [item for item in batch if "error" not in item]
        if not items:
            check_stop()
            return 0
        features = self.embed(torch.cat([item["frames"] for item in items]))  # (sum U, D)
        for item, chunk in zip(items, features.split([len(item["frames"]) for item in items])):
            per_clip = chunk[item["inverse"]]  # (C, T, D)
            per_clip[~item["mask"]] = 0  # padding of short videos
            self.store.write(
                item["relative_path"], item["video"], self.offsets, item["indices"], item["mask"], per_clip
            )
            self.written += 1
        # A batch boundary: after SIGTERM, stop here with this batch's entries stored.
        check_stop()
        return len(items)


@dataclass
class ExtractionReport:
    """What one extraction did, in counts a test can check."""

    store: str
    total: int
    reused: int
    # entries computed now (by all ranks under DDP)
    computed: int
    # (video, why) stale or corrupt before
    recomputed: list[tuple[str, str]] = field(default_factory=list)
    # (video, reason) still without an entry
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "total": self.total,
            "reused": self.reused,
            "computed": self.computed,
            "recomputed": len(self.recomputed),
            "failed": len(self.failed),
            "failures": [{"video": v, "reason": r} for v, r in self.failed],
        }


def extraction_trainer(trainer_cfg: DictConfig | dict[str, Any]) -> pl.Trainer:
    """A Trainer for the predict loop with the run's accelerator, devices and strategy, and
    nothing that would cut it short (fast_dev_run, batch limits) or log it."""
    return hydra.utils.instantiate(
        trainer_cfg,
        logger=False,
        callbacks=None,
        enable_checkpointing=False,
        enable_model_summary=False,
        fast_dev_run=False,
        limit_predict_batches=None,
        inference_mode=True,
        sync_batchnorm=False,
    )


def store_precision(trainer: pl.Trainer) -> str:
    """Store bf16 features on GPU (half the disk) and fp32 on CPU, where bf16 is slow."""
    from pytorch_lightning.accelerators import CUDAAccelerator

    return "bf16" if isinstance(trainer.accelerator, CUDAAccelerator) else "fp32"


def open_store(
    settings: dict[str, Any],
    model: Any,
    img_size: int,
    num_frames: int,
    trainer: pl.Trainer,
    sampling: str = "exact",
) -> FeatureStore:
    """Open the feature store keyed by everything that changes the features: stale entries are not reused."""
    precision = store_precision(trainer)
    return FeatureStore(
        settings["dir"], feature_key(model, img_size, num_frames, settings["clips"], precision, sampling)
    )


def extract_missing(
    store: FeatureStore,
    videos: Iterable[tuple[str, str]],
    model: pl.LightningModule,
    trainer: pl.Trainer,
    num_frames: int,
    img_size: int,
    batch_size: int = 2,
    num_workers: int = 0,
    inference_batch_size: int = 64,
    sampling: str = "exact",
) -> ExtractionReport:
    """Compute the entries of ``videos`` that are missing, stale or corrupt; reuse the rest."""
    videos = sorted(set(videos))
    if trainer.is_global_zero:
        orphans = store.remove_orphans()
        if orphans:
            log.info(
                "removed %d temporary file(s) left by an interrupted extraction in %s", orphans, store.dir
            )
    found = store.scan(videos)
    redo = [(rel, path) for state in ("missing", "stale", "corrupt") for rel, path, _ in found[state]]
    recomputed = [
        (path, f"{state}: {reason}") for state in ("stale", "corrupt") for _, path, reason in found[state]
    ]
    for path, why in recomputed:
        log.warning("feature entry of %s will be recomputed (%s)", path, why)
    log.info(
        "feature store %s: %d of %d videos stored, %d to compute",
        store.dir,
        len(found["ok"]),
        len(videos),
        len(redo),
    )
    sampler = ClipSampler(num_frames, sampling, store.key.clips)
    extractor = FeatureExtractor(model, store, sampler.test_offsets, inference_batch_size)
    if redo:
        loader = DataLoader(
            VideoClipSetDataset(redo, sampler, img_size),
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=keep_as_list,
            shuffle=False,
        )
        stop = StopOnSigterm(
            "feature extraction", "run the same command again: stored videos are not computed again"
        )
        stop.kept = lambda: (
            f"{len(found['ok']) + extractor.written} of {len(videos)} videos' features "
            f"in the store {store.dir}" + (" (this rank)" if trainer.world_size > 1 else "")
        )
        with stop:
            trainer.predict(extractor, dataloaders=loader, return_predictions=False)
        trainer.strategy.barrier("feature extraction")
    after = store.scan(redo)
    failures = dict(extractor.failures)
    failed = [
        (path, failures.get(path, f"{state}: {reason} (see the log of the rank that read it)"))
        for state in ("missing", "stale", "corrupt")
        for _, path, reason in after[state]
    ]
    return ExtractionReport(
        store=str(store.dir),
        total=len(videos),
        reused=len(found["ok"]),
        computed=len(redo) - len(failed),
        recomputed=recomputed,
        failed=failed,
    )


def wants_feature_store(settings: dict[str, Any], model: Any) -> bool:
    """``data.features.use``: auto = when the backbone is frozen; true insists; false never."""
    use = settings.get("use", "auto")
    frozen = bool(getattr(model, "frozen", False))
    if isinstance(use, str) and use.lower() == "auto":
        return frozen
    if use in (True, "true", "True"):
        if not frozen:
            raise DeepdanceError(
                "data.features.use=true needs a frozen backbone (model.backbone.freeze=true): "
                "a backbone that trains changes its features every step; use data.features.use=auto or false"
            )
        return True
    if use in (False, "false", "False", None):
        return False
    raise DeepdanceError(
        f"data.features.use={use!r} is not known; use auto (store when the backbone is frozen), true or false"
    )


def fill_feature_store(
    datamodule: Any,
    model: Any,
    trainer_cfg: DictConfig | dict[str, Any],
    splits: tuple[str, ...] = ("train", "val", "test"),
    only_if_complete: bool = False,
) -> tuple[FeatureStore, ExtractionReport | None]:
    """Compute the missing entries of the videos of ``splits`` (``only_if_complete``: compute
    nothing, return no report unless every entry is already there)."""
    datamodule.prepare_data()
    manifest = datamodule.load_manifest()
    videos = datamodule.video_refs(manifest[manifest["split"].isin(splits)])
    settings = datamodule.feature_settings
    trainer = extraction_trainer(trainer_cfg)
    sampling = datamodule.hparams.get("sampling", "exact")
    store = open_store(
        settings, model, datamodule.hparams.img_size, datamodule.hparams.num_frames, trainer, sampling
    )
    if only_if_complete and any(store.check(rel, path)[0] != "ok" for rel, path in videos):
        return store, None
    report = extract_missing(
        store,
        videos,
        model,
        trainer,
        datamodule.hparams.num_frames,
        datamodule.hparams.img_size,
        batch_size=int(settings["batch_size"]),
        num_workers=int(datamodule.hparams.num_workers),
        inference_batch_size=int(settings["inference_batch_size"]),
        sampling=sampling,
    )
    return store, report


def prepare_feature_store(
    datamodule: Any,
    model: Any,
    trainer_cfg: DictConfig | dict[str, Any],
    splits: tuple[str, ...] = ("train", "val", "test"),
    fast_dev_run: bool = False,
) -> ExtractionReport | None:
    """Frozen backbone: make sure every video of ``splits`` has an entry, then point the
    datamodule at the store so training and testing never decode a video. Returns ``None``
    (and leaves the datamodule decoding videos) when the store is not wanted, or under
    ``fast_dev_run`` when it is not complete yet (a one-batch check should not fill it)."""
    # only genre datamodules store features
    settings = getattr(datamodule, "feature_settings", None)
    if settings is None or not wants_feature_store(settings, model):
        return None
    store, report = fill_feature_store(datamodule, model, trainer_cfg, splits, only_if_complete=fast_dev_run)
    if report is None:
        log.info(
            "fast_dev_run: the feature store %s is incomplete; decoding videos instead of filling it",
            store.dir,
        )
        return None
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
    datamodule.use_feature_store(store)
    return report
