"""The top-level keys of each command (``conf/<command>.yaml``); its groups have their own
schemas. Keys of other groups (``data``, ``paths``, ...) pass through untouched."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from deepdance.config.base import Schema
from deepdance.config.startup import missing

# a scored rollout needs this many steps: a labelled dancer's 8 s video holds 30 after the seed
MIN_SCORED_STEPS = 30
Path = Annotated[str, Field(min_length=1)]


def on_disk(kind: str, *words: str) -> AfterValidator:
    """A path that must exist (``kind`` file, dir or any), refused with the command's other keys
    and kept with ``~`` expanded, as it was checked; ``words`` are values that name no path
    (``last``, ``random``)."""

    def check(value: str | None) -> str | None:
        if value is None or value in words:
            return value
        reason = missing(value, kind)
        if reason:
            raise PydanticCustomError("not_on_disk", reason)
        return os.path.expanduser(value)

    return AfterValidator(check)


File = Annotated[str, on_disk("file")]
Folder = Annotated[str, on_disk("dir")]
FileOrFolder = Annotated[str, on_disk("any")]
Device = Annotated[str, Field(pattern=r"^(cpu|cuda(:\d+)?)$", description="cpu, cuda or cuda:N")]


class Command(Schema):
    """The keys every training command shares."""

    # null: no seed (each run differs); a string would be silently ignored
    seed: int | None = None
    print_config: bool = False


class TrainCommand(Command, title="python -m deepdance.train"):
    """One training run, or one stage of a pipeline."""

    train: bool = True
    test: bool = True
    print_config: bool = True
    # resume from this checkpoint ("last" = the run dir's last.ckpt)
    ckpt_path: Annotated[str, on_disk("file", "", "last")] | None = Field(
        None, description="a checkpoint of this model, or last"
    )


class Stage(Schema, title="a stage"):
    """One stage of ``experiment=deep_dance``: an experiment and its own overrides."""

    experiment: str
    overrides: list[str] = []
    # model.autoencoder_ckpt = that earlier stage's best checkpoint
    autoencoder_from: str | None = None


class ExtractFeaturesCommand(Command, title="python -m deepdance.extract_features"):
    """Fill a frozen backbone's feature store for these splits."""

    splits: list[Literal["train", "val", "test"]] = Field(
        ["train", "val", "test"], min_length=1, description="a list of train, val, test"
    )

    @model_validator(mode="after")
    def _frozen_backbone_on_genre_data(self, info: ValidationInfo) -> ExtractFeaturesCommand:
        """Only genre videos have clips to embed, and a backbone that trains changes its features
        every step: the run's ``data`` and ``model`` groups, given as context at start-up."""
        from deepdance.config.data import GENRE_DATA
        from deepdance.utils.legacy_targets import current_target

        run = info.context
        if run is None:
            return self
        if current_target(str((run.get("data") or {}).get("_target_"))) != GENRE_DATA:
            raise ValueError(f"$data: expected a genre dataset ({GENRE_DATA}: data=synthetic or data=aist)")
        if ((run.get("model") or {}).get("backbone") or {}).get("freeze") is not True:
            raise ValueError(
                "$model.backbone.freeze=false: extract_features expected a frozen backbone (e.g. "
                "model=genre_gru); features of a backbone that trains change every step"
            )
        return self


class EvalCommand(Command, title="python -m deepdance.eval"):
    """Test a checkpoint on its stored data settings (data.* overrides win)."""

    ckpt_path: File = Field(description="a checkpoint written by deepdance.train")


class PredictCommand(Schema, title="python -m deepdance.predict"):
    """Rank the genres of a video or a folder of videos."""

    ckpt_path: File
    # a skeleton genre classifier also reads keypoints2d .pkl files (the pose node)
    video: FileOrFolder = Field(description="a video file or a folder of videos")
    # write the ranked genres of every video as JSON here
    output: str | None = Field(None, min_length=1)
    # clips averaged per video; null = the checkpoint's data.test_clips
    clips: int | None = Field(None, ge=1)
    # genres shown for a single video
    top: int = Field(5, ge=1)
    # auto: a GPU if there is one
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="auto, cpu, cuda or cuda:N")


class GenerateCommand(Schema, title="python -m deepdance.generate"):
    """Roll a latent LSTM out into a dance video."""

    ckpt_path: File = Field(description="the latent LSTM's best_ckpt")
    # random: invent a dance from random latents; a video path: continue its last frames
    seed: Annotated[str, on_disk("file", "random")] = Field(
        "random", description="seed=random, a dance video to continue, or (pose_dance) a keypoints .pkl"
    )
    # a pose-space generator's annotation seed: the view (camera) of the file to continue
    seed_view: int = Field(0, ge=0)
    # a genre-conditioned checkpoint (model.condition=genre): the genre to dance, e.g. KR
    genre: str | None = Field(None, min_length=1)
    # LSTM steps after the seed (at the data frame rate)
    steps: int = Field(60, ge=1)
    # exact number of output frames (seed frames included); overrides steps
    num_frames: int | None = Field(None, ge=1)
    # output frame rate; latents are interpolated between LSTM steps to reach it
    fps: float = Field(30.0, gt=0)
    # false: hold each generated frame instead of interpolating
    interpolate: bool = True
    # latent noise fed back during rollout, in units of each latent's spread
    noise: float = Field(0.0, ge=0)
    rng_seed: int = 0
    # an existing file is never replaced
    out: Path
    # also write a GIF beside the mp4; a PNG of 10 frames from the last seed frame on
    gif: bool = False
    strip: str | None = Field(None, min_length=1)
    # genre-conditioned checkpoint: instead of a video, a PNG (out, .png) with one row per genre
    grid: bool = False
    device: Device = "cpu"


