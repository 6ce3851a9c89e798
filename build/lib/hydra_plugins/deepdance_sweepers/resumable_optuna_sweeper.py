"""Hydra's Optuna sweeper with a study that resumes: ``hydra.sweeper.n_trials`` is the budget of
the whole study in ``hydra.sweeper.storage``, so re-running a killed sweep runs only what is left.

Hydra only instantiates sweepers from the ``hydra_plugins`` package, hence this module; the
logic lives in ``deepdance.sweeps``. Selected by ``conf/hparams_search/*.yaml``::

    hydra:
      sweeper:
        _target_: hydra_plugins.deepdance_sweepers.resumable_optuna_sweeper.ResumableOptunaSweeper
"""

from __future__ import annotations

from typing import List

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class ResumableOptunaSweeper(OptunaSweeper):
    def sweep(self, arguments: List[str]) -> None:
        impl = self.sweeper
        if impl.storage is not None:
            from deepdance.errors import DeepdanceError
            from deepdance.sweeps import resume_study

            if not impl.study_name:
                raise DeepdanceError(f"hydra.sweeper.storage={impl.storage} needs hydra.sweeper.study_name: "
                                     "a resumed sweep finds its study by name")
            plan = resume_study(str(impl.storage), impl.study_name, impl.n_trials)
            impl.n_trials = plan.remaining
            impl.job_idx = plan.first_job  # job dirs keep the Optuna trial numbers across resumes
            sampler = impl.config.hydra.sweeper.sampler
            if plan.first_job and sampler.get("seed") is not None and not sampler.get("_partial_"):
                # A seeded sampler made anew would propose the first trials' points again.
                from hydra.utils import instantiate

                impl.sampler = instantiate(sampler, seed=int(sampler.seed) + plan.first_job)
        return impl.sweep(arguments)
