"""Silhouette frames of one long video (or a folder of them), split in time, as a DataModule.

Frames of a dance a third of a second apart are nearly identical, so a random frame split
would test on frames the model has practically seen. Splits here are chronological per
video by default: the first part trains, the end of it validates, the last part tests, and no
frame or prediction target crosses a cut. In ``context_frames`` mode an item is a window of
consecutive frames whose *last* frame (the prediction target) lies in the split; its context
may reach back over the cut, as a forecaster at that moment would see it.

A folder of AIST++-named videos of several dancers (the labelled synthetic silhouette dancers)
can instead be split by dancer (``split="dancer"``): whole videos of held-out dancers validate
and test, as in the genre datamodule, so a generator is judged on people it never saw.

Every window carries the genre of its video, read from the video's AIST++ name (-1 where the
name has none, as for the real Deep-Dance clips): a genre-conditioned LSTM learns from it, and
``SilhouetteSequences.require_genres`` stops such a model on a video without one.

Training windows may be augmented (``augment``: other sampling phases, time-warp, the mirror).
Phases and mirrors are extra *videos* after the originals, with train segments only (a mirror
with none: it is reached through its original's windows), so a model that looks latents up by
``(video, target)`` reads an augmented window without knowing of augmentation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from deepdance.data.aist.names import GENRES, build_manifest, find_videos, parse_aist_name
from deepdance.data.aist.splits import dancers_shared_between_splits, describe_split, split_by_dancer
from deepdance.data.resumable import Item, ResumableTrainOrder, item_generator
from deepdance.data.silhouette.augment import (
    check_phases,
    check_source_rate,
    check_time_warp,
    draw_speed,
    phase_settings,
    warp_positions,
    warp_span,
)
from deepdance.data.silhouette.cache import SilhouetteCache
from deepdance.data.silhouette.preprocess import SilhouetteSettings, source_fps
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
SPLIT_RULES = ("chronological", "dancer")


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of video ``video`` belong to one split."""

    video: int
    start: int
    stop: int

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


@dataclass
class SilhouetteSequences:
    """Whole silhouette videos and their chronological splits: what a model that encodes every
    frame once (the latent LSTM) reads from the datamodule, through ``sequences()``."""

    videos: list[np.ndarray]
    segments: dict[str, list[Segment]]
    preprocessing: dict[str, Any]
    context_frames: int | None
    # Each video's file and AIST++ genre (None: its name has none).
    paths: list[Path] = field(default_factory=list)
    genres: list[str | None] = field(default_factory=list)
    # Targets after the context in a training window (the LSTM's rollout_loss_steps).
    target_frames: int = 1

    def require_genres(self, setting: str) -> list[str]:
        """Every video's genre, for a model that needs one (``setting`` says which); the first
        video whose name has none stops the run in one line naming the file."""
        if len(self.genres) != len(self.videos):
            raise DeepdanceError(f"{setting} needs each video's genre; these sequences carry none")
        for path, genre in zip(self.paths, self.genres):
            if genre is None:
                raise DeepdanceError(
                    f"{setting} reads each video's genre from its AIST++ name; {path}: "
                    f"{parse_genre(path)[1]}; rename the video (e.g. gKR_sBM_c01_d01_mKR0_ch01.mp4) "
                    f"or drop {setting}"
                )
        return [genre for genre in self.genres if genre is not None]


def parse_genre(path: Path) -> tuple[str | None, str]:
    """``(genre, "")`` from a video's AIST++ name, or ``(None, why)`` when the name gives none
    (an unlabelled clip: not an error until a model needs the genre)."""
    try:
        return parse_aist_name(path.name).genre, ""
    except ValueError as err:
        return None, str(err)


def chronological_split(
    num_frames: int, test_fraction: float, val_fraction: float
) -> dict[str, tuple[int, int]]:
    """``{split: (start, stop)}`` for one video: train, then val (end of train), then test."""
    n_test = int(round(num_frames * test_fraction))
    n_trainval = num_frames - n_test
    n_val = int(round(n_trainval * val_fraction))
    n_train = n_trainval - n_val
    return {"train": (0, n_train), "val": (n_train, n_trainval), "test": (n_trainval, num_frames)}


