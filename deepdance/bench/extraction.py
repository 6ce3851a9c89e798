"""The two feature-extraction pipelines the benchmark compares, and the ceilings they share.

* :class:`SeedPipeline` re-implements the original Keras notebook in PyTorch: OpenCV reads
  *every* frame in order, each is centre-cropped and resized in Python, and the CNN is
  called on one frame at a time (batch 1, fp32) for the first ``num_frames`` frames. Its
  backbone has deepdance's memory layout and threads: layout is not what the notebook did
  differently, reading every frame and calling the CNN per frame is.
* :class:`DeepdancePipeline` is deepdance's path: indices first, then decord decodes only
  those (``read_clip``, exact or key-frame sampling) in DataLoader workers, and the CNN runs
  batched under ``inference_mode`` with channels_last (bf16 autocast on a GPU); features
  are written to a store, one file per video.
* The stages alone (``deepdance.bench.ceiling``): the same sampled decoding with no model,
  and the model alone on the same videos' frames, decoded beforehand, at the pipeline's batch.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from deepdance.bench.timing import Timing, interleaved_runs
from deepdance.config.data import SAMPLINGS
from deepdance.data.video import probe_video, read_clip
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError, VideoError
from deepdance.features.store import FeatureKey, FeatureStore, VideoStamp, weights_digest

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "bf16")


# ------------------------------------------------------------------------------------------
# The backbone, as both pipelines use it
# ------------------------------------------------------------------------------------------


@dataclass
class Backbone:
    """A frozen per-frame CNN with its normalisation, on its device, at one precision."""

    model: nn.Module
    # (1, 3, 1, 1), in 0..255 units
    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device
    precision: str = "fp32"
    channels_last: bool = True

    @property
    def layout(self) -> str:
        """The memory layout, recorded with every row that runs this backbone."""
        return "channels_last" if self.channels_last else "NCHW"

    def autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, S, S) already on the device -> features (N, D) float32."""
        x = (frames.float() - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            return self.model(x).float()


def load_backbone(
    name: str,
    device: torch.device,
    precision: str,
    channels_last: bool,
    pretrained: bool = False,
    weights: str | None = None,
) -> Backbone:
    """timm backbone in eval mode; random weights by default (speed does not depend on them)."""
    from deepdance.models.backbones import backbone_spec, create_backbone

    if precision not in PRECISIONS:
        raise DeepdanceError(
            f"bench precision={precision!r} is not known; use one of {', '.join(PRECISIONS)}"
        )
    model = create_backbone(name, pretrained=pretrained, weights=weights, freeze=True).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    spec = backbone_spec(model, name)
    mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1) * 255
    return Backbone(model.eval(), mean, std, device, precision, channels_last)


# ------------------------------------------------------------------------------------------
# Features to the store
# ------------------------------------------------------------------------------------------


def bench_store(
    store_dir: Path, backbone: Backbone, name: str, img_size: int, num_frames: int, sampling: str
) -> FeatureStore:
    """deepdance's feature store (``deepdance.features.store``), keyed like ``extract_features``
    keys a one-clip extraction, so the entries written here are ordinary store entries."""
    from deepdance.features.extract import _decoder_version

    key = FeatureKey(
        backbone=name,
        weights=weights_digest(backbone.model),
        img_size=int(img_size),
        num_frames=int(num_frames),
        clips=1,
        sampling=ClipSampler(num_frames, sampling).store_rule,
        decoder=f"{_decoder_version()}; short side resized while decoding, centre square crop "
        "(deepdance.data.video.read_clip v1)",
        normalisation=f"mean={(backbone.mean / 255).flatten().tolist()} "
        f"std={(backbone.std / 255).flatten().tolist()}",
        precision=backbone.precision,
    )
    return FeatureStore(store_dir, key)


def video_record(path: Path) -> dict[str, Any]:
    """Size and mtime identify the input video in the results, so a rerun on other files is visible."""
    stamp = VideoStamp.of(path)
    return {"path": str(path), "size": stamp.size, "mtime": stamp.mtime}


