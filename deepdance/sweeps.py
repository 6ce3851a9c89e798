"""Hyperparameter sweeps: resuming an Optuna study after a kill, and the table printed at the end.

The sweep itself is Hydra's (``-m``, ``hparams_search=...``, launchers); this module only adds
what the stock plugins lack:

* ``resume_study`` turns ``hydra.sweeper.n_trials`` into a budget for the whole study, so
  re-running a killed sweep with the same ``hydra.sweeper.storage`` runs only the trials that
  are left, and re-runs the ones the kill interrupted (used by the ``deepdance_optuna`` sweeper
  in ``hydra_plugins/``).
* ``TrialHeartbeat`` (a Hydra callback, run inside each job) keeps
  ``<sweep dir>/.heartbeats/<job>.json`` fresh while the job runs and records how it ended. A
  restarted driver re-runs a RUNNING trial only when its job is known to be dead: under SLURM
  the killed driver's jobs may still be running, and running them twice wastes the budget.
* ``SweepSummary`` (a Hydra callback, ``deepdance.sweep_summary``, named here for the configs)
  reads every job's ``summary.json`` when the sweep ends, prints a rich table and writes
  ``sweep_summary.csv`` beside Optuna's ``optimization_results.yaml``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from deepdance.sweep_summary import SweepSummary
from deepdance.utils.cache_io import atomic_write_text

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT_S",
    "ResumePlan",
    "SweepSummary",
    "TrialHeartbeat",
    "heartbeat_key",
    "heartbeat_path",
    "job_is_dead",
    "read_heartbeat",
    "resume_study",
    "write_heartbeat",
]

log = logging.getLogger(__name__)

# study user attribute: trials a kill left RUNNING
INTERRUPTED_KEY = "interrupted_trials"


HEARTBEAT_DIR = ".heartbeats"
# A RUNNING trial whose job gave no sign of life for this long is taken as dead.
DEFAULT_HEARTBEAT_TIMEOUT_S = 900.0


# ---------------------------------------------------------------------------- heartbeats
def heartbeat_path(sweep_dir: str | Path, job: int) -> Path:
    """Where job ``job`` of a sweep keeps its heartbeat (job number = Optuna trial number)."""
    return Path(sweep_dir) / HEARTBEAT_DIR / f"{job}.json"


def heartbeat_key(job: int) -> str:
    """The study user attribute naming job ``job``'s heartbeat file: found again even when a
    resumed sweep writes to another sweep dir."""
    return f"heartbeat:{job}"


def write_heartbeat(
    path: Path, state: str, study: str | None, pid: int | None, value: float | None = None
) -> None:
    """``state`` is ``launched`` (by the driver), ``running``, ``done`` or ``failed`` (by the job)."""
    beat = {
        "state": state,
        "study": study,
        "host": socket.gethostname(),
        "pid": pid,
        "time": time.time(),
        "value": value,
    }
    atomic_write_text(path, json.dumps(beat))


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    """A heartbeat that is missing or half-written counts as none, not as an error."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_is_dead(beat: dict[str, Any] | None, started: float, timeout_s: float, now: float) -> bool:
    """Known dead: it ended, its process on this host is gone, or no sign of life for ``timeout_s``.

    ``started`` is when the trial was asked for: a job still queued (no heartbeat yet) counts
    as alive until then + ``timeout_s``.
    """
    if beat and beat.get("state") in ("done", "failed"):
        return True
    if beat and beat.get("pid") and beat.get("host") == socket.gethostname() and not _pid_alive(beat["pid"]):
        return True
    last = max(started, float(beat["time"])) if beat else started
    return now - last > timeout_s


class TrialHeartbeat(Callback):
    """Inside each multirun job: rewrite the job's heartbeat every ``interval_s`` seconds, and
    record at the end whether it finished and with what value, so a restarted driver can tell
    live jobs from dead ones (``resume_study``) and keep the results of jobs that outlived it.
    ``timeout_s`` is read by the driver: no heartbeat for that long means the job is dead."""

    def __init__(self, interval_s: float = 60.0, timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S) -> None:
        if not 0 < interval_s < timeout_s:
            raise ValueError(
                f"hydra.callbacks.trial_heartbeat: needs 0 < interval_s < timeout_s, "
                f"got interval_s={interval_s} timeout_s={timeout_s}"
            )
        self.interval_s, self.timeout_s = float(interval_s), float(timeout_s)
        self._stop: threading.Event | None = None
        self._beat: threading.Thread | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Launchers pickle callbacks into their jobs; a job starts its own beat.
        return {**self.__dict__, "_stop": None, "_beat": None}

    @staticmethod
    def _where(config: DictConfig) -> tuple[Path, str | None] | None:
        mode = OmegaConf.select(config, "hydra.mode", default=None)
        if getattr(mode, "name", mode) != "MULTIRUN":
            return None
        study = OmegaConf.select(config, "hydra.sweeper.study_name", default=None)
        # The driver's cwd: a job that changed directory still finds the driver's sweep dir.
        sweep_dir = Path(config.hydra.runtime.cwd) / str(config.hydra.sweep.dir)
        return heartbeat_path(sweep_dir, int(config.hydra.job.num)), study

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        where = self._where(config)
        if where is None:
            return
        path, study = where
        write_heartbeat(path, "running", study, os.getpid())
        stop = self._stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.interval_s):
                write_heartbeat(path, "running", study, os.getpid())

        self._beat = threading.Thread(target=beat, name="trial-heartbeat", daemon=True)
        self._beat.start()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self._stop is not None:
            self._stop.set()
        # A beat already writing "running" must finish before "done" is written, or it could
        # overwrite it and a finished trial would look alive to a resumed sweep.
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        where = self._where(config)
        if where is None:
            return
        path, study = where
        value = None
        if job_return.status.name == "COMPLETED":
            try:
                value = float(job_return.return_value)
            except (TypeError, ValueError):
                pass
        state = "done" if value is not None else "failed"
        write_heartbeat(path, state, study, os.getpid(), value)