def dancer_split(paths: list[Path], seed: int = 0, val_dancers: int = 1, test_dancers: int = 1) -> list[str]:
    """The split of each video, holding out whole dancers per genre (``split_by_dancer``), read
    from AIST++ names; a name without a dancer stops the run with one line naming it."""
    manifest, rejected = build_manifest(paths)
    if rejected:
        path, why = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        raise DeepdanceError(
            f"data.split=dancer reads each video's dancer from its AIST++ name; {path}{more}: {why}; "
            "rename the videos or use data.split=chronological"
        )
    manifest["split"] = split_by_dancer(manifest, seed, val_dancers, test_dancers)
    shared = dancers_shared_between_splits(manifest)
    if shared:
        raise DeepdanceError(f"data.split=dancer leaks dancers {sorted(shared)} across splits")
    log.info("silhouettes split by dancer:\n%s", describe_split(manifest))
    return list(manifest["split"])


class SilhouetteFrames(Dataset):
    """Single frames of some segments: ``{"frame": (1, H, W) uint8, "video", "index"}``."""

    def __init__(self, videos: list[np.ndarray], segments: list[Segment], flip: bool = False) -> None:
        self.videos = videos
        self.items = [(s.video, i) for s in segments for i in range(s.start, s.stop)]
        self.flip = flip

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler)
        index, generator = item_generator(item)
        video, i = self.items[index]
        # copy out of the memory map
        frame = torch.from_numpy(np.array(self.videos[video][i]))
        # a mirrored dancer is still a dancer
        if self.flip and torch.rand((), generator=generator) < 0.5:
            frame = frame.flip(-1)
        return {"frame": frame[None], "video": video, "index": i}


class SilhouetteWindows(Dataset):
    """Windows of ``context + targets`` consecutive frames whose last frame lies in a segment.

    ``{"frames": (context + targets, H, W) uint8, "video", "target", "genre"}``; ``target`` is
    the index of the last frame, so a model can look up cached latents of the whole window;
    ``genre`` is the video's label (its index in the AIST++ ``GENRES``, -1 for none). Every
    target lies in the segment (the context may reach back over its start).

    Augmented (training) windows: with ``mirrors`` (video -> its mirrored copy) half of them
    come from the copy, whole; with ``time_warp`` each is read at a random speed and carries
    ``positions`` (its frames' fractional indices; ``frames`` are the nearest ones).
    """

    def __init__(
        self,
        videos: list[np.ndarray],
        segments: list[Segment],
        context: int,
        labels: list[int] | None = None,
        targets: int = 1,
        mirrors: dict[int, int] | None = None,
        time_warp: tuple[float, float] | None = None,
    ) -> None:
        self.videos = videos
        self.context = context
        self.length = context + targets
        self.labels = labels or [-1] * len(videos)
        self.mirrors = mirrors or {}
        self.time_warp = time_warp
        # the whole window, and its targets, inside the video and the segment at the top speed
        first = warp_span(self.length, time_warp)
        after_start = warp_span(targets, time_warp)
        self.items = [
            (s.video, t) for s in segments for t in range(max(s.start + after_start, first), s.stop)
        ]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item: Item) -> dict[str, Any]:
        # training items carry their own seed (ResumableSampler); the draws: mirror, then speed
        index, generator = item_generator(item)
        video, t = self.items[index]
        label = self.labels[video]
        if self.mirrors and torch.rand((), generator=generator) < 0.5:
            video = self.mirrors[video]
        out: dict[str, Any] = {"video": video, "target": t, "genre": label}
        if self.time_warp is None:
            out["frames"] = torch.from_numpy(np.array(self.videos[video][t - self.length + 1 : t + 1]))
            return out
        positions = warp_positions(t, self.length, draw_speed(self.time_warp, generator))
        out["frames"] = torch.from_numpy(np.array(self.videos[video][np.round(positions).astype(np.int64)]))
        out["positions"] = torch.from_numpy(positions)
        return out


