"""Turn a video into a stack of silhouette frames, once, and keep it on disk.

A silhouette model trains for many epochs on the same few thousand frames: decoding,
thresholding and resizing them every epoch would cost more than the model. So each video is
processed once into a uint8 array (255 = dancer, 0 = background), saved as ``.npy`` and
memory-mapped afterwards. The cache key is the video's content hash plus every preprocessing
setting, so changing a threshold or a crop box never reuses stale frames, and renaming or
moving a video never recomputes them (the cache itself: ``deepdance.data.silhouette.cache``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from deepdance.config.data import SilhouetteDataConfig
from deepdance.data.silhouette.follow import crop_resize, follow_boxes, resize_mask, window_frames
from deepdance.data.silhouette.person import dancer_boxes, person_silhouettes
from deepdance.data.video.reader import open_video
from deepdance.errors import DeepdanceError, VideoError

if TYPE_CHECKING:
    from deepdance.pose.estimator import PoseEstimator

log = logging.getLogger(__name__)

# Bump when the same settings would produce different frames: old caches are then ignored.
PREPROCESS_VERSION = 1
# frames decoded at once: bounds memory on hour-long videos
DECODE_CHUNK = 64

ThresholdRule = Literal["fixed", "otsu", "background", "person"]
Polarity = Literal["dark", "light"]
# (top, left, bottom, right) in source pixels, bottom/right exclusive
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SilhouetteSettings:
    """Everything that decides the cached frames; two runs with equal settings share a cache.

    ``threshold_rule``: ``fixed`` compares gray levels with ``threshold``; ``otsu`` picks a
    threshold per frame; ``background`` compares each pixel with the video's median frame
    (the static background) and marks differences above ``threshold``. ``polarity`` says
    whether the dancer is darker (``dark``, a shadow dancer on a lit screen) or lighter than
    the background; ``person`` keeps the pose front end's person mask (its probability cut is
    ``data.pose.mask_threshold``; ``deepdance.data.silhouette.person``). ``crop`` keeps only a box
    of the source frame (the plot area of a figure); ``follow`` instead crops a box that follows
    the dancer, grown by ``follow_margin`` and averaged over ``follow_seconds``
    (``deepdance.data.silhouette.follow``). ``ignore_boxes`` are painted as background before
    thresholding (a label, a logo). ``start_seconds`` drops the start of every video (a fade-in,
    noise). ``pose``: the front end's settings that change its output (``pose_key``), as
    canonical JSON, only where the frames use them.

    The settings after ``start_seconds`` came with the person rule; ``to_json`` leaves them out
    at their defaults, so the cache keys and checkpoints of earlier settings stay as they were.
    """

    fps: float | None
    height: int
    width: int
    threshold_rule: ThresholdRule
    threshold: float
    polarity: Polarity
    crop: Box | None
    ignore_boxes: tuple[Box, ...]
    start_seconds: float
    follow: bool = False
    follow_margin: float = 0.15
    follow_seconds: float = 1.0
    pose: str | None = None

    def __post_init__(self) -> None:
        # the data schema checked the values (deepdance.config.data); boxes become tuples
        # for the cache key, whether they came as lists (a config) or tuples
        object.__setattr__(self, "crop", tuple(self.crop) if self.crop is not None else None)
        object.__setattr__(self, "ignore_boxes", tuple(tuple(box) for box in self.ignore_boxes or ()))
        # the pose settings as one canonical string: hashable, and equal settings key equally
        if isinstance(self.pose, Mapping):
            object.__setattr__(self, "pose", json.dumps(dict(self.pose), sort_keys=True))

    @property
    def needs_poses(self) -> bool:
        """Whether the frames come from the pose front end (person masks, dancer boxes)."""
        return self.threshold_rule == "person" or self.follow

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SilhouetteSettings:
        """Settings from a data config (or a checkpoint's copy of it, or a few settings): the
        data schema's defaults for the settings it lacks; other keys are ignored."""
        values = {**SilhouetteDataConfig.defaults(), **config}
        # the front end's settings decide only frames that use it
        if values["threshold_rule"] != "person" and not values["follow"]:
            values["pose"] = None
        else:
            values["pose"] = pose_key(values["pose"])
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["crop"] = list(self.crop) if self.crop else None
        data["ignore_boxes"] = [list(b) for b in self.ignore_boxes]
        data["pose"] = json.loads(self.pose) if self.pose is not None else None
        for name in LATER_FIELDS:
            if data[name] == self.__dataclass_fields__[name].default:
                del data[name]
        return data


# settings added after the first cache keys were handed out: left out of to_json at their default
LATER_FIELDS = ("follow", "follow_margin", "follow_seconds", "pose")
# pose settings that never change a frame's silhouette: where the store lives, how many frames a
# batch holds, the front end's own frame rate (the silhouettes ask for their sampled frames)
POSE_RUNTIME = ("store_dir", "batch_size", "fps")


def pose_key(pose: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The front end's settings (``data.pose``; None: its defaults) that decide the silhouettes."""
    from deepdance.config.base import parse
    from deepdance.config.pose import PoseConfig

    if isinstance(pose, str):
        pose = json.loads(pose)
    config = parse(PoseConfig, dict(pose or {}), "data.pose").model_dump()
    return {name: value for name, value in config.items() if name not in POSE_RUNTIME}


def sampled_indices(
    num_frames: int, video_fps: float, fps: float | None, start_seconds: float = 0.0
) -> np.ndarray:
    """Source frame indices at ``fps`` (nearest frame to each sampling time) from ``start_seconds`` on."""
    first = int(np.ceil(start_seconds * video_fps - 1e-9))
    if fps is None:
        return np.arange(first, num_frames, dtype=np.int64)
    duration = num_frames / video_fps
    times = np.arange(start_seconds, duration, 1.0 / fps)
    indices = np.round(times * video_fps).astype(np.int64)
    return np.unique(indices[indices < num_frames])


def to_silhouettes(
    frames: np.ndarray,
    settings: SilhouetteSettings,
    background: np.ndarray | None = None,
    boxes: np.ndarray | None = None,
) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 -> silhouettes (T, height, width) uint8, 255 = dancer.

    Thresholding happens at source resolution (crisp edges), then the mask is area-resized,
    so edges of the small frame are anti-aliased grays rather than jagged steps. ``boxes``
    (T, 4): the follow crop of each frame (``deepdance.data.silhouette.follow``), in source
    pixels, instead of ``settings.crop``. The person rule reads masks, not pixels:
    ``deepdance.data.silhouette.person``.
    """
    if settings.threshold_rule == "person":
        raise ValueError("threshold_rule=person reads the person masks: person_silhouettes")
    gray = np.asarray(frames, dtype=np.float32) @ np.array(
        [0.299, 0.587, 0.114], dtype=np.float32
    )  # (T, H, W)
    fill = 255.0 if settings.polarity == "dark" else 0.0
    for top, left, bottom, right in settings.ignore_boxes:
        gray[:, top:bottom, left:right] = fill if background is None else background[top:bottom, left:right]
    if settings.crop is not None:
        top, left, bottom, right = settings.crop
        gray = gray[:, top:bottom, left:right]
        background = background[top:bottom, left:right] if background is not None else None
    # dark: dancer where gray is low
    sign = 1.0 if settings.polarity == "dark" else -1.0
    if settings.threshold_rule == "fixed":
        mask = sign * (settings.threshold - gray) > 0
    elif settings.threshold_rule == "background":
        if background is None:
            raise ValueError("threshold_rule=background needs the video's background frame")
        mask = sign * (background - gray) > settings.threshold
    else:  # otsu, per frame
        mask = np.empty(gray.shape, dtype=bool)
        for i, frame in enumerate(gray.round().clip(0, 255).astype(np.uint8)):
            flag = cv2.THRESH_BINARY_INV if settings.polarity == "dark" else cv2.THRESH_BINARY
            mask[i] = cv2.threshold(frame, 0, 1, flag | cv2.THRESH_OTSU)[1].astype(bool)
    out = np.empty((len(mask), settings.height, settings.width), dtype=np.uint8)
    for i, m in enumerate(mask):
        if boxes is not None:
            out[i] = crop_resize(m, boxes[i], settings.height, settings.width)
        else:
            out[i] = resize_mask(m, settings.height, settings.width)
    return out


def _check_boxes(path: Path, settings: SilhouetteSettings, height: int, width: int) -> None:
    for name, box in [
        ("data.crop", settings.crop),
        *[("data.ignore_boxes[]", b) for b in settings.ignore_boxes],
    ]:
        if box is not None and (box[2] > height or box[3] > width):
            raise DeepdanceError(
                f"{path}: {name}={list(box)} reaches outside the {height}x{width} (H x W) frame"
            )


def source_fps(path: str | Path) -> float:
    """The frame rate of the video at ``path`` (its container's average)."""
    return float(open_video(Path(path)).get_avg_fps())


def video_poses(
    path: Path,
    settings: SilhouetteSettings,
    indices: np.ndarray,
    estimator: PoseEstimator | None = None,
    pose_store: str | Path | None = None,
) -> Any:
    """The front end's ``VideoPoses`` of the sampled frames: from the pose store at ``pose_store``
    (None: ``data.pose.store_dir``'s default), or from ``estimator`` when one is given (a test's
    fake, a backend the user built), uncached: the silhouette cache keeps the result."""
    from deepdance.config.base import parse
    from deepdance.config.pose import PoseConfig
    from deepdance.pose.video_poses import estimate_video

    config = parse(PoseConfig, json.loads(settings.pose or "{}"), "data.pose")
    if estimator is not None:
        return estimate_video(path, config, frame_indices=indices, estimator=estimator)
    from deepdance.pose.store import PoseStore

    return PoseStore(pose_store or config.store_dir).get(path, config, indices)


def dancer_crops(path: Path, settings: SilhouetteSettings, poses: Any, rate: float) -> np.ndarray | None:
    """The follow crop of every sampled frame (None without ``follow``); a video where nobody
    is found in any frame is refused in one line."""
    min_confidence = json.loads(settings.pose or "{}").get("min_keypoint_confidence", 0.0)
    boxes = dancer_boxes(poses.keypoints, poses.masks, tuple(poses.size), min_confidence)
    if not np.isfinite(boxes).all(axis=1).any():
        uses = "data.threshold_rule=person" if settings.threshold_rule == "person" else "data.follow=true"
        raise DeepdanceError(
            f"{path}: the pose front end found nobody in any of its {len(boxes)} sampled frames; "
            f"{uses} needs a dancer in view"
        )
    if not settings.follow:
        return None
    window = window_frames(settings.follow_seconds, rate)
    return follow_boxes(boxes, window, settings.follow_margin, settings.width / settings.height)


def _decoder(reader: Any, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Frames by index, (N, H, W, 3); a failed decode is one ``VideoError`` line naming them."""

    def decode(chunk: np.ndarray) -> np.ndarray:
        try:
            return reader.get_batch(list(map(int, chunk))).asnumpy()
        except Exception as err:
            raise VideoError(
                f"{path}: decoding frames {int(chunk[0])}..{int(chunk[-1])} failed ({str(err).strip()[:160]})"
            ) from None

    return decode


def _frame_poses(
    path: Path,
    settings: SilhouetteSettings,
    indices: np.ndarray,
    estimator: PoseEstimator | None,
    pose_store: str | Path | None,
) -> Any:
    """The poses of the sampled frames, refused when the front end answers for other frames."""
    poses = video_poses(path, settings, indices, estimator, pose_store)
    if len(poses.keypoints) != len(indices):
        raise DeepdanceError(
            f"{path}: the pose front end returned {len(poses.keypoints)} frames for {len(indices)} asked"
        )
    return poses


def extract_silhouettes(
    path: str | Path,
    settings: SilhouetteSettings,
    estimator: PoseEstimator | None = None,
    pose_store: str | Path | None = None,
) -> np.ndarray:
    """Decode ``path`` at ``settings.fps`` and return its silhouettes (T, height, width) uint8.

    ``estimator``: the pose backend of the person rule and the follow crop (None: the one
    ``settings.pose`` names, through the pose store at ``pose_store``).
    """
    path = Path(path)
    reader = open_video(path)
    num_frames = len(reader)
    if num_frames == 0:
        raise VideoError(f"{path}: the video stream has no frames")
    video_fps = float(reader.get_avg_fps())
    height, width = reader[0].shape[:2]
    _check_boxes(path, settings, height, width)
    indices = sampled_indices(num_frames, video_fps, settings.fps, settings.start_seconds)
    if len(indices) == 0:
        raise DeepdanceError(
            f"{path}: no frames left after data.start_seconds={settings.start_seconds} ({num_frames} frames "
            f"at {video_fps:g} fps)"
        )
    decode = _decoder(reader, path)

    boxes = None
    if settings.needs_poses:
        poses = _frame_poses(path, settings, indices, estimator, pose_store)
        boxes = dancer_crops(path, settings, poses, settings.fps or video_fps)
        if settings.threshold_rule == "person":
            if poses.masks is None:
                raise DeepdanceError(
                    f"data.threshold_rule=person: the pose backend of data.pose gives no person masks "
                    f"({path}); use a backend with masks (mediapipe) or another threshold_rule"
                )
            return person_silhouettes(np.asarray(poses.masks), settings, tuple(poses.size), boxes)

    chunks = [indices[i : i + DECODE_CHUNK] for i in range(0, len(indices), DECODE_CHUNK)]
    starts = range(0, len(indices), DECODE_CHUNK)
    background = None
    # the median over the sampled frames is the static scene
    if settings.threshold_rule == "background":
        probe = np.linspace(0, len(indices) - 1, min(len(indices), 101)).astype(int)
        gray = decode(indices[probe]).astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        background = np.median(gray, axis=0)
    crops = [
        None if boxes is None else boxes[start : start + len(chunk)] for start, chunk in zip(starts, chunks)
    ]
    return np.concatenate(
        [to_silhouettes(decode(chunk), settings, background, crop) for chunk, crop in zip(chunks, crops)]
    )
