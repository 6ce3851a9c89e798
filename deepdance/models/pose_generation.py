"""``python -m deepdance.generate`` for a pose-space dance generator (``experiment=pose_dance``).

The checkpoint's LSTM rolls out normalised poses (root-centred, torso-scaled; ``rollout_poses``)
from a seed of ``look_back`` poses, and the dance is written twice: as a silhouette video at
``out`` (the body drawn between the joints as ``data=motion_silhouettes`` draws it, white on
black like the silhouette cache) and as a skeleton video at ``<out stem>_skeleton.mp4`` (bones on
white). A 3-D model is shown by orthographic projection onto x, y.

Seeds, each read as the training data was (the checkpoint's ``data`` settings):
- ``seed=<keypoints .pkl | normalized_2d .npy>``: view ``seed_view`` of an annotation file, its
  last ``look_back`` poses (``seed_poses``);
- ``seed=<video>``: the dancer found by the pose front end (``pose`` node, kept in its pose
  store), its last ``look_back`` poses;
- ``seed=random``: the training poses' mean pose (the model's stored statistics), held for
  ``look_back`` frames. Drawing each seed frame independently from the per-coordinate spread, as
  the latent LSTM does with latents, gives no body at all in joint space; variety comes from
  ``noise=`` and, with a mixture head, from ``rng_seed``.

The poses are drawn at a fixed scale, a torso a quarter of the frame's height with the hips a
little below the middle, so the dancer's size never follows the dance; a pose that leaves the
frame is cut off. Seed frames carry a blue bar on top and generated ones a red bar, as the
latent LSTM's videos do. Between steps, poses are interpolated linearly to reach ``fps``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from omegaconf import DictConfig

from deepdance.config.base import parse
from deepdance.config.pose_motion import PoseMotionConfig
from deepdance.data.aist.names import VIDEO_SUFFIXES
from deepdance.data.silhouette.motion_render import MotionStyle, draw_body
from deepdance.data.synthetic.renderer import SUPERSAMPLE
from deepdance.errors import DeepdanceError
from deepdance.models.dance_generator import (
    GENERATED_COLOUR,
    SEED_COLOUR,
    Dance,
    DanceGenerator,
    interpolate_latents,
    mark,
    refuse_existing,
)
from deepdance.models.pose_lstm_module import PoseLSTMModule, rollout_poses
from deepdance.pose.skeleton import EDGES, HIPS, JOINT, NUM_JOINTS, SHOULDERS

# output frames: (height, width); the torso is TORSO_FRACTION of the height, the hips at HIP_LINE
FRAME_SIZE = (256, 256)
TORSO_FRACTION = 0.25
HIP_LINE = 0.55
SKELETON_SUFFIX = "_skeleton"
BONE_COLOUR = (30, 30, 30)
JOINT_COLOUR = (200, 40, 40)


def skeleton_path(out: str | Path) -> Path:
    """``<out stem>_skeleton.mp4`` beside ``out``."""
    out = Path(out)
    return out.with_name(f"{out.stem}{SKELETON_SUFFIX}.mp4")


def seed_settings(metadata: dict[str, Any]) -> PoseMotionConfig:
    """The checkpoint's data settings (kind, fps, normalisation, confidences), read as the data was."""
    data = dict(metadata.get("data") or {})
    # the seed is one file: the training folder is not read
    data.update(root=str(data.get("root") or "-"))
    return parse(PoseMotionConfig, data, "data")


def is_video(path: Path) -> bool:
    """A seed the pose front end reads, by its suffix."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def check_seed_kind(path: Path, kind: str, ckpt_path: Any) -> None:
    """An annotation file of the checkpoint's kind of keypoints, refused in one line otherwise."""
    from deepdance.data.aist.annotations import safe_load

    if path.suffix == ".npy":
        found = "2d"
    elif path.suffix == ".pkl":
        keys = set(safe_load(path))
        found = (
            "3d" if keys & {"keypoints3d", "keypoints3d_optim"} else "2d" if "keypoints2d" in keys else None
        )
    else:
        found = None
    if found is None:
        raise DeepdanceError(
            f"seed={path}: neither a keypoints .pkl, a normalized_2d .npy nor a video "
            f"({', '.join(VIDEO_SUFFIXES)}); use seed=random, an annotation file or a dance video"
        )
    if found != kind:
        wanted = (
            "a keypoints3d .pkl" if kind == "3d" else "a keypoints2d .pkl, a normalized_2d .npy or a video"
        )
        raise DeepdanceError(
            f"seed={path}: a keypoints{found} file, but ckpt_path={ckpt_path} is a {kind} pose model; "
            f"seed it with {wanted}"
        )


