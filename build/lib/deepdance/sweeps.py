"""Hyperparameter sweeps: resuming an Optuna study after a kill, and the table printed at the end.

The sweep itself is Hydra's (``-m``, ``hparams_search=...``, launchers); this module only adds
what the stock plugins lack:

* ``resume_study`` turns ``hydra.sweeper.n_trials`` into a budget for the whole study, so
  re-running a killed sweep with the same ``hydra.sweeper.storage`` runs only the trials that
  are left, and re-runs the one the kill interrupted (used by the ``deepdance_optuna`` sweeper
  in ``hydra_plugins/``).
* ``SweepSummary`` (a Hydra callback) reads every job's ``summary.json`` when the sweep ends,
  prints a rich table and writes ``sweep_summary.csv`` beside Optuna's
  ``optimization_results.yaml``.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

INTERRUPTED_KEY = "interrupted_trials"  # study user attribute: trials a kill left RUNNING


@dataclass(frozen=True)
class ResumePlan:
    remaining: int   # trials still to run for the study to reach its budget
    first_job: int   # job number of the next trial (= its Optuna trial number)
    finished: int    # trials finished before this invocation (complete, pruned or failed)
    rerun: int       # interrupted trials queued again with their parameters


def resume_study(storage: str, study_name: str, n_trials: int) -> ResumePlan:
    """Count what a stored study has done and queue what a kill interrupted.

    A trial still RUNNING when a new sweep starts was killed with its sweep (the sweeper runs
    trials itself, so nothing else is running them): it is marked FAIL, remembered in the study's
    ``interrupted_trials`` attribute (so it does not use up the budget) and enqueued again with
    the same parameters.
    """
    import optuna
    from optuna.trial import TrialState

    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # a new study
        return ResumePlan(remaining=n_trials, first_job=0, finished=0, rerun=0)
    trials = study.get_trials(deepcopy=False)
    interrupted = set(study.user_attrs.get(INTERRUPTED_KEY, []))
    killed = [t for t in trials if t.state == TrialState.RUNNING]
    for trial in killed:
        study.tell(trial.number, state=TrialState.FAIL)
        interrupted.add(trial.number)
    if killed:
        study.set_user_attr(INTERRUPTED_KEY, sorted(interrupted))
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    with warnings.catch_warnings():  # enqueue_trial is "experimental" in optuna 2.x, and what we need
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for trial in killed:
            study.enqueue_trial(trial.params)
    finished = sum(t.state.is_finished() and t.number not in interrupted for t in trials)
    plan = ResumePlan(remaining=max(n_trials - finished, 0), first_job=len(trials), finished=finished, rerun=len(killed))
    log.info("study %s in %s: %d of %d trials finished, %d interrupted trial(s) queued again, %d to run%s",
             study_name, storage, finished, n_trials, len(killed), plan.remaining,
             f" ({waiting} already queued)" if waiting else "")
    return plan


# ---------------------------------------------------------------------------- summary table
def _parse_override(override: str) -> tuple[str, str] | None:
    key, sep, value = override.partition("=")
    return (key.lstrip("+~"), value) if sep else None


def collect_sweep(sweep_dir: str | Path, metric: str | None) -> pd.DataFrame:
    """One row per job dir of ``sweep_dir``: its swept overrides and ``metric`` from its summary.json."""
    rows = []
    for job_dir in sorted((p for p in Path(sweep_dir).iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)):
        overrides_file = job_dir / ".hydra" / "overrides.yaml"
        overrides = OmegaConf.to_container(OmegaConf.load(overrides_file)) if overrides_file.is_file() else []
        row: dict[str, Any] = {"job": int(job_dir.name)}
        row.update(dict(filter(None, map(_parse_override, overrides))))
        summary_file = job_dir / "summary.json"
        if summary_file.is_file():
            summary = json.loads(summary_file.read_text())
            row[metric or "metric"] = summary.get(metric) if metric else None
            row["status"] = "done"
        else:
            row[metric or "metric"] = None
            row["status"] = "no summary.json"
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table) > 1:  # keep what the sweep varied; settings shared by every job say nothing
        fixed = [c for c in table.columns if c not in ("job", "status", metric or "metric") and table[c].astype(str).nunique() == 1]
        table = table.drop(columns=fixed)
    return table


def short_name(name: str, names: Any) -> str:
    """``model.head.dropout`` -> ``dropout`` when no other column ends the same way (narrow terminals)."""
    last = name.rsplit(".", 1)[-1]
    return last if sum(str(n).rsplit(".", 1)[-1] == last for n in names) == 1 else name


def format_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(value) if float(number).is_integer() and "." not in str(value) else f"{number:.4g}"


def _direction(config: DictConfig) -> str | None:
    direction = OmegaConf.select(config, "hydra.sweeper.direction", default=None)
    if direction is None:
        return None
    name = getattr(direction, "name", str(direction)).lower()
    return name if name in ("minimize", "maximize") else None


class SweepSummary(Callback):
    """At the end of a multirun: a rich table of every job (swept values, the optimised metric,
    best first when the sweeper has a direction), saved as ``sweep_summary.csv``, and Optuna's
    best parameters and value from ``optimization_results.yaml``."""

    def __init__(self, filename: str = "sweep_summary.csv") -> None:
        self.filename = filename

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            self.report(config)
        except Exception:  # a summary must never turn a finished sweep into a failed one
            log.exception("could not summarise the sweep in %s", config.hydra.sweep.dir)

    def report(self, config: DictConfig) -> pd.DataFrame | None:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        if not console.is_terminal:  # a log file: do not squeeze the table into 80 columns
            console = Console(width=200)

        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return None
        metric = config.get("optimized_metric")
        table = collect_sweep(sweep_dir, metric)
        if table.empty:
            return None
        direction = _direction(config)
        column = metric or "metric"
        if direction:
            table = table.sort_values(column, ascending=direction == "minimize", na_position="last", kind="stable")
        table.to_csv(sweep_dir / self.filename, index=False)

        title = f"sweep {sweep_dir}" + (f" ({direction} {metric})" if direction else "")
        view = Table(title=title, title_justify="left")
        for name in table.columns:
            view.add_column(short_name(str(name), table.columns), justify="right" if name in ("job", column) else "left")
        for i, (_, row) in enumerate(table.iterrows()):
            cells = [format_cell(v) for v in row]
            view.add_row(*cells, style="bold green" if direction and i == 0 and pd.notna(row[column]) else None)
        console.print(view)

        results_file = sweep_dir / "optimization_results.yaml"
        if results_file.is_file():
            results = OmegaConf.load(results_file)
            if "best_value" in results:
                params = ", ".join(f"{k}={v}" for k, v in results.best_params.items())
                console.print(f"[bold]best {metric}[/bold] = {results.best_value:.4g} with {params}  ({results_file})")
        log.info("sweep summary: %s", sweep_dir / self.filename)
        return table
