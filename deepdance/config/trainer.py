"""The ``trainer`` group: what Lightning would refuse mid-fit, or not at all. Lightning keeps its
own defaults (``None`` here: not given); keys not listed pass through to ``pl.Trainer``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from deepdance.config.base import Schema

# Lightning 2.x precision names (Trainer(precision=...)).
Precision = Literal[
    64, 32, 16, "64", "32", "16", "bf16", "64-true", "32-true", "16-true", "bf16-true", "16-mixed",
    "bf16-mixed", "transformer-engine", "transformer-engine-float16",
]  # fmt: skip
Limit = Annotated[
    int | float | None,
    Field(description="null (all), a number of batches >= 0, or a fraction in [0.0, 1.0]"),
]
Count = Annotated[int | None, Field(ge=1)]


class TrainerConfig(Schema, title="pl.Trainer"):
    """The ``pl.Trainer`` arguments a run may get wrong."""

    model_config = ConfigDict(extra="allow")
    max_epochs: int | None = Field(None, ge=-1)
    min_epochs: int | None = Field(None, ge=0)
    max_steps: int | None = Field(None, ge=-1)
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"] | None = None
    devices: Any = Field(None, description="auto, -1 (all), a count >= 1, or a list of device indices")
    num_nodes: Count = None
    precision: Precision | None = Field(
        None,
        description="one of Lightning's precisions: "
        + ", ".join(dict.fromkeys(map(str, Precision.__args__))),
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
    fast_dev_run: bool | int = Field(False, description="true, false or a number of batches >= 0")

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: Any) -> Any:
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not (
            value in (None, "auto")
            or (whole and value >= -1 and value != 0)
            or (isinstance(value, str) and value.replace(",", "").isdigit())
            or (isinstance(value, list) and value and all(isinstance(d, int) and d >= 0 for d in value))
        ):
            raise ValueError("expected auto, -1 (all), a count >= 1, or a list of device indices")
        return value

    @field_validator(*(f"limit_{s}_batches" for s in ("train", "val", "test", "predict")))
    @classmethod
    def _limit(cls, value: Any) -> Any:
        if isinstance(value, float) and not 0 <= value <= 1 or isinstance(value, int) and value < 0:
            raise ValueError("expected null (all), a number of batches >= 0, or a fraction in [0.0, 1.0]")
        return value

    @field_validator("fast_dev_run")
    @classmethod
    def _fast(cls, value: Any) -> Any:
        if not isinstance(value, bool) and value < 0:
            raise ValueError("expected true, false or a number of batches >= 0")
        return value
