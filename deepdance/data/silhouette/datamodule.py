"""Silhouette frames of one long video (or a folder of them), split in time, as a DataModule.

Frames of a dance a third of a second apart are nearly identical, so a random frame split
would test on frames the model has practically seen. Splits here are chronological per
video by default: the first part trains, the end of it validates, the last part tests, and no
frame or prediction target crosses a cut. In ``context_frames`` mode an item is a window of
consecutive frames whose *last* frame (the prediction target) lies in the split; its context
may reach back over the cut, as a forecaster at that moment would see it.

A folder of AIST++-named videos of several dancers (the labelled synthetic silhouette dancers)
can instead be split by dancer (``split="dancer"``): whole videos of held-out dancers validate
and test, as in the genre datamodule, so a generator is judged on people it never saw; or by
sequence (``split="sequence"``): every camera's video of a held-out sequence validates or tests.

With ``source="annotations"`` the videos are the views of AIST++ keypoint files, each drawn as a
silhouette video (``deepdance.data.silhouette.motion``); everything after that is the same.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset

from deepdance.config.base import parse
from deepdance.config.data import SilhouetteDataConfig, SilhouetteSyntheticConfig
from deepdance.data.aist.names import GENRES, build_manifest, find_videos, parse_aist_name
from deepdance.data.aist.splits import (
    dancers_shared_between_splits,
    describe_split,
    hold_out,
    sequence_name,
    split_by_dancer,
)
from deepdance.data.resumable import ResumableTrainOrder
from deepdance.data.silhouette.augment import check_source_rate, phase_settings
from deepdance.data.silhouette.cache import SilhouetteCache
from deepdance.data.silhouette.datasets import Segment, SilhouetteFrames, SilhouetteWindows
from deepdance.data.silhouette.motion import MotionSilhouettes
from deepdance.data.silhouette.preprocess import SilhouetteSettings, source_fps
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
__all__ = ["Segment", "SilhouetteDataModule", "SilhouetteFrames", "SilhouetteSequences", "SilhouetteWindows"]


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


def named_manifest(paths: list[Path], split: str) -> Any:
    """The AIST++ fields of every video (``build_manifest``); a name without them stops
    ``data.split=<split>`` with one line naming it."""
    manifest, rejected = build_manifest(paths)
    if rejected:
        path, why = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        unit = "dancer" if split == "dancer" else "sequence"
        raise DeepdanceError(
            f"data.split={split} reads each video's {unit} from its AIST++ name; {path}{more}: {why}; "
            "rename the videos or use data.split=chronological"
        )
    return manifest


def sequence_split(
    paths: list[Path], seed: int = 0, val_sequences: int = 1, test_sequences: int = 1
) -> list[str]:
    """The split of each video, holding out whole sequences per genre (every camera's video of a
    sequence in one split), read from AIST++ names."""
    manifest = named_manifest(paths, "sequence")
    manifest["sequence"] = manifest["name"].map(sequence_name)
    manifest["split"] = hold_out(manifest, "sequence", seed, val_sequences, test_sequences)
    log.info("silhouettes split by sequence:\n%s", describe_split(manifest))
    return list(manifest["split"])


def dancer_split(paths: list[Path], seed: int = 0, val_dancers: int = 1, test_dancers: int = 1) -> list[str]:
    """The split of each video, holding out whole dancers per genre (``split_by_dancer``), read
    from AIST++ names; a name without a dancer stops the run with one line naming it."""
    manifest = named_manifest(paths, "dancer")
    manifest["split"] = split_by_dancer(manifest, seed, val_dancers, test_dancers)
    shared = dancers_shared_between_splits(manifest)
    if shared:
        raise DeepdanceError(f"data.split=dancer leaks dancers {sorted(shared)} across splits")
    log.info("silhouettes split by dancer:\n%s", describe_split(manifest))
    return list(manifest["split"])


def named_splits(paths: list[Path], config: SilhouetteDataConfig) -> list[str] | None:
    """Each video's split where its name decides it (``split=dancer`` or ``sequence``), for setup
    and the start-up check alike; None where the split is in time."""
    if config.split == "dancer":
        return dancer_split(paths, config.seed, config.val_dancers, config.test_dancers)
    if config.split == "sequence":
        return sequence_split(paths, config.seed, config.val_sequences, config.test_sequences)
    return None


class SilhouetteDataModule(ResumableTrainOrder, pl.LightningDataModule):
    """Silhouettes of ``root`` (a video file or a folder of videos), or of a generated
    synthetic dance when ``root`` is null, cached once and split chronologically."""

    def __init__(self, config: SilhouetteDataConfig) -> None:
        super().__init__()
        self.config = config
        # plain values: what checkpoints hold (and hparams.batch_size for ResumableTrainOrder)
        self.save_hyperparameters(config.model_dump(exclude={"target"}), logger=False)
        self.time_warp = tuple(config.time_warp) if config.time_warp else None
        self.settings = SilhouetteSettings.from_config(config.model_dump())
        self.cache = SilhouetteCache(config.cache_dir, pose_store=config.pose.store_dir)
        # data.source=annotations: the views of annotation files, drawn, stand in for the videos
        self.motion = MotionSilhouettes(config) if config.source == "annotations" else None
        self.paths: list[Path] = []
        self.genres: list[str | None] = []
        self.videos: list[np.ndarray] = []
        self.segments: dict[str, list[Segment]] = {}
        self.datasets: dict[str, Dataset] = {}

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> SilhouetteDataModule:
        """From a ``data`` node (a run's config, a checkpoint's copy of it), read by its schema."""
        return cls(parse(SilhouetteDataConfig, settings, "data"))

    # --------------------------------------------------------------------------- sources
    def video_paths(self) -> list[Path]:
        config = self.config
        if self.motion is not None:
            return self.motion.paths()
        if config.root is None:
            from deepdance.data.synthetic.silhouettes import ensure_synthetic_silhouettes

            synthetic = config.synthetic or SilhouetteSyntheticConfig()
            directory = synthetic.dir or Path(config.cache_dir).parent / "silhouette_synthetic"
            return [ensure_synthetic_silhouettes(directory, synthetic)]
        try:
            return find_videos(Path(config.root))
        except FileNotFoundError as err:
            raise DeepdanceError(f"data.root: {err}") from None

    def frames(self, path: Path, settings: SilhouetteSettings) -> np.ndarray:
        """The cached silhouettes of one video (or one annotation view, drawn) at ``settings``."""
        if self.motion is not None:
            return self.motion.load(path, settings)
        return self.cache.load(path, settings)

    def prepare_data(self) -> None:
        """Decode and cache every video once, at every phase (rank 0 only; the others read the
        cache). Phases of videos that will not train are cached too: the split is not known yet."""
        for path in self.video_paths():
            for settings in [self.settings, *phase_settings(self.settings, self.config.phases)]:
                self.frames(path, settings)

    def setup(self, stage: str | None = None) -> None:
        if self.videos:
            return
        self.paths = self.video_paths()
        self.genres = [parse_genre(path)[0] for path in self.paths]
        self.videos = [self.frames(path, self.settings) for path in self.paths]
        splits = named_splits(self.paths, self.config)
        self.segments = self._segments_in_time() if splits is None else self._segments_whole(splits)
        self._add_phases()
        context = self.config.context_frames
        mirrors = self._add_mirrors() if context and self.config.flip else {}
        labels = [GENRES.index(genre) if genre else -1 for genre in self.genres]
        for split in SPLITS:
            if context:
                train = split == "train"
                self.datasets[split] = SilhouetteWindows(
                    self.videos,
                    self.segments[split],
                    context,
                    labels,
                    targets=self.config.target_frames if train else 1,
                    mirrors=mirrors if train else None,
                    time_warp=self.time_warp if train else None,
                )
            else:
                self.datasets[split] = SilhouetteFrames(
                    self.videos, self.segments[split], flip=self.config.flip and split == "train"
                )
            if len(self.datasets[split]) == 0:
                raise DeepdanceError(
                    f"data.root={self.config.root}: the {split} split has no "
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
        phases = phase_settings(self.settings, self.config.phases)
        for segment in list(self.segments["train"]) if phases else []:
            path = self.paths[segment.video]
            rate = self.motion.rate(path) if self.motion is not None else source_fps(path)
            check_source_rate(path, rate, self.settings.fps, self.config.phases)
            for settings in phases:
                frames = self.frames(path, settings)
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
        need = 3 + (self.config.context_frames or 0)
        segments: dict[str, list[Segment]] = {split: [] for split in SPLITS}
        for v, (path, frames) in enumerate(zip(self.paths, self.videos)):
            parts = chronological_split(len(frames), self.config.test_fraction, self.config.val_fraction)
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

    def _segments_whole(self, splits: list[str]) -> dict[str, list[Segment]]:
        """Every video whole in its split."""
        segments: dict[str, list[Segment]] = {split: [] for split in SPLITS}
        for v, (split, frames) in enumerate(zip(splits, self.videos)):
            segments[split].append(Segment(v, 0, len(frames)))
        return segments

    def sequences(self, stage: str | None = None) -> SilhouetteSequences:
        """Every video's cached frames ``(T, H, W)`` uint8, its split segments, the settings,
        and each video's file and genre."""
        self.setup(stage)
        context = self.config.context_frames
        return SilhouetteSequences(
            self.videos,
            self.segments,
            self.preprocessing,
            context,
            list(self.paths),
            list(self.genres),
            target_frames=self.config.target_frames,
        )

    @property
    def preprocessing(self) -> dict[str, Any]:
        """The settings a checkpoint needs to turn a new video into the same kind of frames (and,
        for frames drawn from keypoints, how they were drawn)."""
        if self.motion is not None:
            return {**self.settings.to_json(), **self.motion.preprocessing()}
        return self.settings.to_json()

    # ------------------------------------------------------------------------ loaders
    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.config.num_workers
        dataset = self.datasets[split]
        return DataLoader(
            dataset,
            batch_size=self.config.batch_size,
            **self.loader_order(dataset, shuffle),
            num_workers=workers,
            pin_memory=self.config.pin_memory,
            persistent_workers=self.config.persistent_workers and workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
