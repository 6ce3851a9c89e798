"""Hydra's Optuna sweeper with a study that resumes: ``hydra.sweeper.n_trials`` is the budget of
the whole study in ``hydra.sweeper.storage``, so re-running a killed sweep runs only what is left.

Hydra only instantiates sweepers from the ``hydra_plugins`` package, hence this module; the
logic lives in ``deepdance.sweeps``. Selected by ``conf/hparams_search/*.yaml``::

    hydra:
      sweeper:
        _target_: hydra_plugins.deepdance_sweepers.resumable_optuna_sweeper.ResumableOptunaSweeper

A restarted driver re-runs a trial left RUNNING only when its job is known to be dead (see
``deepdance.sweeps.TrialHeartbeat``; the timeout is ``hydra.callbacks.trial_heartbeat.timeout_s``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hydra.core.utils import JobReturn
from omegaconf import DictConfig

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


def heartbeat_timeout(config: DictConfig) -> float:
    """``timeout_s`` of the ``TrialHeartbeat`` callback in ``hydra.callbacks`` (else the default)."""
    from deepdance.sweeps import DEFAULT_HEARTBEAT_TIMEOUT_S

    for callback in (config.hydra.get("callbacks") or {}).values():
        if str(callback.get("_target_", "")).endswith("TrialHeartbeat"):
            return float(callback.get("timeout_s", DEFAULT_HEARTBEAT_TIMEOUT_S))
    return DEFAULT_HEARTBEAT_TIMEOUT_S


def record_launches(launcher: Any, sweep_dir: str, storage: str, study_name: str) -> None:
    """Write a ``launched`` heartbeat for each job before the launcher starts it, and note its
    path in the study (job number = trial number), where a restarted driver looks for it.

    Jobs of Hydra's basic launcher run in this process, so its pid tells a later driver on
    this host that they died with it; other launchers' jobs carry on alone (pid left out) and
    are judged by their own heartbeats.
    """
    import optuna
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    from deepdance.sweeps import heartbeat_key, heartbeat_path, write_heartbeat

    launch = launcher.launch
    pid = os.getpid() if isinstance(launcher, BasicLauncher) else None

    def launch_recorded(job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        study = optuna.load_study(study_name=study_name, storage=storage)
        for job in range(initial_job_idx, initial_job_idx + len(job_overrides)):
            path = heartbeat_path(sweep_dir, job).resolve()
            write_heartbeat(path, "launched", study_name, pid)
            study.set_user_attr(heartbeat_key(job), str(path))
        return launch(job_overrides, initial_job_idx)

    launcher.launch = launch_recorded


class ResumableOptunaSweeper(OptunaSweeper):
    """The Optuna sweeper, made to resume an interrupted study instead of starting it again."""

    def sweep(self, arguments: list[str]) -> None:
        impl = self.sweeper
        if impl.storage is not None:
            from deepdance.errors import DeepdanceError
            from deepdance.sweeps import resume_study

            if not impl.study_name:
                raise DeepdanceError(
                    f"hydra.sweeper.storage={impl.storage} needs hydra.sweeper.study_name: "
                    "a resumed sweep finds its study by name"
                )
            sweep_dir = str(impl.config.hydra.sweep.dir)
            plan = resume_study(
                str(impl.storage), impl.study_name, impl.n_trials, sweep_dir, heartbeat_timeout(impl.config)
            )
            record_launches(impl.launcher, sweep_dir, str(impl.storage), impl.study_name)
            impl.n_trials = plan.remaining
            # job dirs keep the Optuna trial numbers across resumes
            impl.job_idx = plan.first_job
            sampler = impl.config.hydra.sweeper.sampler
            if plan.first_job and sampler.get("seed") is not None and not sampler.get("_partial_"):
                # A seeded sampler made anew would propose the first trials' points again.
                from hydra.utils import instantiate

                impl.sampler = instantiate(sampler, seed=int(sampler.seed) + plan.first_job)
        return impl.sweep(arguments)
