"""What every deepdance LightningModule shares: a typed config in, plain-data hyper-parameters
out, and config-built optimisers.

A module takes its ``model`` group's schema (``deepdance.config.model``); ``from_hparams`` reads
flat settings into it: a composed ``model`` node (train) or the hyper-parameters a checkpoint
stored, of any deepdance version (eval, predict, generate, through ``deepdance.models.registry``).
Hyper-parameters are stored as plain Python (no OmegaConf objects), so a checkpoint loads with
``weights_only=True``. ``optimizer`` and ``scheduler`` are Hydra ``_partial_`` targets (as in
lightning-hydra-template): the optimiser gets the trainable parameters, the scheduler the optimiser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import hydra
import pytorch_lightning as pl
import torch

from deepdance.config.base import Schema, parse, plain
from deepdance.errors import DeepdanceError
from deepdance.utils.checkpoints import plain_data
from deepdance.utils.legacy_targets import upgrade_hparams

if TYPE_CHECKING:
    from typing import Self


class DeepdanceModule(pl.LightningModule):
    """Base class: ``from_hparams``, ``save_config``, ``configure_optimizers``."""

    # The metric a ReduceLROnPlateau-style scheduler watches.
    scheduler_monitor: ClassVar[str] = "val/loss"
    # The schema of this module's ``model`` group.
    config_class: ClassVar[type[Schema]]

    @classmethod
    def settings(cls, hparams: Mapping[str, Any]) -> dict[str, Any]:
        """Flat settings as plain data, without the keys older checkpoints held that are no
        setting today (``deepdance.utils.legacy_targets``)."""
        values = plain_data(dict(plain(hparams, "model")))
        return upgrade_hparams(f"{cls.__module__}.{cls.__qualname__}", values)

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any], from_checkpoint: bool = False) -> Self:
        """The module from flat settings: a composed ``model`` node, or a checkpoint's stored
        hyper-parameters (``from_checkpoint``: the weights come from it next)."""
        return cls(parse(cls.config_class, cls.settings(hparams), "model"))

    def save_config(self, config: Schema, **extra: Any) -> None:
        """Store ``config`` (and ``extra``) as plain hyper-parameters: what ``from_hparams`` reads
        back. The optimizer keeps only the keys that were set, so its class keeps its defaults."""
        values = config.model_dump(by_alias=True, exclude={"target", "optimizer"})
        values["optimizer"] = config.optimizer.model_dump(by_alias=True, exclude_unset=True)
        self.save_plain_hyperparameters(**values, **extra)

    def save_plain_hyperparameters(self, **values: Any) -> None:
        """Store ``values`` as plain data: OmegaConf containers, paths and numpy scalars become Python."""
        self.save_hyperparameters(plain_data(values))

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
