"""One bar chart per metric: each group's mean with its 95 % t-interval as the error bar."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def interval_chart(groups: pd.DataFrame, metric: str) -> bytes:
    """PNG bytes of ``metric``'s group means; a group with n < 2 gets no error bar."""
    rows = groups[groups["metric"] == metric]
    means = rows["mean"].to_numpy()
    # asymmetric form of yerr: distances below and above the mean
    spread = np.nan_to_num(np.vstack([means - rows["ci_low"], rows["ci_high"] - means]))
    # Figure() without pyplot: no global state, no display, the Agg canvas by default
    figure = Figure(figsize=(max(4.0, 1.2 * len(rows) + 2), 4.0))
    axes = figure.subplots()
    axes.bar(range(len(rows)), means, yerr=spread, capsize=6, color="tab:blue", alpha=0.8)
    labels = [f"{group}\n(n={n})" for group, n in zip(rows["group"], rows["n"])]
    axes.set_xticks(range(len(rows)), labels, fontsize=8)
    axes.set_ylabel(metric)
    axes.set_title(f"{metric}: mean and 95 % t-interval over seeds")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
