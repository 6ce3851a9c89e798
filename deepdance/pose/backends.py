"""Pose backends by name: ``pose.backend=<name>`` builds one ``PoseEstimator``.

To plug in another backend (RTMPose through rtmlib with local ONNX files, torchvision's Keypoint
R-CNN with a local weights file, ...): write a class with ``name``, ``settings()``,
``__call__(frames (N, H, W, 3) uint8 RGB) -> list[list[Person]]`` (keypoints in COCO-17 order,
source pixels) and ``close()``, plus ``reset()`` if it keeps state between frames; import its
package inside the class, so that a missing package is a one-line ``DeepdanceError``; then add a
factory ``(PoseConfig) -> PoseEstimator`` to ``BACKENDS``. Its ``settings()`` keys the pose store,
so name everything that changes its output there (weights file digest, input size, thresholds).
Backends that find several people get the dancer picked by ``deepdance.pose.tracking``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from deepdance.errors import DeepdanceError
from deepdance.pose.estimator import PoseEstimator

# the pose schema checks its backend against this registry, so this module imports it for types only
if TYPE_CHECKING:
    from deepdance.config.pose import PoseConfig


def _mediapipe(config: PoseConfig) -> PoseEstimator:
    from deepdance.pose.mediapipe_backend import MediaPipePose

    return MediaPipePose(
        model_complexity=config.model_complexity,
        min_detection_confidence=config.min_detection_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
        smooth_landmarks=config.smooth_landmarks,
        masks=config.masks,
        mask_threshold=config.mask_threshold,
    )


BACKENDS: dict[str, Callable[[PoseConfig], PoseEstimator]] = {"mediapipe": _mediapipe}


def check_backend(name: str) -> None:
    """One line when ``pose.backend`` names no backend (before any video is opened)."""
    if name not in BACKENDS:
        raise DeepdanceError(f"pose.backend={name!r}: expected one of {', '.join(BACKENDS)}")


def build_estimator(config: PoseConfig) -> PoseEstimator:
    """The backend ``config.backend`` names, built with its settings."""
    check_backend(config.backend)
    return BACKENDS[config.backend](config)
