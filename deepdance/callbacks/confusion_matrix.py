"""The genre classifier's test report: confusion matrix (PNG, CSV) and per-video predictions (CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytorch_lightning as pl

if TYPE_CHECKING:
    from deepdance.models.genre_module import GenreTestReport


class ConfusionMatrixReport(pl.Callback):
    """After each test pass of a model that exposes a ``test_report`` (``GenreClassifier``): write
    ``confusion_matrix.png`` / ``.csv`` and ``test_predictions.csv`` into the run dir, and hand the
    figure to every logger that shows pictures (TensorBoard, W&B; the CSV logger keeps the files).
    Other models are left alone, so the callback can sit in any run's callback list."""

    def __init__(self, predictions: bool = True) -> None:
        self.predictions = predictions

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning runs a module's on_test_epoch_end (which fills test_report on every rank)
        # before any callback's on_test_end.
        report = getattr(pl_module, "test_report", None)
        if report is None or not hasattr(report, "confusion") or not trainer.is_global_zero:
            return
        from deepdance.utils.plots import log_figure, save_confusion_matrix

        out_dir = Path(trainer.default_root_dir)
        title = f"test accuracy {report.accuracy:.3f}"
        figure = save_confusion_matrix(report.confusion, report.class_names, out_dir, title=title)
        log_figure(trainer.loggers, "test/confusion_matrix", figure)
        if self.predictions and report.outputs is not None:
            write_test_predictions(
                report, getattr(trainer, "datamodule", None), out_dir / "test_predictions.csv"
            )


def write_test_predictions(report: GenreTestReport, datamodule: object, path: Path) -> None:
    """One row per test video: true genre, single-clip and K-clip predictions, and their probabilities."""
    import pandas as pd

    names, outputs, clips = report.class_names, report.outputs, report.num_clips
    table = pd.DataFrame(
        {
            "video_id": outputs["video"].numpy(),
            "genre": [names[i] for i in outputs["label"].tolist()],
            "pred_single": [names[i] for i in outputs["single"].argmax(-1).tolist()],
            f"pred_clips{clips}": [names[i] for i in outputs["clips"].argmax(-1).tolist()],
            f"prob_clips{clips}": outputs["clips"].max(-1).values.numpy().round(4),
        }
    )
    # The datamodule's public manifest names each video, when it has one.
    manifest = getattr(datamodule, "manifest", None)
    if manifest is not None and "video_id" in manifest:
        table.insert(1, "name", manifest.set_index("video_id").loc[table["video_id"], "name"].to_numpy())
    table.to_csv(path, index=False)
