"""Rank the genres of any video (or every video in a folder) with a trained checkpoint.

    python -m deepdance.predict ckpt_path=logs/.../checkpoints/epoch_007.ckpt video=dance.mp4
    python -m deepdance.predict ckpt_path=... video=/folder/of/videos output=predictions.json clips=5

Any resolution, aspect, frame rate, with or without audio, AIST++ name or not: frames are
decoded with the checkpoint's own sampling (``num_frames`` per clip, short side resized to
``img_size``, centre crop), and the class probabilities of ``clips`` temporally offset clips
are averaged. An AIST++ file name also gives the true genre, shown beside the prediction.

A skeleton genre classifier (``experiment=pose_gru``) takes videos and AIST++ keypoints2d files:

    python -m deepdance.predict ckpt_path=<pose_gru best_ckpt> video=gBR_sBM_cAll_d04_mBR0_ch01.pkl
    python -m deepdance.predict ckpt_path=<pose_gru best_ckpt> video=dance.mp4 [pose.fps=30 ...]

a keypoints2d file is scored as it is (its views averaged), a video goes through the pose front end
(the ``pose`` node, its store under ``paths.data_dir/poses``) first; see ``deepdance.pose.predict``.
The checkpoint's family picks the path; the rows and the JSON are the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from omegaconf import DictConfig

from deepdance.config.validate import validate_predict
from deepdance.data.aist import GENRE_NAMES, find_videos, parse_aist_name
from deepdance.data.aist.names import parse_sequence_name
from deepdance.data.video import probe_video, read_clip
from deepdance.data.video.clip_sampling import ClipSampler
from deepdance.errors import DeepdanceError, VideoError
from deepdance.models.registry import POSE_CLASSIFIER, load_model
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import task_wrapper
from deepdance.utils.run_info import write_run_info
from deepdance.utils.stop import StopOnSigterm, check_stop

log = logging.getLogger("deepdance.predict")


@dataclass
class VideoPrediction:
    """One video's ranked genres (probabilities averaged over its clips), or why it failed."""

    video: str
    # [{genre, name, probability}], best first
    genres: list[dict[str, Any]] = field(default_factory=list)
    true_genre: str | None = None
    frames: int | None = None
    fps: float | None = None
    size: str | None = None
    error: str | None = None


def load_classifier(ckpt_path: str | Path, device: torch.device) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The checkpoint's model in eval mode on ``device``, and its stored data settings (one read)."""
    model, metadata, _ = load_model(ckpt_path, "predict", device)
    return model.to(device), metadata["data"]


@torch.inference_mode()
def genre_probabilities(
    model: Any, path: str | Path, num_frames: int, img_size: int, clips: int, sampling: str = "exact"
) -> tuple[torch.Tensor, Any]:
    """Class probabilities (C,) of one video, averaged over ``clips`` offset clips, and its ``VideoInfo``."""
    info = probe_video(path)
    # the checkpoint's own sampling, exact or snapped to key frames
    sampler = ClipSampler(num_frames, sampling, clips)
    indices, mask = sampler.test_indices(info.num_frames, sampler.keyframes_of(path))  # (K, T) each
    mask = torch.from_numpy(mask).to(model.device)
    # each frame decoded once (embedded once without frame_diff)
    unique, inverse = np.unique(indices.ravel(), return_inverse=True)
    frames = read_clip(path, unique, img_size, info).to(model.device)  # (U, 3, S, S) uint8
    # (K, T) into the unique frames
    clip_index = torch.from_numpy(inverse.reshape(indices.shape)).to(model.device)
    with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=model.device.type == "cuda"):
        logits = model.clip_logits(frames, mask, clip_index)  # (K, C)
    return logits.softmax(dim=-1).mean(dim=0).cpu(), info


def _true_genre(path: Path) -> str | None:
    try:
        return parse_aist_name(path.name).genre
    except ValueError:
        pass
    # a keypoints2d file: a sequence name (cAll) or a per-camera one
    try:
        return parse_sequence_name(path.name).genre if path.suffix == ".pkl" else None
    except ValueError:
        return None


# one input -> its class probabilities (C,) and its row's facts (frames, fps, size)
Scorer = Callable[[Path], tuple[Any, dict[str, Any]]]


def predict_videos(
    model: Any, data: dict[str, Any], videos: list[Path], clips: int, scorer: Scorer | None = None
) -> list[VideoPrediction]:
    """Each video's ranked genres (``scorer``: another model family's inputs, e.g. the skeleton
    classifier's); SIGTERM stops after the video in hand (exit code 143)."""
    names = list(model.hparams.class_names)
    results: list[VideoPrediction] = []
    stop = StopOnSigterm("predict", "run the command again")
    stop.kept = lambda: f"nothing ({len(results)} of {len(videos)} videos predicted, none written)"
    score = scorer or (lambda path: _video_scores(model, data, path, clips))
    with stop:
        for path in videos:
            results.append(_predict_one(score, path, names))
            check_stop()
    return results


def _video_scores(model: Any, data: dict[str, Any], path: Path, clips: int) -> tuple[Any, dict[str, Any]]:
    probs, info = genre_probabilities(
        model, path, int(data["num_frames"]), int(data["img_size"]), clips, data.get("sampling", "exact")
    )
    return probs, video_facts(info)


