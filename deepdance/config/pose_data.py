"""The ``data`` group of the skeleton models: keypoint sequences of an AIST++ annotation folder
(``PoseDataConfig``), or of the synthetic dancers' exported annotations. Each setting's type,
default and range is written here once; conf/data/aist_pose.yaml inherits them
(``deepdance.config.store``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from deepdance.config.base import Schema
from deepdance.config.data import _dataclass, check_folds

POSE_DATA = "deepdance.data.pose.PoseDataModule"


class PoseDataConfig(Schema, title="PoseDataModule"):
    """Keypoint sequences under ``root`` (AIST++'s keypoints2d/ or keypoints3d/, and normalized_2d/),
    one sample per view, windows from the one ``ClipSampler``, split by dancer as ``data=aist``
    splits videos."""

    # data.genres names at least this many (a genre model needs two)
    min_genres: ClassVar[int] = 2
    # a real root, as start-up checks it (GenreDataConfig's)
    real_root: ClassVar[tuple[str, str]] = ("dir", "data=aist_pose reads an AIST++ annotation folder")
    split_by_names: ClassVar[str] = "deepdance.data.pose.sequences.split_table"

    target: Literal[POSE_DATA] = Field(POSE_DATA, alias="_target_")
    # an AIST++ annotation folder (keypoints2d/, keypoints3d/, normalized_2d/), or extract_poses' out folder
    root: str = Field(min_length=1)
    # 2d: keypoints2d/ per view (pixels) | 3d: keypoints3d/ (one view, cm)
    kind: Literal["2d", "3d"] = "2d"
    # also read root/normalized_2d/<seq>.npy (30 fps, confidence 1): per-coordinate z-scored
    # coordinates, re-normalised here like every sequence (root-centred, torso-scaled), so only
    # their x:y aspect may differ from keypoints2d's; false keeps them out (kind=3d never reads them)
    normalized_2d: bool = True
    # 3d: read keypoints3d_optim (the optimised joints) rather than the raw triangulation
    optim: bool = True
    # e.g. [1, 2] or [c01, c02]: keep only these camera views (2d); null: every view
    views: list[int | str] | None = None
    # frames per window, one per equal segment of the sequence (ClipSampler)
    num_frames: int = Field(32, ge=1)
    # the frames of a window: uniform spacing (no key frames in a keypoint file)
    sampling: Literal["exact"] = "exact"
    # K windows per test sample: test/acc = centre window, test/acc_clipsK = K averaged
    test_clips: int = Field(1, ge=1)
    # also average each sequence's views: test/acc_views
    view_vote: bool = False
    # dancer (whole dancers held out per genre, the assignment of data=aist for the same seed and
    # fold) | sequence (whole sequences held out per genre, all views together: for folders of one
    # dancer per genre) | files (official AIST++ lists in split_dir)
    split: Literal["dancer", "sequence", "files"] = "dancer"
    seed: int = 0
    val_dancers: int = Field(1, ge=1)
    test_dancers: int = Field(1, ge=1)
    fold: int | None = Field(None, ge=0)
    # split=sequence: sequences held out per genre
    val_sequences: int = Field(1, ge=1)
    test_sequences: int = Field(1, ge=1)
    split_dir: str | None = None
    split_set: Literal["crossmodal", "pose"] = "pose"
    # a subset of BR PO LO MH LH HO WA KR JS JB (class order = list order); null = all ten
    genres: list[str] | None = None
    # root-centred (hip midpoint), scaled by the sequence's median torso length
    normalise: bool = True
    # also each joint's displacement from the previous sampled frame (zero for the first)
    velocities: bool = True
    # 2d: joints below this confidence (or with NaN coordinates) are zeroed and masked
    min_confidence: float = Field(0.1, ge=0, le=1)
    # mirror training windows (x -> -x, left and right joints swapped) with probability 0.5
    flip: bool = False
    # the synthetic dancers' settings (deepdance.data.synthetic.SyntheticConfig): their annotations
    # are exported into root on first use; null: read root as it is
    synthetic: Any = None
    # genre: training windows drawn with replacement, every genre equally often (as many per epoch as
    # before; val/test unchanged), for folders where one genre holds most views (the shared sample:
    # 9 views of break against 1 of each other genre, on which a plain shuffle learns break only)
    balance: Literal["none", "genre"] = "none"
    batch_size: int = Field(16, ge=1)
    num_workers: int = Field(0, ge=0)
    pin_memory: bool | None = None
    persistent_workers: bool = False

    @field_validator("synthetic", mode="before")
    @classmethod
    def _synthetic(cls, value: Any) -> Any:
        from deepdance.data.synthetic.settings import SyntheticConfig

        return (
            value
            if value is None or isinstance(value, SyntheticConfig)
            else _dataclass(SyntheticConfig, value)
        )

    @field_validator("genres", "views")
    @classmethod
    def _aist(cls, values: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        from deepdance.data.aist.names import GENRES, normalise_cameras

        if values is not None and info.field_name == "views":
            normalise_cameras(values)
        elif values is not None and (
            not set(values) <= set(GENRES) or len(set(values)) < max(len(values), cls.min_genres, 1)
        ):
            least = {1: "one", 2: "two"}.get(cls.min_genres, str(cls.min_genres))
            raise ValueError(f"expected null or at least {least} distinct genres of {', '.join(GENRES)}")
        return values

    @model_validator(mode="after")
    def _rules(self) -> PoseDataConfig:
        check_folds(self)
        if self.split == "files" and self.split_dir is None:
            raise ValueError(
                "$split=files needs $split_dir=<folder of <split_set>_train/val/test.txt> (AIST++'s splits/)"
            )
        if self.kind == "3d" and self.views is not None:
            raise ValueError(f"$views={self.views}: expected null with $kind=3d (keypoints3d have no views)")
        return self
