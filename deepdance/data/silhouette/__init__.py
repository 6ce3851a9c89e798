"""Deep-Dance silhouettes: preprocessing a video to binary frames, their disk cache, the datamodule.

``deepdance.data.silhouette.SilhouetteDataModule`` is also the ``_target_`` stored in older
checkpoints, so this export keeps them loading.
"""

from deepdance.data.silhouette.cache import SilhouetteCache, cache_key
from deepdance.data.silhouette.datamodule import (
    Segment,
    SilhouetteDataModule,
    SilhouetteSequences,
    chronological_split,
    dancer_split,
)
from deepdance.data.silhouette.preprocess import SilhouetteSettings, extract_silhouettes

__all__ = [
    "Segment",
    "SilhouetteCache",
    "SilhouetteDataModule",
    "SilhouetteSequences",
    "SilhouetteSettings",
    "cache_key",
    "chronological_split",
    "dancer_split",
    "extract_silhouettes",
]