def video_facts(info: Any) -> dict[str, Any]:
    """A row's ``frames``, ``fps`` and ``size`` from a ``VideoInfo``."""
    return {"frames": info.num_frames, "fps": round(info.fps, 3), "size": f"{info.width}x{info.height}"}


def _predict_one(score: Scorer, path: Path, names: list[str]) -> VideoPrediction:
    try:
        probs, facts = score(path)
    except VideoError as err:
        return VideoPrediction(video=str(path), true_genre=_true_genre(path), error=str(err))
    probs = torch.as_tensor(probs)
    order = probs.argsort(descending=True).tolist()
    genres = [
        {
            "genre": names[i],
            "name": GENRE_NAMES.get(names[i], names[i]),
            "probability": round(float(probs[i]), 5),
        }
        for i in order
    ]
    return VideoPrediction(video=str(path), genres=genres, true_genre=_true_genre(path), **facts)


def print_predictions(results: list[VideoPrediction], top: int) -> None:
    """Show the top genres per video, and the reason for each video that could not be read."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if len(results) == 1 and results[0].error is None:
        result = results[0]
        # a keypoints2d file has no frame size
        size = f"{result.size}, " if result.size else ""
        title = f"{result.video} ({size}{result.frames} frames at {result.fps} fps)"
        if result.true_genre:
            title += f", true genre {result.true_genre}"
        table = Table(title=title)
        for column in ("rank", "genre", "name", "probability"):
            table.add_column(column, justify="right" if column in ("rank", "probability") else "left")
        for rank, genre in enumerate(result.genres[:top], start=1):
            table.add_row(str(rank), genre["genre"], genre["name"], f"{genre['probability']:.3f}")
        console.print(table)
        return
    table = Table(title=f"{len(results)} videos")
    for column in ("video", "genre", "probability", "runner-up", "true genre"):
        table.add_column(column)
    for result in results:
        if result.error is not None:
            table.add_row(Path(result.video).name, "error", result.error, "", result.true_genre or "")
            continue
        best, second = (
            result.genres[0],
            result.genres[1] if len(result.genres) > 1 else {"genre": "", "probability": 0.0},
        )
        table.add_row(
            Path(result.video).name,
            best["genre"],
            f"{best['probability']:.3f}",
            f"{second['genre']} {second['probability']:.3f}",
            result.true_genre or "",
        )
    console.print(table)
    labelled = [r for r in results if r.error is None and r.true_genre]
    if labelled:
        correct = sum(r.genres[0]["genre"] == r.true_genre for r in labelled)
        console.print(f"top-1 correct on {correct} of {len(labelled)} AIST++-named videos")


def chosen_device(setting: str) -> torch.device:
    """``device=auto`` is the GPU when there is one, else the CPU."""
    if setting != "auto":
        return torch.device(setting)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@task_wrapper
def predict(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Classify videos with a checkpoint as a task, so task_wrapper logs failures."""
    # the start-up check and the module share one read of the checkpoint
    with one_read_per_checkpoint():
        metadata = validate_predict(cfg)
        model, data = load_classifier(cfg.ckpt_path, chosen_device(cfg.device))
    write_run_info(cfg.paths.output_dir, cfg)
    clips = int(cfg.clips if cfg.clips is not None else data.get("test_clips", 1))
    if clips < 1:
        raise DeepdanceError(f"clips={clips}: use 1 or more clips per video")
    target = Path(str(cfg.video)).expanduser()
    if metadata.get("model_target") == POSE_CLASSIFIER.target:
        results, settings = _predict_skeleton(model, data, target, clips, cfg.get("pose"))
    else:
        try:
            videos = find_videos(target)
        except FileNotFoundError as err:
            raise DeepdanceError(f"video={cfg.video}: {err}") from None
        results = predict_videos(model, data, videos, clips)
        settings = {"num_frames": int(data["num_frames"]), "img_size": int(data["img_size"])}
    if len(results) == 1 and results[0].error is not None:
        raise DeepdanceError(results[0].error)
    print_predictions(results, int(cfg.top))
    payload = {
        "checkpoint": str(cfg.ckpt_path),
        "clips": clips,
        **settings,
        "videos": [asdict(r) for r in results],
    }
    if cfg.get("output"):
        print(f"wrote {write_output(Path(str(cfg.output)).expanduser(), payload)}")
    return payload, {"model": model}


def _predict_skeleton(
    model: Any, data: dict[str, Any], target: Path, clips: int, pose: Any
) -> tuple[list[VideoPrediction], dict[str, Any]]:
    """A skeleton genre classifier's rows: keypoints2d files and videos (``deepdance.pose.predict``)."""
    from deepdance.pose.predict import SkeletonScorer, find_inputs

    with SkeletonScorer(model, data, clips, pose) as scorer:
        return predict_videos(model, data, find_inputs(target), clips, scorer), scorer.settings()


def write_output(out: Path, payload: dict[str, Any]) -> Path:
    """``output=``: replaces only an earlier prediction file, never another file."""
    if out.exists():
        try:
            earlier = json.loads(out.read_text())
        except (OSError, ValueError):
            earlier = None
        if not (isinstance(earlier, dict) and {"checkpoint", "videos"} <= set(earlier)):
            raise DeepdanceError(
                f"output={out} exists and is not an earlier deepdance prediction, so it is "
                "not replaced; choose another output path"
            )
    return atomic_write_text(out, json.dumps(payload, indent=1) + "\n")


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from predict() so tests can call the task with a composed config."""
    predict(cfg)


if __name__ == "__main__":
    main()
