"""One Hydra job = one DDP run, also inside a multirun.

Lightning's ``strategy=ddp`` starts ranks 1..N-1 by re-running the command line
(``sys.argv``) with ``hydra.run.dir=<run dir> hydra.job.name=train_ddp_process_<rank>
hydra.output_subdir=null``. That is right for a single run and wrong for a multirun: the
children get ``-m`` and the whole sweep, so they start a sweep of their own in other
directories, drift onto other jobs and the collectives deadlock or crash (Lightning issue
#11300, lightning-hydra-template #393). And the parent leaves ``LOCAL_RANK``/``MASTER_PORT``
and an open process group behind, so the next job of the sweep spawns no children at all.

``ddp_job_scope`` fixes both around one job: children re-run exactly this job (its own
overrides, its own output dir, no sweep), and the job hands the next one a clean process.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

log = logging.getLogger(__name__)

# What Lightning's subprocess launcher writes into the parent's environment.
LAUNCHER_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")

# Hydra settings of the sweep itself: a child runs one job, never the sweep again.
SWEEP_ONLY_OVERRIDES = (
    "hydra.mode",
    "hydra.sweep",
    "hydra/sweeper",
    "hydra.sweeper",
    "hydra/launcher",
    "hydra.launcher",
    "hydra.run.dir",
    "hydra.job.name",
    "hydra.output_subdir",
    "hydra.job.num",
    "hydra.job.id",
)


def _quote(value: str) -> str:
    """A Hydra override value that survives paths with ``=``, spaces or brackets."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def job_command(local_rank: int, entry_module: str | None = None) -> tuple[Sequence[str], str]:
    """The command line that makes rank ``local_rank`` of the current Hydra job (Lightning's
    ``_hydra_subprocess_cmd`` contract: ``(command, cwd)``).

    ``entry_module`` is the module whose ``@hydra.main`` function runs the job (``deepdance.train``):
    under the joblib and submitit launchers ``__main__`` is the launcher's worker, not ours;
    ``__main__`` (``python -m deepdance.train`` itself) falls back to ``__main__.__spec__``.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from hydra.utils import get_original_cwd, to_absolute_path

    import __main__

    hydra_cfg = HydraConfig.get()
    if entry_module and entry_module != "__main__":
        command = [sys.executable, "-m", entry_module]
    elif __main__.__spec__ is None:
        command = [sys.executable, to_absolute_path(sys.argv[0])]
    else:
        command = [sys.executable, "-m", __main__.__spec__.name]
    if hydra_cfg.mode == RunMode.MULTIRUN:
        # This job's overrides (sweep values resolved), never the sweep's command line.
        command.append(f"--config-name={hydra_cfg.job.config_name}")
        for source in hydra_cfg.runtime.config_sources:
            if source.provider == "command-line":
                command.append(f"--config-dir={source.path.removeprefix('file://')}")
        command += list(hydra_cfg.overrides.task)
        command += [
            o for o in hydra_cfg.overrides.hydra if not o.lstrip("+~").startswith(SWEEP_ONLY_OVERRIDES)
        ]
    else:
        command += sys.argv[1:]
    # hydra.mode=RUN: a config may set hydra.mode=MULTIRUN (hparams_search).
    command += [
        f"hydra.run.dir={_quote(hydra_cfg.runtime.output_dir)}",
        f"hydra.job.name=train_ddp_process_{local_rank}",
        "hydra.output_subdir=null",
        "hydra.mode=RUN",
    ]
    return command, get_original_cwd()


def hydra_task_module() -> str | None:
    """The module of the function Hydra runs as this job (``deepdance.train``), read from the
    ``task_function`` of Hydra's ``run_job`` up the stack: the same under every launcher."""
    import inspect

    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_code.co_name == "run_job" and "task_function" in frame.f_locals:
            return getattr(frame.f_locals["task_function"], "__module__", None)
        frame = frame.f_back
    return None


def _install_job_command(entry_module: str | None) -> None:
    """Point Lightning's DDP launchers at ``job_command`` (they import the builder by name)."""
    import lightning_fabric.strategies.launchers.subprocess_script as fabric_launcher
    import pytorch_lightning.strategies.launchers.subprocess_script as pl_launcher

    for module in (fabric_launcher, pl_launcher):
        if not hasattr(module, "_hydra_subprocess_cmd"):
            log.warning(
                "%s has no _hydra_subprocess_cmd: DDP children under a Hydra multirun may re-run the sweep",
                module.__name__,
            )
            continue
        module._hydra_subprocess_cmd = functools.partial(job_command, entry_module=entry_module)


def release_process_group() -> None:
    """Close the job's process group: Lightning leaves it open after fit/test, and the next
    job of a sweep would otherwise reuse it with children that have already exited."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def ddp_job_scope() -> Iterator[None]:
    """Run one Hydra job so its DDP children re-run exactly it, and leave no DDP state behind.

    Variables that were set before the job (by SLURM, torchrun, or the parent of a DDP
    child) are kept: only what Lightning's launcher added during the job is removed. One scope
    per job: the stages of one command (``deepdance.run.stages``) run inside a single one, so
    the ranks the first stage starts live on to the next.
    """
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        _install_job_command(hydra_task_module())
    before = {key: os.environ.get(key) for key in LAUNCHER_ENV}
    try:
        yield
    finally:
        # This process launched the ranks: it owns their state.
        if before["LOCAL_RANK"] is None:
            release_process_group()
            for key, value in before.items():
                if value is None:
                    os.environ.pop(key, None)