def video_seed(path: Path, settings: PoseMotionConfig, pose: Any) -> np.ndarray:
    """The dancer of a video through the front end (and its store), normalised as the data is."""
    from deepdance.data.pose.motion import motion_sequence
    from deepdance.pose import backends
    from deepdance.pose.predict import pose_config, video_keypoints
    from deepdance.pose.store import PoseStore

    config = pose_config(pose)
    estimator = backends.build_estimator(config)
    try:
        keypoints = video_keypoints(path, config, PoseStore(config.store_dir), estimator)
    finally:
        estimator.close()
    fps = keypoints.fps()
    points = keypoints.keypoints[0]
    poses = motion_sequence(points[..., :2], points[..., 2], fps, settings, keypoints.timestamps, path)
    return poses.reshape(len(poses), NUM_JOINTS, 2)


def read_seed(
    cfg: DictConfig, model: PoseLSTMModule, metadata: dict[str, Any], generator: torch.Generator
) -> np.ndarray:
    """The last ``look_back`` seed poses (L, J, D), refused in one line when the seed cannot be one."""
    from deepdance.data.pose.motion import seed_poses

    look_back, kind = int(model.hparams.look_back), model.config.kind
    view = int(cfg.get("seed_view") or 0)
    if str(cfg.seed) == "random":
        mean = model.latent_mean.detach().cpu().numpy().reshape(NUM_JOINTS, model.dims)
        return np.repeat(mean[None], look_back, axis=0)
    path = Path(str(cfg.seed))
    settings = seed_settings(metadata)
    if is_video(path):
        if kind != "2d":
            raise DeepdanceError(
                f"seed={path}: a video gives 2-D keypoints, but ckpt_path={cfg.ckpt_path} is a {kind} pose "
                "model; seed it with a keypoints3d .pkl or seed=random"
            )
        if view != 0:
            raise DeepdanceError(f"seed_view={view}: a video is one view (seed_view=0)")
        poses = video_seed(path, settings, cfg.get("pose"))
    else:
        check_seed_kind(path, kind, cfg.ckpt_path)
        poses = seed_poses(path, view, settings)
    if len(poses) < look_back:
        raise DeepdanceError(
            f"seed={path}: only {len(poses)} poses at {settings.fps:g} fps; the seed needs {look_back} "
            "(model.look_back)"
        )
    return poses[-look_back:]


def frame_points(poses: np.ndarray, up_sign: float, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Normalised poses (T, J, D) -> frame pixels (T, J, 2): x, y (orthographic), y down, the torso
    ``TORSO_FRACTION`` of the height, the root at the centre of the ``HIP_LINE``."""
    height, width = size
    scale = TORSO_FRACTION * height
    xy = poses[..., :2].astype(np.float64).copy()
    xy[..., 1] *= up_sign
    return xy * scale + np.array([width / 2, HIP_LINE * height])


def up_sign_of(mean_pose: np.ndarray) -> float:
    """+1 when the mean pose's head is above its hips in y-down image terms, else -1 (a y-up 3-D
    frame), so every model dances upright."""
    head = mean_pose[[JOINT["nose"], *SHOULDERS], 1].mean()
    hips = mean_pose[list(HIPS), 1].mean()
    return 1.0 if head <= hips else -1.0


def silhouette_frames(points: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Frame pixels (T, J, 2) -> silhouettes (T, H, W) uint8, 255 = dancer, drawn as
    ``data=motion_silhouettes`` draws a body, at a fixed limb width and head."""
    height, width = size
    style = MotionStyle()
    torso = TORSO_FRACTION * height
    limb = style.limb_width * torso
    head = max(style.head_radius * 0.6 * torso, 0.9 * limb)
    frames = np.zeros((len(points), height, width), dtype=np.uint8)
    for i, pose in enumerate(points):
        canvas = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), dtype=np.uint8)
        draw_body(canvas, pose * SUPERSAMPLE - 0.5, limb * SUPERSAMPLE, head * SUPERSAMPLE)
        frames[i] = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    return frames


