"""Per-group means with a t-interval, and paired per-seed differences between two groups.

The t-interval (not a normal one) because a study has 3 to 10 seeds: with n = 4 the 97.5 %
quantile is 3.18, not 1.96. A paired difference on shared seeds removes what a seed does to
both recipes alike (the data order, the initial weights), so it is narrower than the two
intervals side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from deepdance.errors import DeepdanceError

LEVEL = 0.95
# A metric whose name holds one of these is better when lower; any other, when higher.
LOWER_IS_BETTER = ("loss", "mse", "error", "fdd", "time/")


@dataclass(frozen=True)
class Interval:
    """Mean, sample sd (ddof=1) and the two-sided t-interval of the mean; NaN below n = 2."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float


def t_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The ``level`` t-interval of the mean: mean ± t_{(1+level)/2, n-1} · sd / √n."""
    data = np.asarray(values, dtype=float)
    n = len(data)
    mean = float(data.mean()) if n else math.nan
    if n < 2:
        return Interval(n, mean, math.nan, math.nan, math.nan)
    sd = float(data.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half)


def lower_is_better(metric: str, lower: Iterable[str] = (), higher: Iterable[str] = ()) -> bool:
    """From the name (``*loss*``, ``*mse*``, ``*error*``, ``*fdd*``, ``time/*`` are lower-better),
    unless the metric is named in ``lower`` or ``higher``."""
    if metric in set(lower):
        return True
    if metric in set(higher):
        return False
    name = metric.lower()
    return any(word in name for word in LOWER_IS_BETTER)


def group_table(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per group and metric: ``group, metric, n, mean, sd, ci_low, ci_high``."""
    rows = []
    for group, metric_runs in runs[runs["metric"].isin(metrics)].groupby("group", sort=True):
        for metric in metrics:
            values = metric_runs.loc[metric_runs["metric"] == metric, "value"]
            if len(values):
                rows.append({"group": group, "metric": metric, **asdict(t_interval(values.tolist()))})
    return pd.DataFrame(rows, columns=["group", "metric", *Interval.__dataclass_fields__])


def _by_seed(runs: pd.DataFrame, group: str, metric: str) -> pd.Series:
    """The group's values of ``metric`` indexed by seed; a seed run twice is ambiguous."""
    rows = runs[(runs["group"] == group) & (runs["metric"] == metric) & runs["seed"].notna()]
    repeated = rows[rows["seed"].duplicated(keep=False)]
    if len(repeated):
        runs_named = ", ".join(repeated["run"])
        raise DeepdanceError(
            f"group {group!r} has seed {repeated['seed'].iloc[0]} twice ({runs_named}); "
            "a paired difference needs one run per seed"
        )
    return rows.set_index("seed")["value"]


def verdict(a: str, b: str, interval: Interval, lower_better: bool) -> str:
    """Who wins on B − A: only when the interval excludes zero, else "within noise"."""
    if interval.n < 2:
        return "too few seeds"
    if interval.ci_low > 0 or interval.ci_high < 0:
        b_larger = interval.ci_low > 0
        winner, loser = (b, a) if b_larger != lower_better else (a, b)
        return f"{winner} beats {loser}"
    return "within noise"


def paired_table(
    runs: pd.DataFrame,
    a: str,
    b: str,
    metrics: Sequence[str],
    lower: Iterable[str] = (),
    higher: Iterable[str] = (),
) -> pd.DataFrame:
    """Per metric, B − A on the seeds both groups ran, with its t-interval and a verdict."""
    known = set(runs["group"])
    for name in (a, b):
        if name not in known:
            raise DeepdanceError(f"--pair: unknown group {name!r}; the groups are {sorted(known)}")
    lower, higher = list(lower), list(higher)
    rows = []
    for metric in metrics:
        diff = (_by_seed(runs, b, metric) - _by_seed(runs, a, metric)).dropna()
        interval = t_interval(diff.tolist())
        better = "lower" if lower_is_better(metric, lower, higher) else "higher"
        rows.append(
            {
                "metric": metric,
                "a": a,
                "b": b,
                **asdict(interval),
                "better": better,
                "verdict": verdict(a, b, interval, better == "lower"),
            }
        )
    return pd.DataFrame(rows)
