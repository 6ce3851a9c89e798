"""The ``data`` group: the genre videos (``GenreDataConfig``) and the silhouette dance
(``SilhouetteDataConfig``). Each setting's type, default and range is written here once;
conf/data/*.yaml inherit these defaults (``deepdance.config.store``) and set what differs."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from deepdance.config.base import Schema
from deepdance.config.pose import PoseConfig
from deepdance.config.silhouette_motion import MotionRenderConfig

GENRE_DATA = "deepdance.data.genre.GenreDataModule"
SILHOUETTE_DATA = "deepdance.data.silhouette.SilhouetteDataModule"
# Frames per second sampled from a silhouette video, and the rate a model trained on them
# rolls out at: the Deep-Dance original's.
DEFAULT_FPS = 3.0
# exact: uniform spacing | keyframe: snapped to key frames (short decodes)
Sampling = Literal["exact", "keyframe"]
SAMPLINGS: tuple[str, ...] = Sampling.__args__
Box = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=4, max_length=4)]
BOX = "null or [top, left, bottom, right] in pixels, bottom > top and right > left"


class FeaturesConfig(Schema, title="data.features"):
    """Frozen backbones: per-video features computed once (deepdance.features)."""

    # auto: when model.backbone.freeze=true | true | false (always decode videos)
    use: Literal["auto", True, False, "true", "false"] = "auto"
    dir: str = "data/features"
    # clips stored per video: train jitters among them, test_clips picks from them
    clips: int = Field(5, ge=1)
    # videos per extraction batch, frames per backbone forward
    batch_size: int = Field(2, ge=1)
    inference_batch_size: int = Field(64, ge=1)


def _dataclass(cls: type, value: Any) -> Any:
    """A settings dataclass from a mapping; its own checks (``__post_init__``) speak."""
    names = ", ".join(cls.__dataclass_fields__)
    if not isinstance(value, dict):
        raise ValueError(f"expected null or a mapping of {names}")
    unknown = sorted(set(value) - set(cls.__dataclass_fields__))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a setting; known: {names}")
    try:
        return cls(**value)
    except TypeError as err:
        raise ValueError(str(err)) from None


def check_folds(config: Any) -> None:
    """``data.fold`` and the held-out dancers against ``data.split`` and the synthetic dancers: the
    rules of every data split by dancer (videos, keypoints)."""
    fold, dancers = config.fold, getattr(config.synthetic, "dancers_per_genre", None)
    if fold is not None and config.split != "dancer":
        raise ValueError(f"$fold={fold}: expected null with $split={config.split} (folds rotate dancers)")
    if fold is not None and (config.val_dancers, config.test_dancers) != (1, 1):
        raise ValueError(
            f"$fold={fold}: expected $val_dancers=1 and $test_dancers=1 (a fold holds out one "
            "test and one val dancer per genre)"
        )
    if fold is not None and dancers is not None and fold >= dancers:
        raise ValueError(f"$fold={fold}: expected 0 <= fold < {dancers} ($synthetic.dancers_per_genre)")
    if config.split == "dancer" and dancers is not None and dancers < config.test_dancers + 2:
        raise ValueError(
            f"$synthetic.dancers_per_genre={dancers}: expected >= {config.test_dancers + 2} with $split="
            f"dancer and $test_dancers={config.test_dancers} (train, val and test each need a dancer)"
        )


class GenreDataConfig(Schema, title="GenreDataModule"):
    """AIST++-named videos under ``root`` (or generated synthetic dancers), split by dancer."""

    # a real root, as start-up checks it: the path's kind, what it holds, and the function that
    # splits its listing by name (imported only then)
    real_root: ClassVar[tuple[str, str]] = ("any", "data=aist reads AIST++ videos from this folder")
    split_by_names: ClassVar[str] = "deepdance.data.genre.manifest.build_manifest"

    target: Literal[GENRE_DATA, "deepdance.data.genre_datamodule.GenreDataModule"] = Field(
        GENRE_DATA, alias="_target_"
    )
    root: str = Field(min_length=1)
    num_frames: int = Field(20, ge=1)
    img_size: int = Field(299, ge=16)
    sampling: Sampling = "exact"
    # dancer (leak-free) | random (the original notebook's leaky split) | files (official AIST++ lists)
    split: Literal["dancer", "random", "files"] = "dancer"
    # split seed, independent of the training seed
    seed: int = 0
    # small batches: more optimiser steps per epoch for a CNN learning from scratch
    batch_size: int = Field(8, ge=1)
    num_workers: int = Field(2, ge=0)
    # null: pinned when training on a GPU
    pin_memory: bool | None = None
    persistent_workers: bool = True
    train_jitter: bool = True
    val_dancers: int = Field(1, ge=1)
    test_dancers: int = Field(1, ge=1)
    # k: in each genre's dancers, shuffled by seed, dancer k tests and dancer (k+1) mod n validates
    fold: int | None = Field(None, ge=0)
    # the generator's settings (deepdance.data.synthetic.SyntheticConfig); null: read root as it is
    synthetic: Any = None
    # clip augmentation (deepdance.data.genre.augment.ClipAugment), train split only
    augment: Any = None
    # split=files: folder with <split_set>_train/val/test.txt (+ ignore_list.txt)
    split_dir: str | None = None
    split_set: Literal["crossmodal", "pose"] = "crossmodal"
    # e.g. [1, 2] or [c01, c02]; [BM]: keep only these cameras, situations
    cameras: list[int | str] | None = None
    situations: list[str] | None = None
    # K clips per test video: test/acc = centre clip, test/acc_clipsK = K averaged
    test_clips: int = Field(1, ge=1)
    # also average each sequence's cameras: test/acc_views
    view_vote: bool = False
    features: FeaturesConfig = FeaturesConfig()
    # a subset of BR PO LO MH LH HO WA KR JS JB (class order = list order); null = all ten
    genres: list[str] | None = None
    # skip (leave out, list in <run dir>/bad_videos.csv) | error (stop at the first)
    on_bad_video: Literal["skip", "error"] = "skip"

    @field_validator("synthetic", "augment", mode="before")
    @classmethod
    def _settings(cls, value: Any, info: ValidationInfo) -> Any:
        from deepdance.data.genre.augment import ClipAugment
        from deepdance.data.synthetic.settings import SyntheticConfig

        known = {"synthetic": SyntheticConfig, "augment": ClipAugment}[info.field_name]
        return value if value is None or isinstance(value, known) else _dataclass(known, value)

    @field_validator("genres", "cameras", "situations")
    @classmethod
    def _aist(cls, values: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        from deepdance.data.aist.names import GENRES, normalise_cameras, normalise_situations

        if values is not None and info.field_name == "cameras":
            normalise_cameras(values)
        elif values is not None and info.field_name == "situations":
            normalise_situations(values)
        elif values is not None and (
            not set(values) <= set(GENRES) or len(set(values)) < max(len(values), 2)
        ):
            raise ValueError(f"expected null or at least two distinct genres of {', '.join(GENRES)}")
        return values

    @model_validator(mode="after")
    def _dancers(self) -> GenreDataConfig:
        check_folds(self)
        return self


class SilhouetteSyntheticConfig(Schema, title="the synthetic silhouette dance"):
    """The embedded dance rendered when ``data.root`` is null."""

    # null: silhouette_synthetic beside data.cache_dir
    dir: str | None = None
    # 500 s of dance at 3 fps
    num_frames: int = Field(1500, ge=1)
    fps: float = Field(DEFAULT_FPS, gt=0)
    height: int = Field(120, ge=16)
    width: int = Field(200, ge=16)
    seed: int = 0
    # null: the genre changes every 8 s
    genre: str | None = None


class SilhouetteDataConfig(Schema, title="SilhouetteDataModule"):
    """Silhouette frames of a video or a folder of them (null: the synthetic dance), cached once."""

    target: Literal[SILHOUETTE_DATA] = Field(SILHOUETTE_DATA, alias="_target_")
    root: str | None = None
    # video: decode the videos of root | annotations: draw a body between the 2D keypoints of an
    # AIST++ annotation folder (or one keypoints2d .pkl), each view one video (data.motion)
    source: Literal["video", "annotations"] = "video"
    # how source=annotations draws the body (deepdance.config.silhouette_motion)
    motion: MotionRenderConfig = MotionRenderConfig()
    cache_dir: str = "data/silhouette_cache"
    # sampling rate of the source video (null = every frame)
    fps: float | None = Field(DEFAULT_FPS, gt=0)
    height: int = Field(120, ge=8)
    width: int = Field(200, ge=8)
    # fixed | otsu | background (difference from the video's median frame) | person (the pose
    # front end's person mask, cut at pose.mask_threshold; deepdance.data.silhouette.person)
    threshold_rule: Literal["fixed", "otsu", "background", "person"] = "fixed"
    # gray level (fixed) or difference (background); the person rule ignores it
    threshold: float = Field(128.0, ge=0, le=255)
    # dark: the dancer is darker than the background; light: lighter
    polarity: Literal["dark", "light"] = "dark"
    # a box of the source frame kept (a figure's plot area); boxes painted as background
    crop: Box | None = Field(None, description=BOX)
    ignore_boxes: list[Box] = Field(
        [], description="a list of [top, left, bottom, right] boxes like data.crop"
    )
    # drop the start of every video
    start_seconds: float = Field(0.0, ge=0)
    # crop a box that follows the dancer (the pose front end's keypoint box, else its mask box),
    # instead of data.crop; any threshold_rule (deepdance.data.silhouette.follow)
    follow: bool = False
    # the box grows by this fraction of its longer side on every side, then to height x width
    follow_margin: float = Field(0.15, ge=0, le=2)
    # seconds of the centred moving average over the box's centre and size (0: none)
    follow_seconds: float = Field(1.0, ge=0)
    # the pose front end of threshold_rule=person and follow (deepdance.config.pose)
    pose: PoseConfig = PoseConfig()
    # chronological: the end of each video validates and tests | dancer: AIST++-named videos,
    # whole dancers held out per genre (seed, val_dancers, test_dancers) | sequence: AIST++-named,
    # whole sequences (every camera's video of one) held out per genre (val_sequences, test_sequences)
    split: Literal["chronological", "dancer", "sequence"] = "chronological"
    test_fraction: float = Field(0.1, gt=0, lt=1)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    val_dancers: int = Field(1, ge=1)
    test_dancers: int = Field(1, ge=1)
    val_sequences: int = Field(1, ge=1)
    test_sequences: int = Field(1, ge=1)
    # null: single frames (autoencoder); L: windows of L + targets frames (LSTM)
    context_frames: int | None = Field(None, ge=1)
    # targets after the context of a training window (the LSTM's rollout_loss_steps)
    target_frames: int = Field(1, ge=1)
    # training augmentation (deepdance.data.silhouette.augment): mirror, N sampling phases, speeds
    flip: bool = False
    phases: int = Field(1, ge=1)
    time_warp: Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=2, max_length=2)] | None = (
        Field(None, description="null or [low, high] with 0 < low <= high, e.g. [0.8, 1.25]")
    )
    batch_size: int = Field(32, ge=1)
    num_workers: int = Field(0, ge=0)
    pin_memory: bool = False
    persistent_workers: bool = False
    synthetic: SilhouetteSyntheticConfig | None = SilhouetteSyntheticConfig()

    @field_validator("crop", "ignore_boxes", "time_warp")
    @classmethod
    def _ordered(cls, value: Any, info: ValidationInfo) -> Any:
        """A box's bottom below its top and right of its left; the slower speed first."""
        many = value if info.field_name == "ignore_boxes" else [value] if value else []
        for v in many:
            if not (0 < v[0] <= v[1] if len(v) == 2 else v[0] < v[2] and v[1] < v[3]):
                raise ValueError(f"expected {cls.model_fields[info.field_name].description}")
        return value

    @model_validator(mode="after")
    def _rules(self) -> SilhouetteDataConfig:
        if self.test_fraction + self.val_fraction >= 1:
            raise ValueError(
                f"$test_fraction={self.test_fraction} + $val_fraction={self.val_fraction}: "
                "expected a sum below 1 (training needs frames)"
            )
        if self.source == "annotations":
            self._annotation_rules()
        if self.split in ("dancer", "sequence") and self.root is None:
            raise ValueError(
                f"$split={self.split} needs $root=<folder of AIST++-named silhouette videos> (e.g. the "
                "labelled dancers: python -m deepdance.make_synthetic --silhouette); the embedded "
                "dance is one dancer"
            )
        if self.threshold_rule == "person" and not self.pose.masks:
            raise ValueError("$pose.masks=false: $threshold_rule=person needs the person masks")
        if self.follow and self.crop is not None:
            raise ValueError(
                f"$follow=true: expected $crop=null, not {self.crop} (the box that follows the dancer "
                "replaces the fixed one)"
            )
        if self.phases > 1 and self.fps is None:
            raise ValueError(
                f"$phases={self.phases} shifts the sampling times of $fps, which is null: set it"
            )
        return self

    def _annotation_rules(self) -> None:
        """Keypoints are drawn, not thresholded: the settings of a video's pixels do not apply."""
        if self.root is None:
            raise ValueError(
                "$source=annotations needs $root=<AIST++ annotation folder> (keypoints2d/<sequence>.pkl) "
                "or one keypoints2d .pkl file"
            )
        if self.threshold_rule == "person" or self.crop is not None or self.ignore_boxes:
            raise ValueError(
                "$source=annotations draws the body from keypoints: expected no $threshold_rule=person, "
                "$crop or $ignore_boxes (they act on a video's pixels)"
            )
