"""Fill the feature store: a frozen backbone over every video's clips, once.

``fill_feature_store(videos, sampler, embedder, settings, trainer)`` takes the videos (entry
name and path), the ``ClipSampler`` that picks their clips and the ``FrameEmbedder`` that turns
frames into features, and returns the store; the datamodule is then built with that store.

One DataLoader item is one video: every frame of its stored clips decoded in one decord
pass (workers decode in parallel); a batch of videos goes through the backbone in chunks of
``inference_batch_size`` frames under ``torch.inference_mode``, and bf16 autocast on GPU. It
runs as Lightning's predict loop, so ``trainer=ddp`` spreads the videos over the GPUs
(DistributedSampler) and each rank writes the entries of its own shard. Only missing, stale
or corrupt entries are computed: a killed run resumes where it stopped.
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
from torch import nn
from torch.utils.data import DataLoader, Dataset

from deepdance.data.video import VideoError, probe_video, read_clip
from deepdance.data.video.clip_sampling import SAMPLING_RULE as SAMPLING_RULE
from deepdance.data.video.clip_sampling import ClipSampler, unique_frames
from deepdance.errors import DeepdanceError
from deepdance.features.store import EntryState, FeatureKey, FeatureStore, VideoStamp, weights_digest
from deepdance.utils.stop import StopOnSigterm, check_stop

log = logging.getLogger(__name__)

# (entry name: the path relative to the data root, path): one video of the store
VideoRef = tuple[str, str]
REDO_STATES: tuple[EntryState, ...] = ("missing", "stale", "corrupt")


def _decoder_version() -> str:
    for dist in ("decord", "decord2"):
        try:
            return f"{dist} {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "decord unknown"


@dataclass(frozen=True, eq=False)
class FrameEmbedder:
    """A frozen backbone as the store sees it: uint8 frames in, features out, and the names of
    what makes its numbers (they go into the store key)."""

    # its embed_frames(uint8 (N, 3, S, S)) -> (N, D)
    module: nn.Module
    backbone: str
    # sha256 over the backbone's weights: other weights, other store
    weights: str
    normalisation: str

    @classmethod
    def of_classifier(cls, model: Any) -> FrameEmbedder:
        """The frozen backbone of a ``GenreClassifier``."""
        return cls(
            module=model,
            backbone=str(model.hparams.backbone["name"]),
            weights=weights_digest(model.backbone),
            normalisation=f"mean={list(model.spec.mean)} std={list(model.spec.std)}",
        )


@dataclass(frozen=True)
class ExtractionSettings:
    """Where the store lives and how it is filled: ``data.features`` with the decode size."""

    dir: str
    # frames are decoded at this square size (short side resized, centre crop)
    img_size: int
    # videos per batch, frames per backbone forward, decoding processes
    batch_size: int
    inference_batch_size: int
    num_workers: int = 0


def feature_key(embedder: FrameEmbedder, sampler: ClipSampler, img_size: int, precision: str) -> FeatureKey:
    """The store key of a frozen backbone under these data settings."""
    return FeatureKey(
        backbone=embedder.backbone,
        weights=embedder.weights,
        img_size=int(img_size),
        num_frames=int(sampler.num_frames),
        clips=int(sampler.clips),
        sampling=sampler.store_rule,
        decoder=f"{_decoder_version()}; short side resized while decoding, centre square crop "
        "(deepdance.data.video.read_clip v1)",
        normalisation=embedder.normalisation,
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
    """Runs a frozen backbone in Lightning's predict loop and writes store entries."""

    def __init__(
        self,
        embedder: FrameEmbedder,
        store: FeatureStore,
        offsets: list[float],
        inference_batch_size: int = 64,
        bf16_on_gpu: bool = True,
    ) -> None:
        super().__init__()
        # a submodule, so the predict loop moves it to the device
        self.backbone = embedder.module
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
                    self.backbone.embed_frames(chunk).float()
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
    settings: ExtractionSettings, sampler: ClipSampler, embedder: FrameEmbedder, trainer: pl.Trainer
) -> FeatureStore:
    """The store keyed by everything that changes the features: stale entries are never reused."""
    key = feature_key(embedder, sampler, settings.img_size, store_precision(trainer))
    return FeatureStore(settings.dir, key)


