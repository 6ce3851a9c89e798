"""The ``trainer`` group: what Lightning would refuse mid-fit, or not at all. Lightning keeps its
own defaults (``None`` here: not given); keys not listed pass through to ``pl.Trainer``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from deepdance.config.base import Schema

Precision = Literal[
    64, 32, 16, "64", "32", "16", "bf16", "64-true", "32-true", "16-true", "bf16-true", "16-mixed",
    "bf16-mixed", "transformer-engine", "transformer-engine-float16",
]  # fmt: skip
Batches = Annotated[int, Field(ge=0)]
Limit = Annotated[
    Batches | Annotated[float, Field(ge=0, le=1)] | None,
    Field(description="null (all), a number of batches >= 0, or a fraction in [0.0, 1.0]"),
]
Count = Annotated[int | None, Field(ge=1)]
# "0,1": device indices as Lightning parses them from a string
Indices = Annotated[str, Field(pattern=r"^[\d,]+$")]


class TrainerConfig(Schema, title="pl.Trainer"):
    """The ``pl.Trainer`` arguments a run may get wrong."""

    model_config = ConfigDict(extra="allow")
    max_epochs: int | None = Field(None, ge=-1)
    min_epochs: int | None = Field(None, ge=0)
    max_steps: int | None = Field(None, ge=-1)
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"] | None = None
    devices: Literal["auto", -1] | Annotated[int, Field(ge=1)] | list[Batches] | Indices | None = Field(
        None, description="auto, -1 (all), a count >= 1, or a list of device indices"
    )
    num_nodes: Count = None
    precision: Precision | None = Field(
        None, description="one of Lightning's precisions, e.g. 32, bf16-mixed"
    )
    check_val_every_n_epoch: Count = None
    log_every_n_steps: Count = None
    num_sanity_val_steps: int | None = Field(None, ge=-1)
    accumulate_grad_batches: Count = None
    gradient_clip_val: float | None = Field(None, ge=0)
    limit_train_batches: Limit = None
    limit_val_batches: Limit = None
    limit_test_batches: Limit = None
    limit_predict_batches: Limit = None
    fast_dev_run: bool | Batches = Field(False, description="true, false or a number of batches >= 0")
