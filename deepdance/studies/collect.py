"""Find the runs under a study's folders and say which group each belongs to.

A run's group is what was changed on its command line, minus the seed and minus what every run
of the study gives (``print_config=false``): runs that differ only
in their seed are repeats of one recipe. Hydra records a run's own overrides in
``.hydra/overrides.yaml`` (under a multirun, the one job's values, not the sweep's); without it
(``hydra.output_subdir=null``, or a copy of the summaries only) the run's parent folder names
the group. ``run_info.json`` is not used: its command line is the whole sweep under ``-m``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from deepdance.errors import DeepdanceError

SUMMARY = "summary.json"
OVERRIDES = Path(".hydra") / "overrides.yaml"
# Keys of summary.json that describe the run, not a result.
NOT_METRICS = frozenset({"seed"})
COLUMNS = ["run", "group", "seed", "metric", "value"]


def find_summaries(dirs: list[Path]) -> list[Path]:
    """Every ``summary.json`` under ``dirs`` (recursively), once each, sorted."""
    for folder in dirs:
        if not folder.is_dir():
            raise DeepdanceError(f"{folder}: no such directory; give run or multirun directories")
    found = {path.resolve() for folder in dirs for path in folder.rglob(SUMMARY) if path.is_file()}
    if not found:
        names = ", ".join(str(folder) for folder in dirs)
        raise DeepdanceError(f"no {SUMMARY} under {names}; give directories of finished runs")
    return sorted(found)


def _override_key(override: str) -> str:
    """``++model.lr=0.1`` -> ``model.lr``; ``~seed`` -> ``seed``."""
    return override.split("=", 1)[0].lstrip("+~")


def run_overrides(run_dir: Path, inputs: frozenset[str] = frozenset()) -> list[str] | None:
    """The run's own overrides minus the seed and minus the keys in ``inputs`` (those naming what
    the run reads, such as an earlier run's checkpoint of the same seed), in the order given;
    None without ``.hydra/``."""
    path = run_dir / OVERRIDES
    if not path.is_file():
        return None
    overrides = [str(item) for item in OmegaConf.to_container(OmegaConf.load(path))]
    return [item for item in overrides if _override_key(item) != "seed" and _override_key(item) not in inputs]


def run_group(
    run_dir: Path, shared: frozenset[str] = frozenset(), inputs: frozenset[str] = frozenset()
) -> str:
    """The run's overrides minus the seed, the ``inputs`` keys and ``shared`` (those every run of
    the study gives, such as ``print_config=false``), or its parent folder's name without ``.hydra/``."""
    overrides = run_overrides(run_dir, inputs)
    if overrides is None:
        return run_dir.parent.name
    return " ".join(item for item in overrides if item not in shared) or "(defaults)"


def shared_overrides(run_dirs: list[Path], inputs: frozenset[str] = frozenset()) -> frozenset[str]:
    """Overrides that every run gives: they name no group, so they are left out of the labels."""
    lists = [run_overrides(run_dir, inputs) for run_dir in run_dirs]
    if len(lists) < 2 or any(item is None for item in lists):
        return frozenset()
    return frozenset.intersection(*(frozenset(item) for item in lists))


def read_summary(path: Path) -> dict:
    """One run's summary.json; an unreadable one is a one-line error naming the file."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DeepdanceError(f"{path}: not a readable summary.json ({err})") from err
    if not isinstance(summary, dict):
        raise DeepdanceError(f"{path}: expected a JSON object of metric names to numbers")
    return summary


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pooled_repeat(run_dir: Path, seed: object, pool: frozenset[str]) -> object:
    """The repeat a run is within its group: its seed, or with pooled keys (``data.fold``) the
    pooled values and the seed, so that a paired difference matches fold k seed s with fold k seed s."""
    if not pool or seed is None:
        return seed
    overrides = run_overrides(run_dir) or []
    pooled = sorted(item.lstrip("+~") for item in overrides if _override_key(item) in pool)
    return " ".join([*pooled, f"seed={seed}"])


def collect_runs(
    dirs: list[Path], inputs: frozenset[str] = frozenset(), pool: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """One row per run and numeric metric: ``run, group, seed, metric, value``. Overrides of the
    keys in ``inputs`` (``model.autoencoder_ckpt``: each seed reads its own) name no group; those in
    ``pool`` (``data.fold``) name no group either and count as repeats beside the seed."""
    rows = []
    paths = find_summaries(dirs)
    shared = shared_overrides([path.parent for path in paths], inputs | pool)
    for path in paths:
        summary = read_summary(path)
        seed = pooled_repeat(path.parent, summary.get("seed"), pool)
        group = run_group(path.parent, shared, inputs | pool)
        for metric, value in summary.items():
            if metric not in NOT_METRICS and _is_number(value):
                rows.append((str(path.parent), group, seed, metric, float(value)))
    return pd.DataFrame(rows, columns=COLUMNS)


def split_baselines(runs: pd.DataFrame, suffixes: list[str]) -> pd.DataFrame:
    """Metrics a run reports for its own baselines (``test/next_mse_ridge`` beside
    ``test/next_mse``) become the same metric in a group of their own (``<group> ridge``), so
    that the model and each baseline pair up seed by seed like two recipes do."""
    runs = runs.copy()
    for suffix in suffixes:
        is_baseline = runs["metric"].str.endswith(suffix)
        runs.loc[is_baseline, "group"] = runs.loc[is_baseline, "group"] + " " + suffix.lstrip("_")
        runs.loc[is_baseline, "metric"] = runs.loc[is_baseline, "metric"].str.removesuffix(suffix)
    return runs
