"""The start-up checks of the commands around pose-space models and the pose front end:
``score_generation`` (a latent LSTM or a pose generator, each with its own recognizer family),
``extract_poses`` and ``score_poses``. ``deepdance.config.validate`` hands them on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from deepdance.config import commands
from deepdance.config.base import parse
from deepdance.config.startup import check_family, existing, top
from deepdance.errors import DeepdanceError


def validate_score_generation(cfg: DictConfig) -> dict[str, Any]:
    """``python -m deepdance.score_generation``: a latent LSTM and a silhouette genre recognizer,
    or a pose-space generator (and optionally a skeleton genre recognizer); the generator's metadata."""
    from deepdance.models.registry import GENRE_CLASSIFIER, POSE_CLASSIFIER, POSE_LSTM

    command = top(commands.ScoreGenerationCommand, cfg)
    hint = "the latent LSTM's or pose generator's best_ckpt"
    metadata, generator = checkpoint(command.lstm_ckpt, "lstm_ckpt", "score_generation", hint)
    pose = generator is POSE_LSTM
    if not pose:
        top(commands.LatentScoringCommand, cfg)
    if command.recognizer_ckpt is not None:
        hint = "a genre recognizer's best_ckpt"
        found = checkpoint(command.recognizer_ckpt, "recognizer_ckpt", "recognizer_ckpt", hint)[1]
        wanted, kind = (POSE_CLASSIFIER, "pose") if pose else (GENRE_CLASSIFIER, "latent LSTM")
        if found is not wanted:
            raise DeepdanceError(
                f"recognizer_ckpt={command.recognizer_ckpt}: a {found.short}; a {kind} "
                f"generator's dances are graded by a {wanted.short} ({wanted.hint})"
            )
    if command.data_root is not None:
        existing(command.data_root, "data_root")
    uncond = command.uncond_ckpt
    if uncond is not None and (checkpoint(uncond, "uncond_ckpt", "score_generation")[1] is POSE_LSTM) != pose:
        raise DeepdanceError(
            f"uncond_ckpt={uncond}: not the same kind of generator as lstm_ckpt (a latent LSTM and a "
            "pose-space generator are not compared)"
        )
    return metadata


def checkpoint(value: str | None, key: str, command: str, hint: str = "") -> tuple[dict[str, Any], Any]:
    """The checkpoint ``key`` names, which must exist and be of a family ``command`` takes: its
    metadata and its family."""
    return check_family(existing(value, key, "file", hint), command, key)


def validate_extract_poses(cfg: DictConfig) -> tuple[commands.ExtractPosesCommand, Any, list[Path]]:
    """``python -m deepdance.extract_poses``: the ``pose`` node, the videos (listed, none opened),
    and an ``out`` and pose store that are not the videos' folder; returns the command, its
    ``PoseConfig`` and the videos."""
    from deepdance.pose.validate import check_extract_poses

    return check_extract_poses(top(commands.ExtractPosesCommand, cfg), cfg.get("pose"))


def validate_score_poses(cfg: DictConfig) -> tuple[commands.ScorePosesCommand, Any, dict[str, list[Path]]]:
    """``python -m deepdance.score_poses``: the ``pose`` node (a backend it has) and the renders
    under ``rgb_root``, each with its truth (listed, none opened); the command, its ``PoseConfig``
    and the videos by background."""
    from deepdance.config.pose import PoseConfig
    from deepdance.pose.scoring import find_renders

    command = top(commands.ScorePosesCommand, cfg)
    config = parse(PoseConfig, cfg.get("pose") or {}, "pose")
    hint = "python -m deepdance.make_synthetic --rgb writes one"
    root = existing(command.rgb_root, "rgb_root", "dir", hint)
    videos = find_renders(root, command.backgrounds)
    if command.max_videos is not None:
        videos = {kind: paths[: command.max_videos] for kind, paths in videos.items()}
    return command, config, videos
