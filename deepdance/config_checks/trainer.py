"""Checks of the ``trainer`` group and the run's seed: what Lightning would refuse mid-fit."""

from __future__ import annotations

from omegaconf import DictConfig

from deepdance.config_checks.values import _bad, _is_int, choice, integer, number, setting

# Lightning 2.x precision names (Trainer(precision=...)).
PRECISIONS = (
    "64",
    "32",
    "16",
    "bf16",
    "64-true",
    "32-true",
    "16-true",
    "bf16-true",
    "16-mixed",
    "bf16-mixed",
    "transformer-engine",
    "transformer-engine-float16",
)
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")


def check_trainer(cfg: DictConfig) -> None:
    """``trainer``: what Lightning would otherwise refuse mid-fit (or not at all)."""
    integer(cfg, "trainer.max_epochs", low=-1, optional=True, default=None)
    integer(cfg, "trainer.min_epochs", low=0, optional=True, default=None)
    integer(cfg, "trainer.max_steps", low=-1, default=-1)
    choice(cfg, "trainer.accelerator", ACCELERATORS, default="auto")
    devices = setting(cfg, "trainer.devices", default="auto")
    ok = (
        (_is_int(devices) and devices >= -1 and devices != 0)
        or devices == "auto"
        or (isinstance(devices, list) and devices and all(_is_int(d) and d >= 0 for d in devices))
    )
    if not ok and not (isinstance(devices, str) and devices.replace(",", "").isdigit()):
        raise _bad("trainer.devices", devices, "auto, -1 (all), a count >= 1, or a list of device indices")
    integer(cfg, "trainer.num_nodes", low=1, default=1)
    precision = setting(cfg, "trainer.precision", default="32")
    if str(precision) not in PRECISIONS or isinstance(precision, bool):
        raise _bad("trainer.precision", precision, "one of " + ", ".join(PRECISIONS))
    integer(cfg, "trainer.check_val_every_n_epoch", low=1, optional=True, default=1)
    integer(cfg, "trainer.log_every_n_steps", low=1, optional=True, default=None)
    integer(cfg, "trainer.num_sanity_val_steps", low=-1, optional=True, default=None)
    integer(cfg, "trainer.accumulate_grad_batches", low=1, default=1)
    number(cfg, "trainer.gradient_clip_val", low=0, optional=True, default=None)
    for split in ("train", "val", "test", "predict"):
        key = f"trainer.limit_{split}_batches"
        value = setting(cfg, key, default=None)
        if value is not None and not (
            (_is_int(value) and value >= 0) or (isinstance(value, float) and 0 <= value <= 1)
        ):
            raise _bad(key, value, "null (all), a number of batches >= 0, or a fraction in [0.0, 1.0]")
    fast = setting(cfg, "trainer.fast_dev_run", default=False)
    if not (isinstance(fast, bool) or (_is_int(fast) and fast >= 0)):
        raise _bad("trainer.fast_dev_run", fast, "true, false or a number of batches >= 0")


def check_seed(cfg: DictConfig) -> None:
    """A seed must be an integer or null; a string seed would be silently ignored."""
    integer(cfg, "seed", optional=True, default=None)
