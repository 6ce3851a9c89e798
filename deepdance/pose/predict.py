"""``python -m deepdance.predict`` with a skeleton genre classifier (``experiment=pose_gru``).

An AIST++ ``keypoints2d`` pickle is read as it is: every view scored, the views averaged. A video
goes through the pose front end first (``PoseStore.get``: the dancer's keypoints, every frame or
``pose.fps``, kept in the pose store under ``pose.store_dir``, so ``extract_poses`` with the same
``pose.*`` settings and a second predict cost no model run), then is one view. Both are scored as
the test pass scores a sequence (``predict_sequence``: the checkpoint's normalisation,
``num_frames`` and ``clips`` windows averaged). ``deepdance.predict`` builds the ranked rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deepdance.config.base import parse
from deepdance.config.pose import PoseConfig
from deepdance.data.aist.annotations import Keypoints2D, load_keypoints2d
from deepdance.data.aist.names import VIDEO_SUFFIXES
from deepdance.errors import DeepdanceError, VideoError
from deepdance.pose.estimator import PoseEstimator
from deepdance.pose.store import PoseStore

KEYPOINTS_SUFFIX = ".pkl"
SKELETON_HINT = "a skeleton genre classifier (experiment=pose_gru) reads keypoints2d files"


def is_keypoints_file(path: Path) -> bool:
    """An annotation pickle (AIST++ keypoints2d, or what extract_poses wrote), not a video."""
    return path.suffix.lower() == KEYPOINTS_SUFFIX


def list_inputs(target: Path) -> list[Path]:
    """``target`` itself, or a folder's videos and keypoints2d pickles (recursively, sorted). In
    an annotation folder (one with ``keypoints2d/``) only ``keypoints2d/`` gives pickles, never
    ``keypoints3d/`` or ``motions/``."""
    if target.is_file():
        return [target]
    videos = [p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    annotations = target / "keypoints2d" if (target / "keypoints2d").is_dir() else target
    pickles = [p for p in annotations.rglob(f"*{KEYPOINTS_SUFFIX}") if p.is_file()]
    return sorted({*videos, *pickles})


def find_inputs(target: Path) -> list[Path]:
    """``list_inputs``, refused in one line when a folder holds neither."""
    inputs = list_inputs(target)
    if not inputs:
        raise DeepdanceError(
            f"video={target}: holds no videos ({', '.join(VIDEO_SUFFIXES)}) and no keypoints2d "
            f"{KEYPOINTS_SUFFIX} files"
        )
    return inputs


def pose_config(node: Any) -> PoseConfig:
    """The ``pose`` node (conf/predict.yaml: the front end's defaults, store under paths.data_dir)."""
    return parse(PoseConfig, node if node is not None else {}, "pose")


def check_predict_inputs(metadata: Mapping[str, Any], ckpt_path: Path, video: Path, pose: Any) -> None:
    """Start-up checks (``validate_predict``), before a model is loaded or a video opened:
    keypoint files only for a skeleton model, a 2-D skeleton model only, a valid ``pose`` node
    and a pose store that is no video's own folder."""
    from deepdance.models.registry import POSE_CLASSIFIER

    if metadata.get("model_target") != POSE_CLASSIFIER.target:
        inputs = list_inputs(video)
        if inputs and all(is_keypoints_file(p) for p in inputs):
            what = "a keypoints2d file" if video.is_file() else "holds keypoints2d files and no videos"
            raise DeepdanceError(
                f"video={video}: {what}, but ckpt_path={ckpt_path} is a video genre classifier, "
                f"which reads videos; {SKELETON_HINT} and videos"
            )
        return
    kind = (metadata.get("data") or {}).get("kind", "2d")
    if kind != "2d":
        raise DeepdanceError(
            f"ckpt_path={ckpt_path}: a skeleton genre classifier of keypoints3d (data.kind={kind}); "
            "predict reads keypoints2d files and videos, so use a model trained with data.kind=2d"
        )
    config = pose_config(pose)
    store = Path(config.store_dir).expanduser().resolve()
    beside = [p for p in find_inputs(video) if not is_keypoints_file(p) and p.resolve().parent == store]
    if beside:
        raise DeepdanceError(
            f"pose.store_dir={config.store_dir}: the folder of {beside[0].name}; the pose store never "
            "writes beside the videos, choose another folder"
        )


def video_keypoints(
    path: Path, config: PoseConfig, store: PoseStore, estimator: PoseEstimator | None = None
) -> Keypoints2D:
    """The dancer of ``path`` through the front end and its store, as one view; a video where
    nobody is found in any frame is refused in one line naming it."""
    poses = store.get(path, config, estimator=estimator)
    if not poses.found.any():
        raise VideoError(
            f"{path}: nobody found in any of its {len(poses)} frames, so there are no keypoints to "
            f"classify (pose.min_detection_confidence={config.min_detection_confidence})"
        )
    return Keypoints2D(poses.keypoints[None], poses.det_scores[None], poses.timestamps)


def annotation_keypoints(path: Path) -> Keypoints2D:
    """A keypoints2d pickle; a bad one is this input's error (``VideoError``), not the run's."""
    try:
        return load_keypoints2d(path)
    except VideoError:
        raise
    except DeepdanceError as err:
        raise VideoError(str(err)) from None


def pose_probabilities(
    model: Any,
    data: Mapping[str, Any],
    path: str | Path,
    config: PoseConfig,
    store: PoseStore,
    estimator: PoseEstimator | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Genre probabilities (C,) of one keypoints2d file or video, and the row's facts: ``frames``,
    ``fps`` (a video's own; a file's from its timestamps) and ``size`` (a video's; None for a file)."""
    from deepdance.models.pose_module import predict_sequence

    path = Path(path)
    if is_keypoints_file(path):
        keypoints = annotation_keypoints(path)
        # frames and rate from its timestamps; a file has no frame size
        fps = keypoints.fps()
        facts = {"frames": keypoints.num_frames, "fps": None if np.isnan(fps) else round(fps, 3)}
        facts["size"] = None
    else:
        from deepdance.data.video import probe_video

        info = probe_video(path)
        # as the video classifier's rows
        facts = {"frames": info.num_frames, "fps": round(info.fps, 3), "size": f"{info.width}x{info.height}"}
        keypoints = video_keypoints(path, config, store, estimator)
    return predict_sequence(model, keypoints, data), facts


class SkeletonScorer:
    """``scorer(path) -> (probabilities, facts)`` for ``deepdance.predict.predict_videos``; the pose
    backend is built at the first video (a run of keypoint files never needs the ``pose`` extra)
    and closed at the end (``with``)."""

    def __init__(self, model: Any, data: Mapping[str, Any], clips: int, pose: Any) -> None:
        self.model = model
        # clips: the K windows averaged per view, as data.test_clips in the test pass
        self.data = {**dict(data), "test_clips": clips}
        self.config = pose_config(pose)
        self.store = PoseStore(self.config.store_dir)
        self.estimator: PoseEstimator | None = None

    def __call__(self, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
        if not is_keypoints_file(Path(path)) and self.estimator is None:
            from deepdance.pose import backends

            self.estimator = backends.build_estimator(self.config)
        return pose_probabilities(self.model, self.data, path, self.config, self.store, self.estimator)

    def __enter__(self) -> SkeletonScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.estimator is not None:
            self.estimator.close()
            self.estimator = None

    def settings(self) -> dict[str, Any]:
        """What the prediction file records besides the rows: the windows and the front end."""
        from deepdance.config.pose_data import PoseDataConfig

        windows = parse(PoseDataConfig, {**self.data, "root": "-", "synthetic": None}, "data")
        return {"num_frames": windows.num_frames, "pose": self.config.model_dump()}
