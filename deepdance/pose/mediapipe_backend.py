"""MediaPipe Pose (the legacy ``mp.solutions.pose`` API of mediapipe 0.10.21) as a ``PoseEstimator``.

Why this backend and this release: it is the one pose model found that runs offline from its
wheel (``pose_landmark_full.tflite``, ``model_complexity=1``; the lite and heavy models download at
run time) and gives a person mask too. ``mp.solutions`` was removed in 0.10.30, and the wheel's
metadata pins ``numpy<2`` although it runs with numpy 2, so the ``pose`` extra installs its
dependencies and ``make install`` adds ``mediapipe==0.10.21`` with ``--no-deps``.

What it is not: the legacy API finds **at most one person per frame**. In video mode
(``static_image_mode=False``, used here) it detects once, then tracks that person from frame to
frame and re-detects only when tracking is lost, so the dancer found stays the dancer.
``deepdance.pose.tracking`` still picks among several people for backends that find them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepdance.errors import DeepdanceError
from deepdance.pose.estimator import Person

VERSION = "0.10.21"
INSTALL = f'pip install -e ".[pose]" then pip install --no-deps mediapipe=={VERSION} (or make install)'
# MediaPipe's 33 landmarks -> COCO-17 (nose; the eyes' centre points; ears; shoulders, elbows,
# wrists, hips, knees, ankles)
COCO_FROM_MEDIAPIPE: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
NUM_LANDMARKS = 33


def import_mediapipe() -> Any:
    """The ``mediapipe`` module with its legacy pose solution, or one line naming the extra."""
    try:
        import mediapipe
        from mediapipe.python.solutions import pose  # noqa: F401
    except ImportError as err:
        raise DeepdanceError(
            f"pose.backend=mediapipe: the pose extra is not installed ({err}); install it: {INSTALL}"
        ) from None
    return mediapipe


def landmarks_to_person(
    landmarks: np.ndarray, width: int, height: int, mask: np.ndarray | None, mask_threshold: float
) -> Person:
    """One person from MediaPipe's (33, 4) normalised x, y, z, visibility and its soft mask.

    Keypoints and ``landmarks`` are x, y in source pixels and the visibility as confidence (z,
    relative depth, is dropped: AIST++'s 2D files have none). The score is the mean visibility
    of the COCO-17 joints: the legacy API reports no detection score. The box is the mask's
    extent where there is a mask, else the visible joints' extent.
    """
    points = np.empty((len(landmarks), 3), np.float32)
    points[:, 0] = landmarks[:, 0] * width
    points[:, 1] = landmarks[:, 1] * height
    points[:, 2] = np.clip(landmarks[:, 3], 0.0, 1.0)
    keypoints = points[list(COCO_FROM_MEDIAPIPE)]
    return Person(
        keypoints=keypoints,
        box=person_box(keypoints, mask, mask_threshold),
        score=float(keypoints[:, 2].mean()),
        mask=mask,
        landmarks=points,
    )


def person_box(keypoints: np.ndarray, mask: np.ndarray | None, threshold: float = 0.5) -> np.ndarray:
    """left, top, right, bottom of the mask above ``threshold``, else of the joints with confidence."""
    if mask is not None:
        rows, cols = np.nonzero(mask >= threshold)
        if rows.size:
            return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float32)
    seen = keypoints[keypoints[:, 2] > 0]
    seen = seen if len(seen) else keypoints
    return np.array([seen[:, 0].min(), seen[:, 1].min(), seen[:, 0].max(), seen[:, 1].max()], np.float32)


class MediaPipePose:
    """``PoseEstimator`` over MediaPipe's legacy pose solution; see the module docstring.

    One instance follows one video: ``reset()`` (called by ``estimate_video`` for each video, and
    when a resumed run skips frames) starts a fresh tracker.
    """

    name = "mediapipe"

    def __init__(
        self,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth_landmarks: bool = False,
        masks: bool = True,
        mask_threshold: float = 0.5,
    ) -> None:
        self._mp = import_mediapipe()
        self.model_complexity = model_complexity
        self.min_detection_confidence = min_detection_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.smooth_landmarks = smooth_landmarks
        self.masks = masks
        self.mask_threshold = mask_threshold
        self._pose: Any = None

    def settings(self) -> dict:
        return {
            "mediapipe": getattr(self._mp, "__version__", "unknown"),
            "model_complexity": self.model_complexity,
            "min_detection_confidence": self.min_detection_confidence,
            "min_tracking_confidence": self.min_tracking_confidence,
            "smooth_landmarks": self.smooth_landmarks,
            "masks": self.masks,
            "static_image_mode": False,
        }

    def _solution(self) -> Any:
        if self._pose is None:
            try:
                self._pose = self._mp.solutions.pose.Pose(
                    static_image_mode=False,
                    model_complexity=self.model_complexity,
                    smooth_landmarks=self.smooth_landmarks,
                    enable_segmentation=self.masks,
                    smooth_segmentation=self.masks,
                    min_detection_confidence=self.min_detection_confidence,
                    min_tracking_confidence=self.min_tracking_confidence,
                )
            except Exception as err:
                # model_complexity 0 and 2 fetch their .tflite at run time: offline, that fails here
                raise DeepdanceError(
                    f"pose.model_complexity={self.model_complexity}: MediaPipe could not load its model "
                    f"({' '.join(str(err).split())[:160]}); model_complexity=1 ships with the wheel"
                ) from None
        return self._pose

    def __call__(self, frames: np.ndarray) -> list[list[Person]]:
        pose = self._solution()
        found: list[list[Person]] = []
        for frame in frames:
            height, width = frame.shape[:2]
            result = pose.process(np.ascontiguousarray(frame))
            if result.pose_landmarks is None:
                found.append([])
                continue
            landmarks = np.array(
                [(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark], np.float32
            )
            mask = None
            if self.masks and result.segmentation_mask is not None:
                mask = np.asarray(result.segmentation_mask, np.float32)
            found.append([landmarks_to_person(landmarks, width, height, mask, self.mask_threshold)])
        return found

    def reset(self) -> None:
        """Forget the person tracked so far (a new video, or a jump in time)."""
        self.close()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
