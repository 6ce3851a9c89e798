"""What every deepdance LightningModule shares: plain-data hyper-parameters and config-built optimisers.

Hyper-parameters are stored as plain Python (no OmegaConf objects), so a checkpoint loads with
``weights_only=True``. ``optimizer`` and ``scheduler`` are Hydra ``_partial_`` targets (as in
lightning-hydra-template): the optimiser gets the trainable parameters, the scheduler the optimiser.
"""

from __future__ import annotations

from typing import Any, ClassVar

import hydra
import pytorch_lightning as pl
import torch

from deepdance.errors import DeepdanceError
from deepdance.utils.checkpoints import plain_data


class DeepdanceModule(pl.LightningModule):
    """Base class: ``save_plain_hyperparameters``, ``configure_optimizers``, ``checkpoint_overrides``."""

    # The metric a ReduceLROnPlateau-style scheduler watches.
    scheduler_monitor: ClassVar[str] = "val/loss"
    # Constructor keys of older checkpoints that are now settings of a report callback: accepted, ignored.
    legacy_keys: ClassVar[tuple[str, ...]] = ()

    def save_plain_hyperparameters(self, **values: Any) -> None:
        """Store ``values`` as plain data: OmegaConf containers, paths and numpy scalars become Python."""
        self.save_hyperparameters(plain_data(values))

    def drop_legacy(self, legacy: dict[str, Any]) -> None:
        """Refuse constructor keys that neither this class nor its older checkpoints know."""
        unknown = sorted(set(legacy) - set(self.legacy_keys))
        if unknown:
            raise DeepdanceError(f"model.{unknown[0]} is not a setting of {type(self).__name__}")

    @staticmethod
    def checkpoint_overrides() -> dict[str, Any]:
        """Keyword arguments for ``load_from_checkpoint`` (none unless a subclass says so)."""
        return {}

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """What the optimiser updates: frozen parts (``requires_grad=False``) are left out."""
        return [p for p in self.parameters() if p.requires_grad]

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = build_partial(self.hparams.optimizer, "model.optimizer")(
            params=self.trainable_parameters()
        )
        if not self.hparams.get("scheduler"):
            return {"optimizer": optimizer}
        scheduler = build_partial(self.hparams.scheduler, "model.scheduler")(optimizer=optimizer)
        config = {"scheduler": scheduler, "monitor": self.scheduler_monitor, "interval": "epoch"}
        # A plateau scheduler reads a validation metric: with trainer.check_val_every_n_epoch=k it
        # steps every k-th epoch, when validation has run (else Lightning stops: metric not found).
        every = getattr(self._trainer, "check_val_every_n_epoch", None)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau) and every:
            config["frequency"] = int(every)
        return {"optimizer": optimizer, "lr_scheduler": config}


def build_partial(spec: dict[str, Any], key: str) -> Any:
    """A Hydra target as a partial: ``_partial_: true`` is implied, so older configs without it still work."""
    if not isinstance(spec, dict) or "_target_" not in spec:
        raise DeepdanceError(f"{key} must be a mapping with _target_ (e.g. torch.optim.Adam), got {spec!r}")
    return hydra.utils.instantiate({**spec, "_partial_": True})