class SilhouetteDataModule(ResumableTrainOrder, pl.LightningDataModule):
    """Silhouettes of ``root`` (a video file or a folder of videos), or of a generated
    synthetic dance when ``root`` is null, cached once and split chronologically."""

    def __init__(
        self,
        root: str | None = None,
        cache_dir: str = "data/silhouette_cache",
        fps: float | None = 3.0,
        height: int = 120,
        width: int = 200,
        threshold_rule: str = "fixed",
        threshold: float = 128.0,
        polarity: str = "dark",
        crop: list[int] | None = None,
        ignore_boxes: list[list[int]] | None = None,
        start_seconds: float = 0.0,
        test_fraction: float = 0.1,
        val_fraction: float = 0.1,
        split: str = "chronological",
        seed: int = 0,
        val_dancers: int = 1,
        test_dancers: int = 1,
        context_frames: int | None = None,
        target_frames: int = 1,
        flip: bool = False,
        phases: int = 1,
        time_warp: list[float] | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        synthetic: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not 0 < test_fraction < 1 or not 0 < val_fraction < 1:
            raise DeepdanceError(
                f"data.test_fraction={test_fraction} and data.val_fraction={val_fraction} must both "
                "be in (0, 1)"
            )
        if split not in SPLIT_RULES:
            raise DeepdanceError(
                f"data.split={split!r} is not known; use 'chronological' (default: the end of each "
                "video validates and tests) or 'dancer' (AIST++-named videos: held-out dancers)"
            )
        if context_frames is not None and context_frames < 1:
            raise DeepdanceError(
                f"data.context_frames={context_frames} must be >= 1 (or null for single frames)"
            )
        if not isinstance(target_frames, int) or target_frames < 1:
            raise DeepdanceError(
                f"data.target_frames={target_frames!r} must be an integer >= 1 (the LSTM's "
                "model.rollout_loss_steps)"
            )
        check_phases(phases, fps)
        self.time_warp = check_time_warp(time_warp)
        self.save_hyperparameters(logger=False)
        self.settings = SilhouetteSettings(
            fps=fps,
            height=height,
            width=width,
            threshold_rule=threshold_rule,  # type: ignore[arg-type]
            threshold=threshold,
            polarity=polarity,
            crop=crop,  # type: ignore[arg-type]
            ignore_boxes=tuple(ignore_boxes or ()),
            start_seconds=start_seconds,
        )
        self.cache = SilhouetteCache(cache_dir)
        self.paths: list[Path] = []
        self.genres: list[str | None] = []
        self.videos: list[np.ndarray] = []
        self.segments: dict[str, list[Segment]] = {}
        self.datasets: dict[str, Dataset] = {}

    # --------------------------------------------------------------------------- sources
    def video_paths(self) -> list[Path]:
        if self.hparams.root is None:
            from deepdance.data.synthetic.silhouettes import ensure_synthetic_silhouettes

            synthetic = dict(self.hparams.synthetic or {})
            directory = synthetic.pop("dir", Path(self.hparams.cache_dir).parent / "silhouette_synthetic")
            return [ensure_synthetic_silhouettes(directory, **synthetic)]
        try:
            return find_videos(Path(self.hparams.root))
        except FileNotFoundError as err:
            raise DeepdanceError(f"data.root: {err}") from None

    def prepare_data(self) -> None:
        """Decode and cache every video once, at every phase (rank 0 only; the others read the
        cache). Phases of videos that will not train are cached too: the split is not known yet."""
        for path in self.video_paths():
            for settings in [self.settings, *phase_settings(self.settings, self.hparams.phases)]:
                self.cache.load(path, settings)

    def setup(self, stage: str | None = None) -> None:
        if self.videos:
            return
        self.paths = self.video_paths()
        self.genres = [parse_genre(path)[0] for path in self.paths]
        self.videos = [self.cache.load(path, self.settings) for path in self.paths]
        if self.hparams.split == "dancer":
            self.segments = self._segments_by_dancer()
        else:
            self.segments = self._segments_in_time()
        self._add_phases()
        context = self.hparams.context_frames
        mirrors = self._add_mirrors() if context and self.hparams.flip else {}
        labels = [GENRES.index(genre) if genre else -1 for genre in self.genres]
        for split in SPLITS:
            if context:
                train = split == "train"
                self.datasets[split] = SilhouetteWindows(
                    self.videos,
                    self.segments[split],
                    context,
                    labels,
                    targets=self.hparams.target_frames if train else 1,
                    mirrors=mirrors if train else None,
                    time_warp=self.time_warp if train else None,
                )
            else:
                self.datasets[split] = SilhouetteFrames(
                    self.videos, self.segments[split], flip=self.hparams.flip and split == "train"
                )
            if len(self.datasets[split]) == 0:
                raise DeepdanceError(
                    f"data.root={self.hparams.root}: the {split} split has no "
                    f"{'windows' if context else 'frames'} "
                    f"({sum(len(v) for v in self.videos)} frames in {len(self.videos)} video(s) at "
                    f"data.fps={self.settings.fps}; "
                    f"context_frames={context}); use longer videos, a higher data.fps or a larger "
                    f"data.{split if split != 'train' else 'test'}_fraction"
                )
        log.info(
            "silhouettes: %d video(s), %s",
            len(self.videos),
            ", ".join(f"{s} {len(self.datasets[s])}" for s in SPLITS),
        )

    def _add_video(self, frames: np.ndarray, source: int) -> int:
        """Append a copy of video ``source`` (another phase, the mirror); its index."""
        self.videos.append(frames)
        self.paths.append(self.paths[source])
        self.genres.append(self.genres[source])
        return len(self.videos) - 1

    def _add_phases(self) -> None:
        """Every training video at phases 1..N-1, as videos training over the same span."""
        phases = phase_settings(self.settings, self.hparams.phases)
        for segment in list(self.segments["train"]) if phases else []:
            path = self.paths[segment.video]
            check_source_rate(path, source_fps(path), self.settings.fps, self.hparams.phases)
            for settings in phases:
                frames = self.cache.load(path, settings)
                copy = self._add_video(frames, segment.video)
                # phase k's frame i lies between the original's frames i and i + 1: same split
                self.segments["train"].append(Segment(copy, segment.start, min(segment.stop, len(frames))))

    def _add_mirrors(self) -> dict[int, int]:
        """A mirrored copy of every training video: {video: its mirror}."""
        training = sorted({segment.video for segment in self.segments["train"]})
        # a view of the memory map, flipped left-right: no copy on disk or in memory
        return {v: self._add_video(self.videos[v][:, :, ::-1], v) for v in training}

    def _segments_in_time(self) -> dict[str, list[Segment]]:
        """Every video cut chronologically: train, then val, then test."""
        need = 3 + (self.hparams.context_frames or 0)
        segments: dict[str, list[Segment]] = {split: [] for split in SPLITS}
        for v, (path, frames) in enumerate(zip(self.paths, self.videos)):
            parts = chronological_split(len(frames), self.hparams.test_fraction, self.hparams.val_fraction)
            if min(b - a for a, b in parts.values()) < 1 or len(frames) < need:
                log.warning(
                    "%s: only %d silhouette frames at %s fps; too short to split, left out",
                    path,
                    len(frames),
                    self.settings.fps,
                )
                continue
            for split, (start, stop) in parts.items():
                segments[split].append(Segment(v, start, stop))
        return segments

    def _segments_by_dancer(self) -> dict[str, list[Segment]]:
        """Every video whole in the split of its dancer."""
        splits = dancer_split(
            self.paths, self.hparams.seed, self.hparams.val_dancers, self.hparams.test_dancers
        )
        segments: dict[str, list[Segment]] = {split: [] for split in SPLITS}
        for v, (split, frames) in enumerate(zip(splits, self.videos)):
            segments[split].append(Segment(v, 0, len(frames)))
        return segments

    def sequences(self, stage: str | None = None) -> SilhouetteSequences:
        """Every video's cached frames ``(T, H, W)`` uint8, its split segments, the settings,
        and each video's file and genre."""
        self.setup(stage)
        context = self.hparams.context_frames
        return SilhouetteSequences(
            self.videos,
            self.segments,
            self.preprocessing,
            context,
            list(self.paths),
            list(self.genres),
            target_frames=self.hparams.target_frames,
        )

    @property
    def preprocessing(self) -> dict[str, Any]:
        """The settings a checkpoint needs to turn a new video into the same kind of frames."""
        return self.settings.to_json()

    # ------------------------------------------------------------------------ loaders
    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        dataset = self.datasets[split]
        return DataLoader(
            dataset,
            batch_size=self.hparams.batch_size,
            **self.loader_order(dataset, shuffle),
            num_workers=workers,
            pin_memory=self.hparams.pin_memory,
            persistent_workers=self.hparams.persistent_workers and workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
