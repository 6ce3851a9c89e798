"""The ``bench`` config group as one typed schema, checked before anything is measured.

A wrong value costs one line (``bench.key=value: expected ...``, worded by
``deepdance.config.base`` as for every group) and no time: this module imports neither PyAV,
OpenCV nor the renderer, only pydantic and timm's model list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import Field, field_validator, model_validator

from deepdance.config.base import Schema, parse
from deepdance.config.data import Sampling
from deepdance.config.model import TimmName
from deepdance.data.aist.standin_format import StandInFormat
from deepdance.errors import DeepdanceError

PositiveInt = Annotated[int, Field(ge=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
# paths and names of the results: read by the runner, not measured, and only resolvable in a run
# (bench.store_dir is under ${paths.output_dir})
OUTPUT_KEYS = ("inputs_dir", "store_dir", "out_dir", "label", "name")


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


class BackboneSettings(Schema):
    """The backbone timed: a name timm knows, and optional weights that exist."""

    name: TimmName
    pretrained: bool = False
    weights: str | None = None

    @field_validator("weights")
    @classmethod
    def _weights_file(cls, weights: str | None) -> str | None:
        if weights is not None and not Path(weights).expanduser().is_file():
            raise ValueError("expected an existing weights file or null")
        return weights


class ProfileSettings(Schema):
    """Per device type: the pipeline's batch, workers, precision and the model sweep's batches."""

    batch_videos: PositiveInt
    num_workers: NonNegativeInt
    precision: Literal["fp32", "bf16"] = "fp32"
    model_batch_sizes: list[PositiveInt] = Field(
        min_length=1, description="a non-empty list of batch sizes >= 1"
    )


class ProfilesSettings(Schema):
    """The pipeline's settings per device type the benchmark can run on."""

    cpu: ProfileSettings | None = None
    cuda: ProfileSettings | None = None


class HeadSettings(Schema):
    """The GRU head of the training rows."""

    gru_sizes: list[PositiveInt] = Field(min_length=1)
    dense: PositiveInt = 8
    dropout: float = Field(default=0.4, ge=0, lt=1)
    input_norm: bool = True


class TrainingSettings(Schema):
    """The training rows: which set, batch, and enough epochs for a steady state."""

    set: str | None = None
    batch_size: PositiveInt
    # the first epoch, then at least one steady-state epoch
    epochs: int = Field(default=3, ge=2)
    head: HeadSettings


class GeneratorSettings(Schema):
    """The Deep-Dance rows: silhouette size, batch, and the generated dance's rates."""

    height: PositiveInt
    width: PositiveInt
    batch_size: PositiveInt
    look_back: PositiveInt
    seconds: PositiveFloat
    output_fps: PositiveFloat
    model_fps: PositiveFloat
    playback_fps: PositiveFloat


class BenchSettings(Schema):
    """Every key of ``conf/bench/*.yaml`` that changes what is measured."""

    videos: str
    limit: int | None = Field(default=None, ge=1)
    sets: list[str] = Field(default_factory=list)
    inputs: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    generate_workers: int = Field(default=1, ge=1)
    backbone: BackboneSettings
    img_size: int = Field(ge=16)
    num_frames: PositiveInt
    samplings: list[Sampling] = Field(description="a list of exact, keyframe that includes exact")
    channels_last: bool = True
    # median, min and max need at least three runs
    repeats: int = Field(ge=3)
    warmup: NonNegativeInt
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N")
    profiles: ProfilesSettings = Field(default_factory=ProfilesSettings)
    training: TrainingSettings
    generator: GeneratorSettings
    # the pose front end's row (deepdance.pose): frames timed, 0 = no row; the video (null: the
    # first video of the first set; a dance clip with a person in it gives the representative figure)
    pose_frames: int = Field(default=30, ge=0)
    pose_video: str | None = None
    inputs_dir: str | None = None
    store_dir: str | None = None
    out_dir: str | None = None
    label: str = "bench"
    name: str | None = None

    @field_validator("samplings")
    @classmethod
    def _exact_included(cls, samplings: list[str]) -> list[str]:
        # the training rows and the ceiling use exact sampling
        if "exact" not in samplings:
            raise ValueError("expected a list of exact, keyframe that includes exact")
        return samplings

    @field_validator("pose_video")
    @classmethod
    def _pose_video_file(cls, video: str | None) -> str | None:
        if video is not None and not Path(video).expanduser().is_file():
            raise ValueError("expected null or an existing video file")
        return video

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
                raise ValueError(
                    f"$videos={self.videos}: not a directory (use 'synthetic' or a folder of video files)"
                )
            return self
        if not self.sets or not set(self.sets) <= set(self.inputs):
            known = ", ".join(self.inputs)
            raise ValueError(f"$sets={self.sets!r}: expected a non-empty list of stand-in sets: {known}")
        for name in self.sets:
            # its own one-line error, named by the set (bench.inputs.<name>: ...)
            StandInSpec(name, **(self.inputs[name] or {}))
        if self.training.set is not None and self.training.set not in self.sets:
            raise ValueError(f"$training.set={self.training.set!r}: expected null or one of bench.sets")
        return self


def validate_bench(cfg: DictConfig) -> BenchSettings:
    """``python -m deepdance.bench``: inputs, backbone, sizes and repeats, or one line."""
    given = OmegaConf.to_container(cfg.bench, resolve=False)
    for key in given:
        if key not in OUTPUT_KEYS:
            value = cfg.bench[key]
            given[key] = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    return parse(BenchSettings, given, "bench")
