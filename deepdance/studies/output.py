"""The report's files (``report.md``, ``groups.csv``, ``paired.csv``, one PNG per metric) and,
when a W&B run is active, the same tables logged to it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from deepdance.studies.charts import interval_chart
from deepdance.studies.owned_dir import OwnedDir

GROUPS_CSV = "groups.csv"
PAIRED_CSV = "paired.csv"
MARKDOWN = "report.md"


def chart_name(metric: str) -> str:
    """``test/acc`` -> ``test_acc.png``: a metric name as a plain file name."""
    return re.sub(r"[^\w.-]+", "_", metric) + ".png"


def _number(value: object) -> str:
    return "" if pd.isna(value) else f"{value:.4f}"


def _markdown_table(table: pd.DataFrame, headers: dict[str, str]) -> str:
    """A pipe table of ``table``'s ``headers`` columns; floats with 4 decimals."""
    lines = ["| " + " | ".join(headers.values()) + " |", "|" + "---|" * len(headers)]
    for row in table.itertuples(index=False):
        cells = [
            _number(value) if isinstance(value, float) else str(value).replace("|", "\\|")
            for value in (getattr(row, column) for column in headers)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(groups: pd.DataFrame, paired: pd.DataFrame | None) -> str:
    """The report as markdown: the groups table, then each pair's paired differences."""
    text = (
        "# Study report\n\nPer group and metric: n seeds, mean, sample sd, 95 % t-interval of the mean.\n\n"
    )
    text += _markdown_table(
        groups,
        {
            "group": "group",
            "metric": "metric",
            "n": "n",
            "mean": "mean",
            "sd": "sd",
            "ci_low": "95 % CI low",
            "ci_high": "95 % CI high",
        },
    )
    pairs = [] if paired is None else list(dict.fromkeys(zip(paired["a"], paired["b"], strict=True)))
    for a, b in pairs:
        text += (
            f"\n## Paired per-seed difference: B − A (A = `{a}`, B = `{b}`)\n\n"
            "A side wins only where the interval excludes zero.\n\n"
        )
        text += _markdown_table(
            paired[(paired["a"] == a) & (paired["b"] == b)],
            {
                "metric": "metric",
                "n": "n",
                "mean": "mean (B − A)",
                "sd": "sd",
                "ci_low": "95 % CI low",
                "ci_high": "95 % CI high",
                "better": "better",
                "verdict": "verdict",
            },
        )
    return text


def log_to_wandb(groups: pd.DataFrame, paired: pd.DataFrame | None) -> bool:
    """Log the tables to the active W&B run; ``False`` when none is active. A process that
    never imported wandb has no run, so it is not imported here (a slow import)."""
    wandb = sys.modules.get("wandb")
    if wandb is None or wandb.run is None:
        return False
    tables = {"report/groups": wandb.Table(dataframe=groups)}
    if paired is not None:
        tables["report/paired"] = wandb.Table(dataframe=paired)
    wandb.log(tables)
    return True


def write_report(
    out: Path, groups: pd.DataFrame, paired: pd.DataFrame | None, record: dict[str, str] | None = None
) -> list[Path]:
    """Write every file into ``out`` (checked first: no foreign file is replaced), log to W&B.
    ``record``: the files saying what made the report (``run_info.json``, a dirty tree's diff)."""
    files: dict[str, str | bytes] = {
        MARKDOWN: markdown(groups, paired),
        GROUPS_CSV: groups.to_csv(index=False),
        **(record or {}),
    }
    if paired is not None:
        files[PAIRED_CSV] = paired.to_csv(index=False)
    owned = OwnedDir(out)
    # refuse before drawing: a chart costs more than the check
    owned.check([*files, *(chart_name(metric) for metric in groups["metric"].unique())])
    for metric in groups["metric"].unique():
        files[chart_name(metric)] = interval_chart(groups, metric)
    paths = owned.write(files)
    log_to_wandb(groups, paired)
    return paths
