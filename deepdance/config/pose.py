"""The ``pose`` node: which pose backend runs, on which frames, and how its output becomes one
dancer per frame (tracking, smoothing). Every setting that changes the estimator's own output
keys the pose store (``deepdance.pose.store``); tracking and smoothing run on what is stored,
so changing them never re-runs the estimator."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from deepdance.config.base import Schema

Fraction = Annotated[float, Field(ge=0, le=1)]
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]
POINT = "null or [x, y], each a fraction of the frame's width and height in [0, 1]"


class SmoothingConfig(Schema, title="pose.smoothing"):
    """Temporal smoothing of the chosen dancer's keypoints; frames with nobody stay NaN.

    Positions are filtered in units of the frame's height, so the same settings fit any
    resolution: One-Euro (``min_cutoff`` Hz, ``beta``, ``d_cutoff`` Hz; Casiez et al., CHI 2012)
    or Savitzky-Golay (``window`` frames, odd; ``polyorder``). Dance moves fast, so the default
    One-Euro follows speed closely (a high ``beta``): a joint at rest is smoothed at ``min_cutoff``,
    a moving one lags little. On the synthetic RGB renders (clean ground truth, 15 and 30 fps)
    its mean error was 0.067 torso lengths against 0.061 unsmoothed and 0.087 with ``beta=4``."""

    method: Literal["none", "one_euro", "savgol"] = "one_euro"
    min_cutoff: float = Field(1.0, gt=0)
    beta: float = Field(20.0, ge=0)
    d_cutoff: float = Field(1.0, gt=0)
    window: int = Field(7, ge=3, description="an odd integer >= 3")
    polyorder: int = Field(2, ge=0)

    @field_validator("window")
    @classmethod
    def _odd(cls, window: int) -> int:
        if window % 2 == 0:
            raise ValueError("expected an odd integer >= 3")
        return window

    @model_validator(mode="after")
    def _order_below_window(self) -> SmoothingConfig:
        if self.polyorder >= self.window:
            raise ValueError(
                f"$smoothing.polyorder={self.polyorder}: expected < smoothing.window={self.window}"
            )
        return self


class TrackConfig(Schema, title="pose.track"):
    """Which person is the dancer when a backend finds several. Default: the track that is
    largest and most central over the whole video. ``index``: the k-th track (tracks ordered
    by their first frame, then left to right); ``point``: the track passing nearest this point."""

    index: int | None = Field(None, ge=0)
    point: Point | None = Field(None, description=POINT)
    # boxes in consecutive frames belong to one track when they overlap at least this much
    min_iou: float = Field(0.3, gt=0, le=1)
    # a track survives this many frames without a matching box
    max_gap: int = Field(5, ge=0)

    @model_validator(mode="after")
    def _one_override(self) -> TrackConfig:
        if self.index is not None and self.point is not None:
            raise ValueError("$track: set track.index or track.point, not both")
        return self


class PoseConfig(Schema, title="pose"):
    """The pose and person-mask front end (``deepdance.pose``)."""

    # a name of deepdance.pose.backends.BACKENDS
    backend: str = Field("mediapipe", min_length=1)
    # MediaPipe: 1 (full) is the model its wheel ships; 0 and 2 download theirs at run time
    model_complexity: Literal[0, 1, 2] = 1
    min_detection_confidence: Fraction = 0.5
    min_tracking_confidence: Fraction = 0.5
    # MediaPipe's own landmark filter; deepdance's smoothing (below) is the documented one
    smooth_landmarks: bool = False
    # joints below this confidence are left out of smoothing and of the dancer's box
    min_keypoint_confidence: Fraction = 0.3
    # null: every frame; else frames at about this rate (never above the video's)
    fps: float | None = Field(None, gt=0)
    # frames decoded and estimated per batch: SIGTERM stops within one, the store keeps each
    batch_size: int = Field(32, ge=1)
    # person masks (uint8 0/1, N x H x W) where the backend gives one
    masks: bool = True
    mask_threshold: float = Field(0.5, gt=0, lt=1)
    track: TrackConfig = TrackConfig()
    smoothing: SmoothingConfig = SmoothingConfig()
    # the content-keyed pose store (deepdance.pose.store); never beside the videos
    store_dir: str = Field("data/poses", min_length=1)

    @field_validator("backend")
    @classmethod
    def _registered(cls, backend: str) -> str:
        # a registry: plugged-in backends (and the tests' fakes) are added to it at run time
        from deepdance.pose.backends import BACKENDS

        if backend not in BACKENDS:
            raise ValueError(f"expected one of {', '.join(BACKENDS)}")
        return backend

    def estimator_settings(self) -> dict:
        """The settings that change what the backend returns (the store's key), in words."""
        return self.model_dump(
            include={
                "backend",
                "model_complexity",
                "min_detection_confidence",
                "min_tracking_confidence",
                "smooth_landmarks",
                "masks",
                "mask_threshold",
            }
        )
