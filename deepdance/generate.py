"""Generate a dance video from a trained latent LSTM checkpoint, or from a pose-space dance
generator's (``experiment=pose_dance``: ``deepdance.models.pose_generation``, silhouettes at
``out`` and a skeleton video at ``<out stem>_skeleton.mp4``).

    python -m deepdance.generate ckpt_path=.../checkpoints/epoch_020.ckpt seed=random steps=60 out=dance.mp4
    python -m deepdance.generate ckpt_path=... seed=/path/to/dance.mp4 num_frames=300 fps=30 gif=true
    python -m deepdance.generate ckpt_path=<model.condition=genre> genre=KR seed=random|/path/to/dance.mp4
    python -m deepdance.generate ckpt_path=<model.condition=genre> grid=true out=genres.png
    python -m deepdance.generate ckpt_path=<pose_dance> seed=random|<keypoints .pkl>|<video> out=d.mp4

Prints the output's frame count and the generation throughput (frames per second, model
time: rollout and decoding, file writing excluded). ``grid=true`` writes, instead of a video, a
PNG with one row per genre the checkpoint learned, each row rolled out from the same seed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig

from deepdance.config.validate import validate_generate
from deepdance.errors import DeepdanceError
from deepdance.models.dance_generator import DanceGenerator
from deepdance.models.registry import POSE_LSTM
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import task_wrapper
from deepdance.utils.run_info import write_run_info

log = logging.getLogger("deepdance.generate")


def load_lstm(ckpt_path: str | Path, device: str = "cpu") -> torch.nn.Module:
    """The LSTM module with its autoencoder, from its checkpoint alone (refused if another family)."""
    from deepdance.models.registry import load_model

    return load_model(ckpt_path, "generate", device)[0]


@task_wrapper
def generate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generate a dance from a latent LSTM checkpoint as a task, so task_wrapper logs failures."""
    # the start-up check and the model share one read of the checkpoint
    with one_read_per_checkpoint():
        metadata = validate_generate(cfg)
        if metadata.get("model_target") == POSE_LSTM.target:
            return generate_pose_dance(cfg)
        write_run_info(cfg.paths.output_dir, cfg)
        module = load_lstm(cfg.ckpt_path, cfg.device)
    generator = DanceGenerator(module)
    if cfg.get("grid"):
        return genre_grid(cfg, generator)
    genre = cfg.get("genre")
    # Refused before any video is read: an unconditioned checkpoint, or a genre it never learned.
    module.genre_class(genre)
    rng = torch.Generator().manual_seed(int(cfg.rng_seed))
    seed = generator.seed_random(rng) if str(cfg.seed) == "random" else generator.seed_from_video(cfg.seed)
    per_step = max(1, round(float(cfg.fps) / generator.model_fps))
    steps = (
        generator.steps_for(int(cfg.num_frames), generator.look_back, per_step)
        if cfg.num_frames
        else int(cfg.steps)
    )
    dance = generator.generate(
        seed,
        steps,
        fps=cfg.fps,
        interpolate=cfg.interpolate,
        noise=cfg.noise,
        num_frames=cfg.num_frames,
        generator=rng,
        genre=genre,
    )
    start = time.perf_counter()
    out = generator.write(dance, cfg.out, gif=cfg.gif)
    if cfg.get("strip"):
        print(f"wrote {generator.write_strip(dance, cfg.strip)}")
    written = time.perf_counter() - start
    h, w = dance.frames.shape[1:3]
    danced = f" in genre {genre}" if genre else ""
    print(
        f"wrote {out}: {len(dance.frames)} frames of {h}x{w} at {dance.fps:g} fps{danced} "
        f"({generator.look_back} seed + {steps} generated steps, generation starts at frame "
        f"{dance.first_generated})"
    )
    print(
        f"generation throughput: {dance.frames_per_second:.1f} frames/s on {cfg.device} "
        f"({len(dance.frames)} frames in {dance.seconds:.2f} s; writing the mp4 took {written:.2f} s)"
    )
    stats = {
        "frames": len(dance.frames),
        "frames_per_second": dance.frames_per_second,
        "first_generated": dance.first_generated,
        "genre": genre,
    }
    return stats, {"dance": dance, "out": out}


def generate_pose_dance(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pose-space generator's dance: silhouettes at ``out``, the skeleton beside it
    (``deepdance.models.pose_generation``); run_info.json is written once the seed is read."""
    from deepdance.models.pose_generation import generate_poses
    from deepdance.models.registry import load_model

    model, metadata, _ = load_model(cfg.ckpt_path, "generate", cfg.device)
    return generate_poses(cfg, model, metadata)


def genre_grid(cfg: DictConfig, generator: DanceGenerator) -> tuple[dict[str, Any], dict[str, Any]]:
    """``grid=true``: one row per learned genre, every row from the same seed, as a PNG beside ``out``."""
    genres = generator.module.genre_condition.trained_names() if generator.module.genre_condition else []
    if not genres:
        raise DeepdanceError(
            "grid=true draws one row per genre: this checkpoint is not genre-conditioned; train the LSTM "
            "with model.condition=genre, or leave grid out"
        )
    rng = torch.Generator().manual_seed(int(cfg.rng_seed))
    seed = generator.seed_random(rng) if str(cfg.seed) == "random" else generator.seed_from_video(cfg.seed)
    dances = {
        genre: generator.generate(seed, int(cfg.steps), noise=cfg.noise, generator=rng, genre=genre)
        for genre in genres
    }
    out = generator.write_genre_grid(dances, Path(cfg.out).with_suffix(".png"))
    print(f"wrote {out}: {len(genres)} genres ({', '.join(genres)}), {cfg.steps} generated steps each")
    return {"genres": genres, "grid": str(out)}, {"dances": dances, "out": out}


@hydra.main(version_base="1.3", config_path="../conf", config_name="generate")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from generate() so tests can call the task with a composed config."""
    generate(cfg)


if __name__ == "__main__":
    main()
