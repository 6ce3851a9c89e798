"""Genre recognition data: the datamodule over an explicit manifest, and clip augmentation.

The clip datasets live in ``deepdance.data.genre.clip_datasets``; the datamodule builds them.
"""

from deepdance.data.genre.augment import ClipAugment
from deepdance.data.genre.datamodule import SAMPLINGS, GenreDataModule, VideoClipDataset, check_genres

__all__ = ["SAMPLINGS", "ClipAugment", "GenreDataModule", "VideoClipDataset", "check_genres"]
