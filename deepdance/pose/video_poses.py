"""A video's dancer, frame by frame: decode in batches, run a pose backend, pick the dancer's
track, smooth. Every selected frame keeps its place: where nobody is found, x and y are NaN,
the confidences and the detection score 0, and the mask empty.

The backend's output is kept per batch as plain arrays (``detect_batches``), everyone it found
included: that is what the pose store (``deepdance.pose.store``) saves, and tracking and
smoothing (``assemble``) run on it afterwards, so they can change without re-running the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepdance.config.pose import PoseConfig
from deepdance.errors import VideoError
from deepdance.pose.estimator import Person, PoseEstimator
from deepdance.pose.skeleton import NUM_JOINTS
from deepdance.pose.smoothing import smooth_keypoints
from deepdance.pose.tracking import pick_dancer
from deepdance.utils.stop import check_stop

# one batch of the backend's output, as arrays (see ``people_to_arrays``)
Batch = dict[str, np.ndarray]


@dataclass
class VideoPoses:
    """One video's dancer at the selected frames.

    ``keypoints`` (N, 17, 3) float32 x, y in source pixels and confidence, COCO-17 order; NaN x, y
    and confidence 0 where nobody was found; ``det_scores`` (N,) float32, 0 there;
    ``timestamps`` (N,) int64 microseconds; ``frame_indices`` (N,) int64 into the video;
    ``landmarks`` (N, L, 3) float32, the backend's own points (MediaPipe: 33, x, y, visibility);
    ``masks`` (N, H, W) uint8, 1 on the dancer, or None; ``size`` (width, height).
    """

    keypoints: np.ndarray
    det_scores: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    landmarks: np.ndarray
    masks: np.ndarray | None
    size: tuple[int, int]

    @property
    def found(self) -> np.ndarray:
        """(N,) bool: frames where the dancer was found."""
        return self.det_scores > 0

    def __len__(self) -> int:
        return len(self.frame_indices)


def select_frames(num_frames: int, video_fps: float, fps: float | None) -> np.ndarray:
    """Every frame (``fps`` None or at least the video's rate), or frames about ``1 / fps`` s apart."""
    if fps is None or not video_fps or fps >= video_fps:
        return np.arange(num_frames, dtype=np.int64)
    step = video_fps / fps
    return np.unique(np.round(np.arange(0, num_frames - 0.5, step)).astype(np.int64).clip(0, num_frames - 1))


def people_to_arrays(people: list[list[Person]], masks: bool, threshold: float = 0.5) -> Batch:
    """A batch's people as arrays padded to the most people in one frame (P): ``count`` (F,),
    ``keypoints`` (F, P, 17, 3), ``landmarks`` (F, P, L, 3), ``boxes`` (F, P, 4), ``scores`` (F, P)
    and, when ``masks``, ``masks`` (F, P, H, W) uint8 0/1 (the soft mask at ``threshold``)."""
    frames, most = len(people), max((len(found) for found in people), default=0)
    everyone = [p for found in people for p in found]
    marks = max((len(p.landmarks) for p in everyone), default=0)
    out: Batch = {
        "count": np.array([len(found) for found in people], np.int64),
        "keypoints": np.full((frames, most, NUM_JOINTS, 3), np.nan, np.float32),
        "landmarks": np.full((frames, most, marks, 3), np.nan, np.float32),
        "boxes": np.zeros((frames, most, 4), np.float32),
        "scores": np.zeros((frames, most), np.float32),
    }
    shapes = [p.mask.shape for p in everyone if p.mask is not None]
    if masks and shapes:
        out["masks"] = np.zeros((frames, most, *shapes[0]), np.uint8)
    for f, found in enumerate(people):
        for i, person in enumerate(found):
            out["keypoints"][f, i] = person.keypoints
            out["landmarks"][f, i, : len(person.landmarks)] = person.landmarks
            out["boxes"][f, i] = person.box
            out["scores"][f, i] = person.score
            if "masks" in out and person.mask is not None:
                out["masks"][f, i] = person.mask >= threshold
    return out


def arrays_to_people(batch: Batch) -> list[list[Person]]:
    """The inverse of ``people_to_arrays`` (masks as 0/1 float32)."""
    masks = batch.get("masks")
    return [
        [
            Person(
                keypoints=batch["keypoints"][f, i],
                box=batch["boxes"][f, i],
                score=float(batch["scores"][f, i]),
                mask=None if masks is None else masks[f, i],
                landmarks=batch["landmarks"][f, i],
            )
            for i in range(int(count))
        ]
        for f, count in enumerate(batch["count"])
    ]


class FrameSource:
    """A video opened once: its size and rate, and batches of decoded RGB frames."""

    def __init__(self, path: str | Path) -> None:
        from deepdance.data.video.reader import open_video

        self.path = Path(path)
        self.reader = open_video(self.path)
        self.num_frames = len(self.reader)
        if self.num_frames == 0:
            raise VideoError(f"{self.path}: the video stream has no frames")
        height, width = self.reader[0].shape[:2]
        self.size = (int(width), int(height))
        self.fps = float(self.reader.get_avg_fps())

    def frames(self, indices: np.ndarray) -> np.ndarray:
        """(F, H, W, 3) uint8 RGB frames at ``indices``."""
        from deepdance.data.video.reader import decoder_reason

        try:
            return self.reader.get_batch([int(i) for i in indices]).asnumpy()
        except Exception as err:
            raise VideoError(
                f"{self.path}: decoding frames {int(indices.min())}..{int(indices.max())} failed: "
                f"{decoder_reason(err, opening=False)}"
            ) from None

    def timestamps(self, indices: np.ndarray) -> np.ndarray:
        """Microseconds of each frame's start, from the container (frame / fps where it has none)."""
        try:
            seconds = np.asarray(self.reader.get_frame_timestamp([int(i) for i in indices]))[:, 0]
        except Exception:
            seconds = np.asarray(indices, np.float64) / (self.fps or 30.0)
        return np.round(seconds * 1e6).astype(np.int64)


def batch_ranges(count: int, batch_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` positions of each batch in the frame selection."""
    return [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


def detect_batches(
    source: FrameSource,
    indices: np.ndarray,
    config: PoseConfig,
    estimator: PoseEstimator,
    cached: Callable[[int], Batch | None] = lambda b: None,
) -> Iterator[Batch]:
    """The backend's output for each batch of ``indices``, with ``frame_indices`` and
    ``timestamps``; a batch ``cached(b)`` returns is not recomputed. The backend's tracker is
    reset before the first batch it sees and after any skipped batch (a jump in time).
    SIGTERM stops at the next batch boundary (``check_stop``), after the batch is yielded."""
    contiguous = False
    for number, (start, stop) in enumerate(batch_ranges(len(indices), config.batch_size)):
        batch = cached(number)
        if batch is None:
            if not contiguous and hasattr(estimator, "reset"):
                estimator.reset()
            chosen = indices[start:stop]
            batch = people_to_arrays(estimator(source.frames(chosen)), config.masks, config.mask_threshold)
            batch["frame_indices"] = chosen.astype(np.int64)
            batch["timestamps"] = source.timestamps(chosen)
            contiguous = True
        else:
            contiguous = False
        yield batch
        check_stop()


def _pad_landmarks(array: np.ndarray, marks: int) -> np.ndarray:
    if array.shape[2] == marks:
        return array
    padded = np.full((*array.shape[:2], marks, 3), np.nan, np.float32)
    padded[:, :, : array.shape[2]] = array
    return padded


def assemble(batches: list[Batch], size: tuple[int, int], config: PoseConfig) -> VideoPoses:
    """Pick the dancer (``deepdance.pose.tracking``) and smooth its keypoints: a ``VideoPoses``."""
    people = [found for batch in batches for found in arrays_to_people(batch)]
    frame_indices = np.concatenate([b["frame_indices"] for b in batches]).astype(np.int64)
    timestamps = np.concatenate([b["timestamps"] for b in batches]).astype(np.int64)
    dancer = pick_dancer(people, size, config.track)
    marks = max((b["landmarks"].shape[2] for b in batches), default=0)
    count = len(people)
    keypoints = np.full((count, NUM_JOINTS, 3), np.nan, np.float32)
    keypoints[..., 2] = 0
    landmarks = np.full((count, marks, 3), np.nan, np.float32)
    landmarks[..., 2] = 0
    scores = np.zeros(count, np.float32)
    width, height = size
    masks = np.zeros((count, height, width), np.uint8) if config.masks else None
    for f, person in enumerate(dancer):
        if person is None:
            continue
        keypoints[f] = person.keypoints
        # a backend's own points may be fewer than another frame's
        landmarks[f, : len(person.landmarks)] = person.landmarks
        scores[f] = max(float(person.score), 1e-6)
        if masks is not None and person.mask is not None:
            masks[f] = _fit_mask(person.mask, height, width)
    seconds = timestamps.astype(np.float64) / 1e6
    keypoints = smooth_keypoints(keypoints, seconds, height, config.smoothing, config.min_keypoint_confidence)
    return VideoPoses(keypoints, scores, timestamps, frame_indices, landmarks, masks, size)


def _fit_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A backend's mask at the frame's size, uint8 0/1."""
    binary = (np.asarray(mask) >= 0.5).astype(np.uint8)
    if binary.shape == (height, width):
        return binary
    import cv2

    return cv2.resize(binary, (width, height), interpolation=cv2.INTER_NEAREST)


def estimate_video(
    path: str | Path,
    config: PoseConfig,
    frame_indices: np.ndarray | None = None,
    estimator: PoseEstimator | None = None,
) -> VideoPoses:
    """The dancer in ``path`` at ``frame_indices`` (default: every frame, or ``config.fps``),
    without the store (``PoseStore.get`` keeps the backend's output for the next call)."""
    from deepdance.pose.backends import build_estimator

    source = FrameSource(path)
    indices = selected_indices(source, config, frame_indices)
    own = estimator is None
    estimator = build_estimator(config) if estimator is None else estimator
    try:
        batches = list(detect_batches(source, indices, config, estimator))
    finally:
        if own:
            estimator.close()
    return assemble(batches, source.size, config)


def selected_indices(source: FrameSource, config: PoseConfig, frame_indices: np.ndarray | None) -> np.ndarray:
    """``frame_indices`` checked against the video's length, or the config's selection."""
    if frame_indices is None:
        return select_frames(source.num_frames, source.fps, config.fps)
    indices = np.asarray(frame_indices, np.int64)
    if indices.ndim != 1 or (indices.size and (indices.min() < 0 or indices.max() >= source.num_frames)):
        raise VideoError(f"{source.path}: frame indices must lie in 0..{source.num_frames - 1}")
    return indices
