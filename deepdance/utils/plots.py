"""Figures a run writes into its directory and hands to its loggers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

# headless: runs on clusters and CI without a display
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def save_confusion_matrix(
    matrix: torch.Tensor, class_names: Sequence[str], out_dir: Path, title: str = ""
) -> plt.Figure:
    """Write ``confusion_matrix.png`` and ``.csv`` (rows = true genre) and return the figure."""
    counts = matrix.numpy().astype(np.int64)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = "true\\pred," + ",".join(class_names)
    rows = [f"{name}," + ",".join(map(str, row)) for name, row in zip(class_names, counts)]
    (out_dir / "confusion_matrix.csv").write_text("\n".join([header, *rows]) + "\n")
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(6.4, 5.6))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(class_names)), class_names)
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted genre")
    axes.set_ylabel("true genre")
    for (i, j), count in np.ndenumerate(counts):
        if count:
            axes.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if rates[i, j] > 0.5 else "black",
            )
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, label="fraction of true genre")
    figure.tight_layout()
    figure.savefig(out_dir / "confusion_matrix.png", dpi=120)
    return figure


def log_figure(loggers: Sequence, key: str, figure: plt.Figure) -> None:
    """Hand a figure to every logger that can show one (TensorBoard, W&B); close it after."""
    from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger

    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_figure(key, figure)
        elif isinstance(logger, WandbLogger):
            import wandb

            logger.experiment.log({key: wandb.Image(figure)})
    plt.close(figure)
