"""OmegaConf resolvers for names that depend on how Hydra runs the job (single run or sweep).

${deepdance.sweep_name:}      the sweep a job belongs to (Optuna study name, else the sweep
                              dir's name, e.g. genre_small_2026-11-23_16-42-00); null in a single run
${deepdance.job_name:NAME}    NAME in a single run, NAME-<job number> inside a sweep
${deepdance.wandb_offline:}   true unless a W&B account is configured (WANDB_API_KEY, a netrc
                              entry for api.wandb.ai) or WANDB_MODE=online asks for it
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path

from omegaconf import OmegaConf


def _hydra_config():
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None


def _in_sweep() -> bool:
    from hydra.types import RunMode

    hydra_cfg = _hydra_config()
    return hydra_cfg is not None and hydra_cfg.mode == RunMode.MULTIRUN


def sweep_name() -> str | None:
    """Group a sweep's runs under one name in the loggers; None outside a sweep."""
    if not _in_sweep():
        return None
    hydra_cfg = _hydra_config()
    study = hydra_cfg.sweeper.get("study_name") if "sweeper" in hydra_cfg else None
    return str(study) if study else Path(hydra_cfg.sweep.dir).name


def job_name(name: str) -> str:
    """Give each job of a sweep its own run name, so logger runs do not collide."""
    return f"{name}-{_hydra_config().job.num}" if _in_sweep() else name


def wandb_account_configured() -> bool:
    """Decide W&B's default mode: online only when an account or WANDB_MODE=online says so."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("offline", "disabled", "dryrun"):
        return False
    if mode == "online" or os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def register_resolvers() -> None:
    """Idempotent: every entry point calls it before composing its config."""
    OmegaConf.register_new_resolver("deepdance.sweep_name", lambda: sweep_name(), replace=True)
    OmegaConf.register_new_resolver("deepdance.job_name", job_name, replace=True)
    OmegaConf.register_new_resolver(
        "deepdance.wandb_offline", lambda: not wandb_account_configured(), replace=True
    )