class ScoreGenerationCommand(Schema, title="python -m deepdance.score_generation"):
    """Score a generator's rollouts and its baselines: a latent LSTM with a silhouette genre
    recognizer, or a pose-space generator in motion metrics (and a skeleton recognizer if given)."""

    lstm_ckpt: File = Field(description="the latent LSTM's or pose generator's best_ckpt")
    # a silhouette genre recognizer (required for a latent LSTM), or a pose_gru (optional for a pose model)
    recognizer_ckpt: File | None = Field(None, description="a genre recognizer's best_ckpt")
    # a generator trained with model.condition=null on the same data: the _uncond keys
    uncond_ckpt: File | None = None
    # null: data.num_frames / seconds of the recognizer's synthetic videos
    recognizer_fps: float | None = Field(None, gt=0)
    # where the generator's data is now, if it moved since training; the folder scored with split=all
    data_root: FileOrFolder | None = None
    # the held-out split whose windows seed the rollouts and give the real clips; all (pose models):
    # every sequence of data_root
    split: Literal["val", "test", "all"] = "test"
    # seed windows, evenly spread over the split (pose: over every sequence and view)
    rollouts: int = Field(32, ge=2)
    # generated steps per rollout, at the generator's data.fps; null: 30 for a latent LSTM (its least),
    # 4 s for a pose model (its least)
    steps: int | None = Field(None, ge=1)
    # pose models: Gaussian noise on each fed-back pose, in standardised units (a stochastic next step)
    noise: float = Field(0.0, ge=0)
    # random seeds per requested genre (conditioned), or in all
    random_rollouts: int = Field(8, ge=2)
    # training clips for novelty and retrieval
    train_clips: int = Field(200, ge=2)
    # conditioned LSTM: genres asked for from random seeds; null = all it learned
    genres: list[str] | None = None
    # random seeds and the split-half floor
    seed: int = 0
    device: Device = "cpu"


class LatentScoringCommand(ScoreGenerationCommand, title="score_generation of a latent LSTM"):
    """A latent LSTM's dances are graded by a silhouette genre recognizer on a held-out split, over
    at least ``MIN_SCORED_STEPS`` steps; ``split=all`` and ``noise`` are the pose generator's."""

    recognizer_ckpt: File = Field(description="a silhouette genre recognizer (experiment=silhouette_genre)")
    split: Literal["val", "test"] = Field("test", description="val or test (a held-out split)")
    steps: int | None = Field(None, ge=MIN_SCORED_STEPS)
    noise: float = Field(0.0, ge=0, le=0, description="0 (noise is a pose generator's setting)")


class ScanCommand(Schema, title="python -m deepdance.scan"):
    """List every video a run would skip as bad, with the reason."""

    # processes
    workers: int = Field(4, ge=1)
    # frames decoded per video, evenly spaced, first and last included; -1 = every frame
    decode_frames: int = Field(8, ge=-1, description="-1 (every frame) or an integer >= 1")
    # exit code 1 when a bad video is found
    fail_on_bad: bool = True

    @field_validator("decode_frames")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("expected -1 (every frame) or an integer >= 1")
        return value


class ExtractPosesCommand(Schema, title="python -m deepdance.extract_poses"):
    """Keypoints and person masks of a video or a folder of videos (the ``pose`` node: how)."""

    video: FileOrFolder = Field(description="a video file or a folder of videos")
    # an owned folder: keypoints2d/<stem>.pkl, masks/<stem>.npz (and mmaction.pkl); never the videos' folder
    out: Path
    # aist: AIST++ keypoints2d pickles and masks | mmaction: also the MMAction2/pyskl skeleton pickle
    format: Literal["aist", "mmaction"] = "aist"


class SilhouettesCommand(Schema, title="python -m deepdance.silhouettes"):
    """Preview the silhouette frames a run would train on, under the same ``data.*`` settings."""

    # data=motion_silhouettes: each view of the annotations is a video
    video: FileOrFolder = Field(
        description="a video file or a folder of videos (motion_silhouettes: an annotation folder or a .pkl)"
    )
    # a folder of its own (never the videos' folder): <stem>.mp4 and <stem>.png per video
    out: Path
    # frames in each video's PNG strip, evenly spaced
    strip_frames: int = Field(12, ge=1)


class ScorePosesCommand(Schema, title="python -m deepdance.score_poses"):
    """Score the pose front end (the ``pose`` node) against synthetic RGB renders' ground truth."""

    # <background>/<name>.mp4 and <name>.truth.npz
    rgb_root: Folder = Field(description="python -m deepdance.make_synthetic --rgb writes one")
    # a joint is correct within this many ground-truth torso lengths (PCK@alpha)
    alpha: float = Field(0.2, gt=0)
    # background folders to score; null = every one under rgb_root
    backgrounds: list[str] | None = Field(None, min_length=1)
    # videos per background at most (the first by name); null = all
    max_videos: int | None = Field(None, ge=1)
