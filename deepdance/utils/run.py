"""What every entry point does around the experiment: build from config, print it, never lose
a result, and turn user mistakes into one readable line."""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning import Callback
from pytorch_lightning.loggers import Logger
from pytorch_lightning.utilities import rank_zero_only

from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_write_text
from deepdance.utils.distributed import ddp_job_scope
from deepdance.utils.resolvers import register_resolvers

log = logging.getLogger("deepdance")

# before Hydra composes any entry point's config (they all import this module)
register_resolvers()


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a config group (callbacks, loggers) that has a ``_target_``."""
    if not group:
        return []
    return [
        hydra.utils.instantiate(entry)
        for entry in group.values()
        if isinstance(entry, DictConfig) and "_target_" in entry
    ]


def instantiate_callbacks(cfg: DictConfig) -> list[Callback]:
    """Build the Lightning callbacks listed in the config's callbacks group."""
    return instantiate_group(cfg.get("callbacks"))


def instantiate_loggers(cfg: DictConfig) -> list[Logger]:
    """Build the Lightning loggers listed in the config's logger group."""
    return instantiate_group(cfg.get("logger"))


@rank_zero_only
def print_config_tree(
    cfg: DictConfig, order: tuple[str, ...] = ("data", "model", "trainer", "callbacks", "logger", "paths")
) -> None:
    """Print the composed config as a rich tree, the groups that matter first."""
    import rich
    import rich.syntax
    import rich.tree

    tree = rich.tree.Tree("CONFIG", style="dim", guide_style="dim")
    keys = [k for k in order if k in cfg] + [k for k in cfg if k not in order]
    for key in keys:
        branch = tree.add(str(key), style="bold")
        value = cfg[key]
        text = OmegaConf.to_yaml(value, resolve=False) if isinstance(value, DictConfig) else str(value)
        branch.add(rich.syntax.Syntax(text, "yaml"))
    rich.print(tree)


def _number(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@rank_zero_only
def write_summary(out_dir: str | Path, metrics: dict[str, Any], **extra: Any) -> Path:
    """``summary.json``: final metrics under their logged names, plus run facts (best_ckpt, seed, split)."""
    path = Path(out_dir) / "summary.json"
    payload = {key: _number(value) for key, value in sorted(metrics.items())}
    payload.update({key: _number(value) for key, value in extra.items()})
    return atomic_write_text(path, json.dumps(payload, indent=2, default=str) + "\n")


def close_loggers(exit_code: int | None = None) -> None:
    """Finish an open W&B run so the next trial of a sweep logs to its own run; a non-zero
    ``exit_code`` marks the run failed in the dashboard."""
    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            wandb.finish(exit_code=exit_code)


def find_user_error(err: BaseException | None) -> DeepdanceError | None:
    """The DeepdanceError behind ``err``, also when Hydra's instantiate wrapped it.

    Only explicit causes (``raise ... from err``, as instantiate does) are followed: an error
    raised while handling a DeepdanceError (``__context__``) is a bug with its own traceback."""
    while err is not None:
        if isinstance(err, DeepdanceError):
            return err
        err = err.__cause__
    return None


def one_line(err: BaseException) -> str:
    """The message of a user error on one line, also when a DataLoader worker raised it
    (PyTorch re-raises it with the worker's traceback in the message)."""
    text = str(err).strip()
    if "Original Traceback" in text:
        last = text.splitlines()[-1]
        text = re.sub(r"^[\w.]+: ", "", last, count=1)
    return " ".join(text.split())


def use_compile_cache(cache_dir: str | None) -> None:
    """Keep torch.compile's kernels (model.compile=true) in ``paths.compile_cache_dir`` so later
    runs, sweep trials and DDP ranks start warm; a TORCHINDUCTOR_CACHE_DIR already set wins."""
    if cache_dir:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(cache_dir).resolve()))


def task_wrapper(
    task: Callable[[DictConfig], tuple[dict, dict]],
) -> Callable[[DictConfig], tuple[dict, dict]]:
    """Run a task so that a user error is one line (exit code 2), a crash is logged with the
    run dir, loggers are always closed (a failed run is marked failed), and DDP children re-run
    exactly this job and leave no state for the next one, so one run of a multirun is one
    output dir and one logger run, and a failed trial does not spill into the next."""

    @functools.wraps(task)
    def wrapped(cfg: DictConfig) -> tuple[dict, dict]:
        exit_code = 1
        use_compile_cache(OmegaConf.select(cfg, "paths.compile_cache_dir", default=None))
        try:
            with ddp_job_scope():
                result = task(cfg)
            exit_code = 0
            return result
        except Exception as err:
            user_error = find_user_error(err)
            if user_error is None:
                log.exception("run failed; its directory is %s", cfg.paths.get("output_dir"))
                raise
            message = one_line(user_error)
            log.error("%s", message)
            print(f"error: {message}", file=sys.stderr)
            close_loggers(exit_code=2)
            raise SystemExit(2) from None
        finally:
            close_loggers(exit_code=exit_code)

    return wrapped


def metric_value(metrics: dict[str, Any], name: str | None) -> float | None:
    """The value a sweeper optimises, or None with a warning when the run did not log it."""
    if not name:
        return None
    if name not in metrics:
        log.warning("optimized_metric=%s was not logged; logged: %s", name, ", ".join(sorted(metrics)))
        return None
    return float(_number(metrics[name]))