def skeleton_frames(points: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """Frame pixels (T, J, 2) -> RGB (T, H, W, 3) uint8: bones (``EDGES``) and joints on white."""
    height, width = size
    thickness = max(2, height // 100)
    frames = np.full((len(points), height, width, 3), 255, dtype=np.uint8)
    shift = 4
    for frame, pose in zip(frames, points, strict=True):
        fixed = [(int(round(x * (1 << shift))), int(round(y * (1 << shift)))) for x, y in pose.tolist()]
        for a, b in EDGES:
            cv2.line(frame, fixed[a], fixed[b], BONE_COLOUR, thickness, cv2.LINE_AA, shift)
        for point in fixed:
            cv2.circle(frame, point, (thickness + 1) << shift, JOINT_COLOUR, -1, cv2.LINE_AA, shift)
    return frames


def with_bar(frames: np.ndarray, first_generated: int) -> np.ndarray:
    """RGB (T, H, W, 3) with ``mark``'s bar on top: blue over seed frames, red after."""
    bar = max(2, frames.shape[1] // 30)
    frames[:first_generated, :bar] = SEED_COLOUR
    frames[first_generated:, :bar] = GENERATED_COLOUR
    return frames


def refuse_early(cfg: DictConfig, model: PoseLSTMModule) -> tuple[Path, Path]:
    """The two videos' paths, after every refusal that needs no seed: a genre sheet, a genre the
    checkpoint cannot dance, an output already there."""
    if cfg.get("grid"):
        raise DeepdanceError(
            "grid=true is the latent LSTM's genre sheet; for a pose-space generator run one genre= at a time"
        )
    # refused before any seed is read: an unconditioned checkpoint, or a genre it never learned
    model.genre_class(cfg.get("genre"))
    out = Path(str(cfg.out))
    skeleton_out = skeleton_path(out)
    for path in (out, skeleton_out, *([out.with_suffix(".gif")] if cfg.get("gif") else [])):
        refuse_existing(path)
    return out, skeleton_out


def roll_out(
    cfg: DictConfig, model: PoseLSTMModule, seed: np.ndarray, steps: int, per_step: int, rng: torch.Generator
) -> np.ndarray:
    """(frames, 17, D) poses: the seed and ``steps`` generated ones, interpolated to ``per_step``
    frames a step and cut to ``num_frames``."""
    generator = rng if model.config.head != "point" else None
    poses = rollout_poses(
        model, seed, steps, genre=cfg.get("genre"), generator=generator, noise=float(cfg.noise)
    )
    keys = torch.from_numpy(poses.reshape(len(poses), -1))
    poses = interpolate_latents(keys, per_step, smooth=bool(cfg.interpolate)).numpy()
    poses = poses.reshape(len(poses), NUM_JOINTS, model.dims)
    return poses[: int(cfg.num_frames)] if cfg.num_frames else poses


def write_dance(cfg: DictConfig, dance: Dance, bones: np.ndarray, out: Path, skeleton_out: Path) -> None:
    """Both videos, and the gif and strip when asked for."""
    from deepdance.data.video.writer import write_mp4
    from deepdance.utils.cache_io import atomic_write_bytes
    from deepdance.utils.media import gif_bytes

    write_mp4(out, dance.frames, fps=dance.fps)
    write_mp4(skeleton_out, bones, fps=dance.fps)
    if cfg.get("gif"):
        atomic_write_bytes(out.with_suffix(".gif"), gif_bytes(dance.frames, dance.fps), overwrite=False)
    if cfg.get("strip"):
        print(f"wrote {DanceGenerator.write_strip(dance, cfg.strip)}")


def generate_poses(cfg: DictConfig, model: PoseLSTMModule, metadata: dict[str, Any]) -> tuple[dict, dict]:
    """Seed, roll out, draw and write both videos; refusals come before anything is written."""
    from deepdance.utils.run_info import write_run_info

    out, skeleton_out = refuse_early(cfg, model)
    genre = cfg.get("genre")
    rng = torch.Generator().manual_seed(int(cfg.rng_seed))
    seed = read_seed(cfg, model, metadata, rng)
    look_back = len(seed)
    model_fps = float(model.config.fps)
    per_step = max(1, round(float(cfg.fps) / model_fps))
    steps = (
        DanceGenerator.steps_for(int(cfg.num_frames), look_back, per_step)
        if cfg.num_frames
        else int(cfg.steps)
    )
    write_run_info(cfg.paths.output_dir, cfg)
    start = time.perf_counter()
    poses = roll_out(cfg, model, seed, steps, per_step, rng)
    first_generated = (look_back - 1) * per_step + 1
    mean = model.latent_mean.detach().cpu().numpy().reshape(NUM_JOINTS, model.dims)
    points = frame_points(poses, up_sign_of(mean))
    silhouettes = mark(silhouette_frames(points), first_generated)
    bones = with_bar(skeleton_frames(points), first_generated)
    seconds = time.perf_counter() - start
    fps = model_fps * per_step
    dance = Dance(silhouettes, fps, first_generated, seconds)
    write_dance(cfg, dance, bones, out, skeleton_out)
    danced = f" in genre {genre}" if genre else ""
    h, w = FRAME_SIZE
    print(
        f"wrote {out} and {skeleton_out}: {len(poses)} frames of {h}x{w} at {fps:g} fps{danced} "
        f"({look_back} seed + {steps} generated poses, generation starts at frame {first_generated})"
    )
    print(
        f"generation throughput: {dance.frames_per_second:.1f} frames/s on {cfg.device} "
        f"({len(poses)} frames in {seconds:.2f} s)"
    )
    stats = {
        "frames": len(poses),
        "frames_per_second": dance.frames_per_second,
        "first_generated": first_generated,
        "genre": genre,
        "skeleton": str(skeleton_out),
    }
    return stats, {"dance": dance, "out": out, "skeleton": skeleton_out, "poses": poses}
