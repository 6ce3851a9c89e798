"""The table printed when a sweep ends: every job's swept values and optimised metric, best
first, saved as ``sweep_summary.csv`` beside Optuna's ``optimization_results.yaml``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("deepdance.sweeps")


def _parse_override(override: str) -> tuple[str, str] | None:
    key, sep, value = override.partition("=")
    return (key.lstrip("+~"), value) if sep else None


def collect_sweep(sweep_dir: str | Path, metric: str | None) -> pd.DataFrame:
    """One row per job dir of ``sweep_dir``: its swept overrides and ``metric`` from its summary.json."""
    rows = []
    for job_dir in sorted(
        (p for p in Path(sweep_dir).iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    ):
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
    # keep what the sweep varied; settings shared by every job say nothing
    if len(table) > 1:
        fixed = [
            c
            for c in table.columns
            if c not in ("job", "status", metric or "metric") and table[c].astype(str).nunique() == 1
        ]
        table = table.drop(columns=fixed)
    return table


def short_name(name: str, names: Any) -> str:
    """``model.head.dropout`` -> ``dropout`` when no other column ends the same way (narrow terminals)."""
    last = name.rsplit(".", 1)[-1]
    return last if sum(str(n).rsplit(".", 1)[-1] == last for n in names) == 1 else name


def format_cell(value: Any) -> str:
    """Format one table cell: blanks for missing values, short numbers for floats."""
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
        # a summary must never turn a finished sweep into a failed one
        except Exception:
            log.exception("could not summarise the sweep in %s", config.hydra.sweep.dir)

    def report(self, config: DictConfig) -> pd.DataFrame | None:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        # a log file: do not squeeze the table into 80 columns
        if not console.is_terminal:
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
            table = table.sort_values(
                column, ascending=direction == "minimize", na_position="last", kind="stable"
            )
        table.to_csv(sweep_dir / self.filename, index=False)

        title = f"sweep {sweep_dir}" + (f" ({direction} {metric})" if direction else "")
        view = Table(title=title, title_justify="left")
        for name in table.columns:
            view.add_column(
                short_name(str(name), table.columns), justify="right" if name in ("job", column) else "left"
            )
        for i, (_, row) in enumerate(table.iterrows()):
            cells = [format_cell(v) for v in row]
            view.add_row(
                *cells, style="bold green" if direction and i == 0 and pd.notna(row[column]) else None
            )
        console.print(view)

        results_file = sweep_dir / "optimization_results.yaml"
        if results_file.is_file():
            results = OmegaConf.load(results_file)
            if "best_value" in results:
                params = ", ".join(f"{k}={v}" for k, v in results.best_params.items())
                console.print(
                    f"[bold]best {metric}[/bold] = {results.best_value:.4g} with {params}  ({results_file})"
                )
        log.info("sweep summary: %s", sweep_dir / self.filename)
        return table
