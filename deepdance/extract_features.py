"""Fill the feature store for a frozen backbone: run it once over every video's clips.

    python -m deepdance.extract_features                                  # synthetic data, genre_gru model
    python -m deepdance.extract_features experiment=genre_gru data=aist data.root=/data/aist \\
        model.backbone.weights=/path/to/inception_v3.safetensors trainer=ddp

It takes the same data/model/trainer settings as ``deepdance.train``, so a later ``train`` with
them finds every entry and never decodes a video. ``deepdance.train`` also fills the store on
first fit by itself; this command does it ahead of time (e.g. on a GPU node) and reports.
A killed run resumes: finished entries are kept, missing, stale or corrupt ones recomputed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig

from deepdance.config.base import parse
from deepdance.config.data import GenreDataConfig
from deepdance.config.validate import validate_extract_features
from deepdance.data.genre.manifest import build_manifest, ensure_videos, one_manifest_per_run
from deepdance.errors import DeepdanceError
from deepdance.features.extract import extraction_trainer, fill_feature_store
from deepdance.models.registry import build_model
from deepdance.run.genre_data import extraction_inputs
from deepdance.utils.run import print_config_tree, task_wrapper

log = logging.getLogger("deepdance.extract_features")


@task_wrapper
@one_manifest_per_run()
def extract(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fill the feature store as a task, so training can later read features instead of decoding video."""
    validate_extract_features(cfg)
    # same seed as train: a randomly initialised backbone gets the same weights
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)
    if cfg.get("print_config"):
        print_config_tree(cfg)
    # a frozen backbone and known splits: the start-up check said so
    model = build_model(cfg.model)
    splits = tuple(cfg.splits)
    # the same walk as train's: videos -> manifest -> store
    config = parse(GenreDataConfig, cfg.data, "data")
    ensure_videos(config)
    inputs = extraction_inputs(build_manifest(config), config, model, splits)
    store, report = fill_feature_store(*inputs, extraction_trainer(cfg.trainer))
    result = report.as_dict()
    if _is_global_zero():
        out = Path(cfg.paths.output_dir) / "extract_report.json"
        out.write_text(json.dumps(result, indent=1) + "\n")
        print_report(result)
    if report.failed:
        raise DeepdanceError(
            f"{len(report.failed)} of {report.total} video(s) could not be read; first: "
            f"{report.failed[0][0]}: {report.failed[0][1]} (all in "
            f"{Path(cfg.paths.output_dir) / 'extract_report.json'})"
        )
    return result, {"store": store, "model": model}


def _is_global_zero() -> bool:
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0


def print_report(result: dict[str, Any]) -> None:
    """Show how many features were reused or computed, so a user sees whether the cache worked."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"feature store {result['store']}")
    for column in ("videos", "reused", "computed", "recomputed (stale/corrupt)", "failed"):
        table.add_column(column, justify="right")
    table.add_row(*(str(result[k]) for k in ("total", "reused", "computed", "recomputed", "failed")))
    Console().print(table)
    for failure in result["failures"][:20]:
        print(f"failed: {failure['video']}: {failure['reason']}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="extract_features")
def main(cfg: DictConfig) -> None:
    """Hydra entry point; kept apart from extract() so tests can call the task with a composed config."""
    extract(cfg)


if __name__ == "__main__":
    main()
