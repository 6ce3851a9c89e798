"""Score generated dances with a genre recognizer and write summary.json.

    python -m deepdance.score_generation lstm_ckpt=<LSTM best_ckpt> recognizer_ckpt=<genre best_ckpt>
    python -m deepdance.score_generation lstm_ckpt=... recognizer_ckpt=... uncond_ckpt=... steps=60

Keys ``gen/<metric><method>`` (held-out seeds) and ``gen_random/<metric><method>`` (random seeds),
methods '' (the LSTM), ``_repeat``, ``_ridge``, ``_retrieval``, ``_uncond``: a study over seeds
reads them with ``python -m deepdance.report --baselines _repeat,_ridge,_retrieval,_uncond``.
"""

from __future__ import annotations

import logging
from typing import Any

import hydra
from omegaconf import DictConfig

from deepdance.config.validate import validate_score_generation
from deepdance.models.generation_scoring import ScoringSettings, load_scorer
from deepdance.utils.checkpoints import one_read_per_checkpoint
from deepdance.utils.run import task_wrapper, write_summary
from deepdance.utils.run_info import write_run_info

log = logging.getLogger("deepdance.score_generation")


@task_wrapper
def score(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score rollouts as a task, so task_wrapper logs failures and a sweep keeps going."""
    # the start-up checks and the models share one read of each checkpoint
    with one_read_per_checkpoint():
        validate_score_generation(cfg)
        write_run_info(cfg.paths.output_dir, cfg)
        genres = cfg.get("genres")
        settings = ScoringSettings(
            rollouts=int(cfg.rollouts),
            steps=int(cfg.steps),
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
    path = write_summary(
        cfg.paths.output_dir,
        metrics,
        lstm_ckpt=str(cfg.lstm_ckpt),
        recognizer_ckpt=str(cfg.recognizer_ckpt),
        uncond_ckpt=cfg.get("uncond_ckpt"),
        seed=settings.seed,
        split=settings.split,
        steps=settings.steps,
    )
    log.info("wrote %s: %d generation metrics", path, len(metrics))
    for key in sorted(k for k in metrics if k.startswith("gen/fdd") or k.startswith("gen/liveliness_ratio")):
        print(f"{key}: {metrics[key]:.4g}")
    return metrics, {"scorer": scorer, "summary": path}


@hydra.main(version_base="1.3", config_path="../conf", config_name="score_generation")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from score() so tests can call the task with a composed config."""
    score(cfg)


if __name__ == "__main__":
    main()