def fill_feature_store(
    videos: Iterable[VideoRef],
    sampler: ClipSampler,
    embedder: FrameEmbedder,
    settings: ExtractionSettings,
    trainer: pl.Trainer,
) -> tuple[FeatureStore, ExtractionReport]:
    """The store of ``embedder`` over the clips ``sampler`` picks (``sampler.clips`` per video),
    with an entry for every video that can be read; only missing, stale or corrupt entries are
    computed. The report says what was reused, computed and failed."""
    store = open_store(settings, sampler, embedder, trainer)
    videos = sorted(set(videos))
    if trainer.is_global_zero:
        orphans = store.remove_orphans()
        if orphans:
            log.info(
                "removed %d temporary file(s) left by an interrupted extraction in %s", orphans, store.dir
            )
    found = store.scan(videos)
    redo = [(rel, path) for state in REDO_STATES for rel, path, _ in found[state]]
    recomputed = [
        (path, f"{state}: {why}") for state in ("stale", "corrupt") for _, path, why in found[state]
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
    failures = _extract(store, redo, sampler, embedder, settings, trainer, stored=len(found["ok"]))
    after = store.scan(redo)
    failed = [
        (path, failures.get(path, f"{state}: {why} (see the log of the rank that read it)"))
        for state in REDO_STATES
        for _, path, why in after[state]
    ]
    report = ExtractionReport(
        store=str(store.dir),
        total=len(videos),
        reused=len(found["ok"]),
        computed=len(redo) - len(failed),
        recomputed=recomputed,
        failed=failed,
    )
    return store, report


def _extract(
    store: FeatureStore,
    videos: list[VideoRef],
    sampler: ClipSampler,
    embedder: FrameEmbedder,
    settings: ExtractionSettings,
    trainer: pl.Trainer,
    stored: int,
) -> dict[str, str]:
    """Compute the entries of ``videos`` in the predict loop; returns ``{path: why}`` of the videos
    that could not be read. SIGTERM stops after the batch in hand with its entries stored."""
    if not videos:
        return {}
    extractor = FeatureExtractor(embedder, store, sampler.test_offsets, settings.inference_batch_size)
    loader = DataLoader(
        VideoClipSetDataset(videos, sampler, settings.img_size),
        batch_size=settings.batch_size,
        num_workers=settings.num_workers,
        collate_fn=keep_as_list,
        shuffle=False,
    )
    stop = StopOnSigterm(
        "feature extraction", "run the same command again: stored videos are not computed again"
    )
    total = stored + len(videos)
    stop.kept = lambda: (
        f"{stored + extractor.written} of {total} videos' features in the store {store.dir}"
        + (" (this rank)" if trainer.world_size > 1 else "")
    )
    with stop:
        trainer.predict(extractor, dataloaders=loader, return_predictions=False)
    trainer.strategy.barrier("feature extraction")
    return dict(extractor.failures)


def complete_store(
    videos: Iterable[VideoRef],
    sampler: ClipSampler,
    embedder: FrameEmbedder,
    settings: ExtractionSettings,
    trainer: pl.Trainer,
) -> FeatureStore | None:
    """The store when every video already has a good entry, else None (nothing computed)."""
    store = open_store(settings, sampler, embedder, trainer)
    return store if all(store.check(rel, path)[0] == "ok" for rel, path in videos) else None


def wants_feature_store(use: Any, model: Any) -> bool:
    """``data.features.use``: auto = when the backbone is frozen; true insists; false never."""
    frozen = bool(getattr(model, "frozen", False))
    if use == "auto":
        return frozen
    if use in (True, "true") and not frozen:
        raise DeepdanceError(
            "data.features.use=true needs a frozen backbone (model.backbone.freeze=true): "
            "a backbone that trains changes its features every step; use data.features.use=auto or false"
        )
    return use in (True, "true")
