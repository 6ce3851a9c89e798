"""Score generated dances and write summary.json: a latent LSTM's with a silhouette genre
recognizer, a pose-space generator's in motion metrics.

    python -m deepdance.score_generation lstm_ckpt=<LSTM best_ckpt> recognizer_ckpt=<genre best_ckpt>
    python -m deepdance.score_generation lstm_ckpt=... recognizer_ckpt=... uncond_ckpt=... steps=60
    python -m deepdance.score_generation lstm_ckpt=<pose_dance ckpt> data_root=<annotation folder> split=all

The checkpoint's family picks the scorer. A latent LSTM (``generation_scoring``): keys
``gen/<metric><method>`` (held-out seeds) and ``gen_random/<metric><method>`` (random seeds). A
pose-space generator (``experiment=pose_dance``, ``pose_generation_scoring``): ``gen/<metric><method>``
from seeds of every sequence of ``data_root`` (``split=all``) or of a held-out split, FID_k/g,
Div_k/g, liveliness, foot skating, novelty, and with a pose_gru ``recognizer_ckpt`` the FDD and
genre accuracy; a conditioned one is also graded on steering, ``gen_random/genre_acc*`` (random
seeds steered to each of ``genres``; ``gen_random/chance``) and ``gen_cross/genre_acc*`` (held-out
seeds steered to another genre). Methods '' (the generator), ``_repeat``, ``_ridge``, ``_retrieval``,
``_uncond``: a study over seeds reads them with
``python -m deepdance.report --baselines _repeat,_ridge,_retrieval,_uncond``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from deepdance.config.commands import MIN_SCORED_STEPS
from deepdance.config.validate import validate_score_generation
from deepdance.models.generation_scoring import ScoringSettings, load_scorer
from deepdance.models.pose_generation_scoring import PoseScoringSettings, load_pose_scorer
from deepdance.models.registry import POSE_LSTM
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import task_wrapper, write_summary
from deepdance.utils.run_info import write_run_info

log = logging.getLogger("deepdance.score_generation")


@task_wrapper
def score(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score rollouts as a task, so task_wrapper logs failures and a sweep keeps going."""
    # the start-up checks and the models share one read of each checkpoint
    with one_read_per_checkpoint():
        metadata = validate_score_generation(cfg)
        write_run_info(cfg.paths.output_dir, cfg)
        if metadata.get("model_target") == POSE_LSTM.target:
            return score_poses(cfg)
        genres = cfg.get("genres")
        steps = cfg.get("steps")
        settings = ScoringSettings(
            rollouts=int(cfg.rollouts),
            steps=int(steps) if steps is not None else MIN_SCORED_STEPS,
            random_rollouts=int(cfg.random_rollouts),
            train_clips=int(cfg.train_clips),
            split=str(cfg.split),
            seed=int(cfg.seed),
            genres=tuple(genres) if genres is not None else None,
        )
        scorer = load_scorer(
            str(cfg.lstm_ckpt),
            str(cfg.recognizer_ckpt),
            settings,
            uncond_ckpt=cfg.get("uncond_ckpt"),
            recognizer_fps=cfg.get("recognizer_fps"),
            data_root=cfg.get("data_root"),
            device=str(cfg.device),
        )
    metrics = scorer.score()
    shown = ("gen/fdd", "gen/liveliness_ratio")
    path = summarise(cfg, metrics, shown, split=settings.split, steps=settings.steps)
    return metrics, {"scorer": scorer, "summary": path}


def summarise(cfg: DictConfig, metrics: dict[str, Any], shown: tuple[str, ...], **settings: Any) -> Path:
    """summary.json with the checkpoints read and the settings, and the headline keys printed."""
    recognizer = cfg.get("recognizer_ckpt")
    path = write_summary(
        cfg.paths.output_dir,
        metrics,
        lstm_ckpt=str(cfg.lstm_ckpt),
        recognizer_ckpt=str(recognizer) if recognizer is not None else None,
        uncond_ckpt=cfg.get("uncond_ckpt"),
        data_root=cfg.get("data_root"),
        seed=int(cfg.seed),
        **settings,
    )
    log.info("wrote %s: %d generation metrics", path, len(metrics))
    for key in sorted(k for k in metrics if k.startswith(shown)):
        print(f"{key}: {metrics[key]:.4g}")
    return path


def score_poses(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pose-space generator's rollouts and baselines in motion metrics (inside the checkpoint reads)."""
    steps, recognizer = cfg.get("steps"), cfg.get("recognizer_ckpt")
    settings = PoseScoringSettings(
        rollouts=int(cfg.rollouts),
        steps=int(steps) if steps is not None else None,
        split=str(cfg.split),
        seed=int(cfg.seed),
        noise=float(cfg.get("noise") or 0.0),
        random_rollouts=int(cfg.random_rollouts),
        genres=tuple(cfg.genres) if cfg.get("genres") is not None else None,
    )
    scorer = load_pose_scorer(
        str(cfg.lstm_ckpt),
        settings,
        recognizer_ckpt=str(recognizer) if recognizer is not None else None,
        uncond_ckpt=cfg.get("uncond_ckpt"),
        data_root=cfg.get("data_root"),
        device=str(cfg.device),
    )
    metrics = scorer.score()
    shown = ("gen/fid_k", "gen/fid_g", "gen/liveliness_ratio", "gen/fdd")
    path = summarise(cfg, metrics, shown, split=settings.split, steps=scorer.steps, noise=settings.noise)
    return metrics, {"scorer": scorer, "summary": path}


@hydra.main(version_base="1.3", config_path="../conf", config_name="score_generation")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from score() so tests can call the task with a composed config."""
    score(cfg)


if __name__ == "__main__":
    main()
