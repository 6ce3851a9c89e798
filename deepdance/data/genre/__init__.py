"""Genre recognition data: the datamodule over an explicit manifest, and clip augmentation.

The clip datasets live in ``deepdance.data.genre.clip_datasets``; the datamodule builds them.
"""

from deepdance.data.genre.augment import ClipAugment
from deepdance.data.genre.datamodule import GenreDataModule, VideoClipDataset
from deepdance.data.genre.manifest import build_manifest

__all__ = ["ClipAugment", "GenreDataModule", "VideoClipDataset", "build_manifest"]