# ------------------------------------------------------------------------------------------
# Seed pipeline: the original notebook
# ------------------------------------------------------------------------------------------


def crop_center_square(frame: np.ndarray) -> np.ndarray:
    """The notebook's crop: the largest centred square."""
    y, x = frame.shape[0:2]
    side = min(y, x)
    start_x, start_y = (x // 2) - (side // 2), (y // 2) - (side // 2)
    return frame[start_y : start_y + side, start_x : start_x + side]


def seed_load_video(path: Path, img_size: int) -> np.ndarray:
    """The notebook's ``load_video``: read every frame in order with OpenCV, crop, resize,
    BGR -> RGB, all in Python. Returns (F, S, S, 3) uint8 for all F frames of the video."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"{path}: OpenCV cannot open it")
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frame = crop_center_square(frame)
            frame = cv2.resize(frame, (img_size, img_size))
            frames.append(frame[:, :, [2, 1, 0]])
    finally:
        capture.release()
    if not frames:
        raise VideoError(f"{path}: OpenCV read no frames")
    return np.array(frames)


@dataclass
class StageSeconds:
    """Where a pass spent its time, summed over videos."""

    read: float = 0.0
    model: float = 0.0
    videos: int = 0
    decoded_frames: int = 0


class SeedPipeline:
    """The notebook's feature extraction, faithfully: no batching, no sampling, fp32."""

    def __init__(self, backbone: Backbone, num_frames: int, img_size: int) -> None:
        self.backbone = backbone
        self.num_frames = num_frames
        self.img_size = img_size
        self.stages = StageSeconds()

    def video_features(self, path: Path) -> np.ndarray:
        start = time.perf_counter()
        # (F, S, S, 3): the whole video
        frames = seed_load_video(path, self.img_size)
        read_done = time.perf_counter()
        features = []
        # Keras predict(): no gradients, but no inference_mode either
        with torch.no_grad():
            for j in range(min(self.num_frames, len(frames))):
                x = (
                    torch.from_numpy(frames[j]).to(self.backbone.device).permute(2, 0, 1)[None]
                )  # (1, 3, S, S)
                # predict() returns numpy: a sync per frame
                features.append(self.backbone(x).cpu().numpy()[0])
        self.stages.read += read_done - start
        self.stages.model += time.perf_counter() - read_done
        self.stages.videos += 1
        self.stages.decoded_frames += len(frames)
        return np.stack(features)

    def run(self, videos: list[Path]) -> list[np.ndarray]:
        return [self.video_features(path) for path in videos]


# ------------------------------------------------------------------------------------------
# deepdance pipeline
# ------------------------------------------------------------------------------------------


class SampledClips(Dataset):
    """One clip per video: probe, choose indices (exact or snapped to key frames), decode
    only those with decord. Every per-video cost happens here, inside the timed loop."""

    def __init__(self, videos: list[Path], num_frames: int, img_size: int, sampling: str) -> None:
        if sampling not in SAMPLINGS:
            raise DeepdanceError(
                f"bench sampling={sampling!r} is not known; use one of {', '.join(SAMPLINGS)}"
            )
        self.videos = list(videos)
        self.sampler = ClipSampler(num_frames, sampling)
        self.img_size = img_size

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.videos[index]
        info = probe_video(path)
        indices, mask = self.sampler.eval_indices(info.num_frames, self.sampler.keyframes_of(path))
        return {
            "frames": read_clip(path, indices, self.img_size, info),  # (T, 3, S, S) uint8
            "mask": torch.from_numpy(mask),  # (T,)
            "indices": torch.from_numpy(indices),  # (T,)
            "video": index,
        }


def clip_loader(dataset: SampledClips, batch_videos: int, num_workers: int, pin_memory: bool) -> DataLoader:
    """Persistent workers: started once (in the warm-up), as in an extraction over many videos."""
    return DataLoader(
        dataset,
        batch_size=batch_videos,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        prefetch_factor=2 if num_workers > 0 else None,
    )


class DeepdancePipeline:
    """Sampled decoding in workers -> batched backbone -> features in the feature store."""

    def __init__(
        self,
        backbone: Backbone,
        dataset: SampledClips,
        store: FeatureStore,
        batch_videos: int,
        num_workers: int,
    ) -> None:
        self.backbone = backbone
        self.dataset = dataset
        self.store = store
        self.batch_videos = batch_videos
        self.num_workers = num_workers
        self.loader = self.new_loader()

    def new_loader(self) -> DataLoader:
        """A loader like the pipeline's own, for a run that starts its workers afresh."""
        pin_memory = self.backbone.device.type == "cuda"
        return clip_loader(self.dataset, self.batch_videos, self.num_workers, pin_memory)

    @torch.inference_mode()
    def run(self) -> int:
        """One pass over every video; returns the number of store entries written."""
        written = 0
        for batch in self.loader:
            frames = batch["frames"].to(self.backbone.device, non_blocking=True)  # (B, T, 3, S, S) uint8
            batch_size, num_frames = frames.shape[:2]
            features = self.backbone(frames.flatten(0, 1)).view(batch_size, num_frames, -1)  # (B, T, D)
            features = features.to("cpu", torch.float16)
            for row, video, mask, indices in zip(
                features, batch["video"].tolist(), batch["mask"], batch["indices"]
            ):
                path = self.dataset.videos[video]
                self.store.write(
                    path.name, video_record(path), [0.5], indices[None], mask[None], row[None]
                )  # one clip
                written += 1
        return written


def decode_only(loader: DataLoader) -> int:
    """The decode ceiling: the same loader, the frames touched and dropped."""
    frames = 0
    for batch in loader:
        frames += int(batch["mask"].sum())
    return frames


# ------------------------------------------------------------------------------------------
# The model alone
# ------------------------------------------------------------------------------------------


def preload_frames(dataset: SampledClips, device: torch.device) -> torch.Tensor:
    """Every video's sampled frames, decoded once before any timing: (N, T, 3, S, S) uint8,
    on the device, so the model-only run feeds the backbone exactly what the pipeline does."""
    return torch.stack([dataset[i]["frames"] for i in range(len(dataset))]).to(device)


def model_only(backbone: Backbone, frames: torch.Tensor, batch_videos: int) -> None:
    """The pipeline's backbone calls and nothing else: ``batch_videos`` videos per call."""
    with torch.inference_mode():
        for batch in frames.split(batch_videos):
            # (B, T, 3, S, S) -> (B * T, 3, S, S)
            backbone(batch.flatten(0, 1))


@dataclass
class ModelBatchSweep:
    """Backbone frames/s on preloaded tensors, for each batch size tried: how batching pays
    on this device. Informational; the ceiling uses the pipeline's own batch."""

    timings: dict[int, Timing] = field(default_factory=dict)

    def frames_per_s(self) -> dict[int, float]:
        return {b: t.rates(b).median for b, t in self.timings.items()}

    @property
    def best_batch(self) -> int:
        rates = self.frames_per_s()
        return max(rates, key=rates.get)


def measure_model_batches(
    backbone: Backbone, img_size: int, batch_sizes: list[int], repeats: int, warmup: int
) -> ModelBatchSweep:
    """The backbone alone on uint8 tensors already on its device (normalisation included,
    as in the pipeline), every batch size timed in turns."""
    if not batch_sizes or min(batch_sizes) < 1:
        raise DeepdanceError(
            f"bench model_batch_sizes must be a non-empty list of positive integers, got {batch_sizes}"
        )
    generator = torch.Generator().manual_seed(0)
    runs = {}
    for batch_size in batch_sizes:
        # one "video" of batch_size frames: one backbone call
        shape = (1, batch_size, 3, img_size, img_size)
        frames = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).to(backbone.device)
        runs[batch_size] = lambda frames=frames: model_only(backbone, frames, 1)
    sweep = ModelBatchSweep(interleaved_runs(runs, repeats, warmup, backbone.device))
    for batch_size, rate in sweep.frames_per_s().items():
        log.info("model-only batch %d: %.1f frames/s", batch_size, rate)
    return sweep
