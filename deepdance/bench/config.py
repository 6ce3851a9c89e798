"""The ``bench`` config group as one typed schema, checked before anything is measured.

A wrong value costs one line (``bench.key=value: expected ...``) and no time: this module
imports neither PyAV, OpenCV nor the renderer, only pydantic and timm's model list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from deepdance.config.data import Sampling
from deepdance.data.aist.standin_format import StandInFormat
from deepdance.errors import DeepdanceError

PositiveInt = Annotated[int, Field(ge=1)]


class StandInSpec:
    """One bench set of generated stand-ins: its name, how many videos, a seed, and the file
    format (``StandInFormat``'s keys: width, height, fps, seconds, gop_seconds, audio, ...)."""

    def __init__(self, name: str, count: int = 4, seed: int = 0, **file_format: Any) -> None:
        if count < 1:
            raise DeepdanceError(f"bench.inputs.{name}.count must be >= 1, got {count}")
        try:
            self.format = StandInFormat(**file_format)
        except (TypeError, ValueError) as err:
            raise DeepdanceError(f"bench.inputs.{name}: {err}") from None
        self.name, self.count, self.seed = name, count, seed

    def record(self) -> dict[str, Any]:
        """What the stand-in folder's record keeps, so a changed spec regenerates the set."""
        return {"name": self.name, "count": self.count, "seed": self.seed, **vars(self.format)}


class _Settings(BaseModel):
    # Hydra's struct mode already refuses unknown keys; extra keys added with + are kept
    model_config = ConfigDict(extra="allow", strict=False)


class BackboneSettings(_Settings):
    """The backbone timed: a name timm knows, and optional weights that exist."""

    name: str
    pretrained: bool = False
    weights: Path | None = None

    @field_validator("name")
    @classmethod
    def _known_to_timm(cls, name: str) -> str:
        import timm

        if not timm.is_model(name):
            raise ValueError("expected a timm model name (see timm.list_models())")
        return name

    @field_validator("weights")
    @classmethod
    def _weights_file(cls, weights: Path | None) -> Path | None:
        if weights is not None and not weights.expanduser().is_file():
            raise ValueError("expected an existing weights file or null")
        return weights


class ProfileSettings(_Settings):
    """Per device type: the pipeline's batch, workers, precision and the model sweep's batches."""

    batch_videos: PositiveInt
    num_workers: NonNegativeInt
    precision: Literal["fp32", "bf16"] = "fp32"
    model_batch_sizes: list[int] = Field(min_length=1)


class HeadSettings(_Settings):
    """The GRU head of the training rows."""

    gru_sizes: list[int] = Field(min_length=1)
    dropout: float = Field(default=0.4, ge=0, lt=1)


class TrainingSettings(_Settings):
    """The training rows: which set, batch, and enough epochs for a steady state."""

    set: str | None = None
    batch_size: PositiveInt
    # the first epoch, then at least one steady-state epoch
    epochs: int = Field(default=3, ge=2)
    head: HeadSettings


class GeneratorSettings(_Settings):
    """The Deep-Dance rows: silhouette size, batch, and the generated dance's rates."""

    height: PositiveInt
    width: PositiveInt
    batch_size: PositiveInt
    look_back: PositiveInt
    seconds: PositiveFloat
    output_fps: PositiveFloat
    model_fps: PositiveFloat
    playback_fps: PositiveFloat


class BenchSettings(_Settings):
    """Every key of ``conf/bench/*.yaml`` that changes what is measured."""

    videos: str
    limit: int | None = Field(default=None, ge=1)
    sets: list[str] = Field(default_factory=list)
    inputs: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    generate_workers: int = Field(default=1, ge=1)
    backbone: BackboneSettings
    img_size: int = Field(ge=16)
    num_frames: PositiveInt
    samplings: list[Sampling]
    channels_last: bool = True
    # median, min and max need at least three runs
    repeats: int = Field(ge=3)
    warmup: NonNegativeInt
    device: str = "auto"
    profiles: dict[str, ProfileSettings] = Field(default_factory=dict)
    training: TrainingSettings
    generator: GeneratorSettings

    @field_validator("samplings")
    @classmethod
    def _exact_included(cls, samplings: list[str]) -> list[str]:
        # the training rows and the ceiling use exact sampling
        if "exact" not in samplings:
            raise ValueError("expected a list of exact, keyframe that includes exact")
        return samplings

    @field_validator("device")
    @classmethod
    def _device_name(cls, device: str) -> str:
        if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
            raise ValueError("expected auto, cpu, cuda or cuda:N")
        return device

    @model_validator(mode="after")
    def _sets_exist(self) -> BenchSettings:
        if self.videos != "synthetic":
            if not Path(self.videos).expanduser().is_dir():
                raise DeepdanceError(
                    f"bench.videos={self.videos}: not a directory "
                    "(use 'synthetic' or a folder of video files)"
                )
            return self
        if not self.sets or not set(self.sets) <= set(self.inputs):
            raise DeepdanceError(
                f"bench.sets={self.sets!r}: expected a non-empty list of stand-in sets: "
                + ", ".join(self.inputs)
            )
        for name in self.sets:
            StandInSpec(name, **(self.inputs[name] or {}))
        if self.training.set is not None and self.training.set not in self.sets:
            raise DeepdanceError(
                f"bench.training.set={self.training.set!r}: expected null or one of bench.sets"
            )
        return self


# pydantic's error types, said as what would be accepted
_ACCEPTED = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "too_short": "a non-empty list",
}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than": "<", "less_than_equal": "<="}


def _accepted(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"a number {_BOUNDS[kind]} {bound}"
    if kind == "literal_error":
        return f"one of {ctx['expected']}"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ").removeprefix("expected ")
    return _ACCEPTED.get(kind, error["msg"])


def _one_line(err: ValidationError, given: dict[str, Any]) -> DeepdanceError:
    """pydantic's first complaint as ``bench.key=value: expected ...`` (a list is named whole)."""
    error = err.errors()[0]
    parts = []
    value: Any = given
    for part in error["loc"]:
        if isinstance(part, int):
            break
        parts.append(str(part))
        value = value.get(part) if isinstance(value, dict) else None
    key = "bench." + ".".join(parts)
    if error["type"] == "missing":
        return DeepdanceError(f"{key} is missing from the config")
    return DeepdanceError(f"{key}={value!r}: expected {_accepted(error)}")


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def validate_bench(cfg: DictConfig) -> BenchSettings:
    """``python -m deepdance.bench``: inputs, backbone, sizes and repeats, or one line."""
    # only the measured keys: bench.store_dir's ${paths.output_dir} needs a Hydra run to resolve
    given = {key: _plain(cfg.bench[key]) for key in BenchSettings.model_fields if key in cfg.bench}
    try:
        return BenchSettings.model_validate(given)
    except ValidationError as err:
        raise _one_line(err, given) from None