# ---------------------------------------------------------------------------- resuming
@dataclass(frozen=True)
class ResumePlan:
    """How a resumed sweep reaches its trial budget without re-running finished trials."""

    # trials still to run for the study to reach its budget
    remaining: int
    # job number of the next trial (= its Optuna trial number)
    first_job: int
    # trials finished before this invocation (complete, pruned or failed)
    finished: int
    # interrupted trials queued again with their parameters
    rerun: int
    # RUNNING trials whose jobs are still alive: left to finish, not re-run
    live: int = 0


def _settle(study: Any, trial: Any, beat: dict[str, Any] | None, timeout_s: float, now: float) -> str:
    """What to do with a RUNNING trial: ``live`` (leave it), ``rerun``, or ``told`` (its job
    finished after the driver died: its heartbeat carries the value, recorded now). A job that
    ended in an error (a preemption, say) is re-run, as any interrupted trial."""
    from optuna.trial import TrialState

    started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
    if beat is not None and (
        beat.get("study") not in (None, study.study_name) or float(beat["time"]) < started
    ):
        # A leftover of another study or an earlier run in the same sweep dir.
        beat = None
    if beat is not None and beat.get("state") == "done" and beat.get("value") is not None:
        study.tell(trial.number, float(beat["value"]), state=TrialState.COMPLETE)
        return "told"
    return "rerun" if job_is_dead(beat, started, timeout_s, now) else "live"


def _fates(study: Any, trials: list[Any], sweep_dir: str | Path | None, timeout_s: float) -> dict[int, str]:
    """``_settle`` for every RUNNING trial, on the heartbeat its launch recorded in the study
    (else the one in ``sweep_dir``)."""
    from optuna.trial import TrialState

    now = time.time()
    fate = {}
    for trial in (t for t in trials if t.state == TrialState.RUNNING):
        path = study.user_attrs.get(heartbeat_key(trial.number))
        if path is None and sweep_dir is not None:
            path = heartbeat_path(sweep_dir, trial.number)
        beat = read_heartbeat(Path(path)) if path is not None else None
        fate[trial.number] = _settle(study, trial, beat, timeout_s, now)
    return fate


def _requeue(study: Any, killed: list[Any], interrupted: set[int]) -> None:
    """Mark killed trials FAIL, remember them as interrupted, and enqueue their parameters again."""
    import optuna
    from optuna.trial import TrialState

    for trial in killed:
        study.tell(trial.number, state=TrialState.FAIL)
        interrupted.add(trial.number)
    if killed:
        study.set_user_attr(INTERRUPTED_KEY, sorted(interrupted))
    # enqueue_trial is "experimental" in optuna 2.x, and what we need
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for trial in killed:
            study.enqueue_trial(trial.params)


def _log_plan(
    study_name: str, storage: str, n_trials: int, plan: ResumePlan, waiting: int, timeout_s: float
) -> None:
    log.info(
        "study %s in %s: %d of %d trials finished, %d interrupted trial(s) queued again, %d to run%s",
        *(study_name, storage, plan.finished, n_trials, plan.rerun, plan.remaining),
        f" ({waiting} already queued)" if waiting else "",
    )
    if plan.live:
        log.warning(
            "%d trial(s) of study %s are still running in jobs of an earlier driver (heartbeat younger "
            "than %.0f s): left to finish, not re-run; resume again after they end to record their results",
            *(plan.live, study_name, timeout_s),
        )


def resume_study(
    storage: str,
    study_name: str,
    n_trials: int,
    sweep_dir: str | Path | None = None,
    timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
) -> ResumePlan:
    """Count what a stored study has done and queue what a kill interrupted.

    A trial still RUNNING when a new sweep starts is re-run only when its job is known to be
    dead (``job_is_dead`` on the heartbeat its launch recorded in the study, else the one in
    ``sweep_dir``): it is marked FAIL, remembered in
    the study's ``interrupted_trials`` attribute (so it does not use up the budget) and enqueued
    again with the same parameters. A live one is left running and counts against the budget;
    a job that finished after its driver died has its result recorded from its heartbeat.
    """
    import optuna
    from optuna.trial import TrialState

    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    # a new study
    except KeyError:
        return ResumePlan(remaining=n_trials, first_job=0, finished=0, rerun=0)
    # Copies: the states below are those before this call changes any.
    trials = study.get_trials(deepcopy=True)
    interrupted = set(study.user_attrs.get(INTERRUPTED_KEY, []))
    fate = _fates(study, trials, sweep_dir, timeout_s)
    killed = [t for t in trials if fate.get(t.number) == "rerun"]
    live = sum(f == "live" for f in fate.values())
    _requeue(study, killed, interrupted)
    told = sum(f == "told" for f in fate.values())
    finished = told + sum(t.state.is_finished() and t.number not in interrupted for t in trials)
    plan = ResumePlan(
        remaining=max(n_trials - finished - live, 0),
        first_job=len(trials),
        finished=finished,
        rerun=len(killed),
        live=live,
    )
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    _log_plan(study_name, storage, n_trials, plan, waiting, timeout_s)
    return plan
