"""Annotation keypoints as silhouette videos (``data.source=annotations``): the frame source the
silhouette datamodule reads instead of decoding videos.

Each view of each ``keypoints2d`` file is one "video", named as that camera's AIST++ video
(``gBR_sBM_cAll_d04_mBR0_ch01.pkl`` view 0 -> ``.../keypoints2d/gBR_sBM_c01_d04_mBR0_ch01``), so the
genre, the dancer and the sequence of its windows come from the name exactly as for a video, and
a split by dancer or by sequence keeps every view of a sequence together. The frames are drawn
once (``motion_render``) and cached like a video's silhouettes: the key is the keypoint file's
SHA-256, the view, every drawing setting and ``RENDER_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from deepdance.config.data import SilhouetteDataConfig
from deepdance.data.aist.names import normalise_cameras, parse_sequence_name
from deepdance.data.silhouette.cache import file_digest, stored_frames
from deepdance.data.silhouette.motion_render import MotionStyle, render_keypoints
from deepdance.data.silhouette.preprocess import SilhouetteSettings
from deepdance.errors import DeepdanceError

log = logging.getLogger(__name__)

# Bump when the same settings would draw different frames: old caches are then ignored.
RENDER_VERSION = 1
SOURCE = "annotations"


@dataclass(frozen=True)
class MotionView:
    """One view of one keypoints2d file: a silhouette video to the datamodule."""

    # ``<keypoints2d folder>/<the view's video stem>``: a name, not a file
    path: Path
    file: Path
    view: int


@lru_cache(maxsize=4)
def _keypoints(file: Path, size: int, mtime: int) -> Any:
    """The file's keypoints, read once for all its views (keyed by size and mtime: an edited file
    is read again)."""
    from deepdance.data.aist.annotations import load_keypoints2d

    return load_keypoints2d(file)


def read_keypoints(file: Path) -> Any:
    """The ``Keypoints2D`` of ``file``, memoised while the file is unchanged."""
    stat = Path(file).stat()
    return _keypoints(Path(file), stat.st_size, stat.st_mtime_ns)


def view_name(file: Path, view: int, camera: str) -> str:
    """The video stem of ``camera``'s view of ``file``: its AIST++ camera name where the file has one,
    else ``<stem>_view<k>``."""
    try:
        fields = parse_sequence_name(file.name)
    except ValueError:
        return f"{file.stem}_view{view + 1:02d}"
    if fields.camera != "All":
        return file.stem
    return file.stem.replace("_cAll_", f"_c{camera}_", 1)


def annotation_views(root: str | Path, views: list[int | str] | None = None) -> list[MotionView]:
    """Every view of the keypoints2d files of ``root`` (an annotation folder, or one ``.pkl``),
    sorted; ``views`` keeps only those cameras. Ignored sequences (ignore_list.txt) are left out."""
    from deepdance.data.aist.annotations import AnnotationFolder

    root = Path(root)
    if root.is_file():
        if root.suffix != ".pkl":
            raise DeepdanceError(
                f"data.root={root}: expected an AIST++ annotation folder or a keypoints2d .pkl file"
            )
        files = [root]
    else:
        folder = AnnotationFolder(root)
        files = [
            entry.keypoints2d
            for entry in folder.sequences
            if entry.keypoints2d is not None and not folder.is_ignored(entry.name)
        ]
        if (root / "normalized_2d").is_dir():
            log.info("%s/normalized_2d: standardised keypoints, not pixels; not drawn as silhouettes", root)
        if not files:
            raise DeepdanceError(
                f"data.root={root}: no keypoints2d/<sequence>.pkl to draw (data.source=annotations reads 2D "
                "keypoints in pixels; keypoints3d/ and normalized_2d/ are not drawn)"
            )
    wanted = set(normalise_cameras(views)) if views is not None else None
    out = []
    for file in files:
        try:
            fields = parse_sequence_name(file.name)
        except ValueError:
            fields = None
        for view in range(read_keypoints(file).num_views):
            # a per-camera file is its own camera's view; a sequence's views are c01, c02, ..
            own = fields is not None and fields.camera != "All"
            camera = fields.camera if own else f"{view + 1:02d}"
            if wanted is None or camera in wanted:
                out.append(MotionView(file.parent / view_name(file, view, camera), file, view))
    if not out:
        raise DeepdanceError(f"data.motion.views={views}: no view of these cameras in {root}")
    return out


class MotionSilhouettes:
    """The views of an annotation folder as silhouette videos, drawn once into ``cache_dir``."""

    def __init__(self, config: SilhouetteDataConfig) -> None:
        if config.root is None:
            raise DeepdanceError("data.source=annotations needs data.root=<AIST++ annotation folder>")
        self.root = Path(config.root)
        self.config = config
        self.cache_dir = Path(config.cache_dir)
        self._views: dict[Path, MotionView] = {}

    def paths(self) -> list[Path]:
        """One name per view (``MotionView.path``), as ``find_videos`` lists videos."""
        if not self._views:
            self._views = {view.path: view for view in annotation_views(self.root, self.config.motion.views)}
        return list(self._views)

    def view(self, path: Path) -> MotionView:
        if not self._views:
            self.paths()
        return self._views[Path(path)]

    def style(self, settings: SilhouetteSettings) -> MotionStyle:
        """The drawing settings of ``settings`` (size, rate, start, crop) and ``data.motion``."""
        motion = self.config.motion.model_dump(exclude={"views"})
        return MotionStyle(
            height=settings.height,
            width=settings.width,
            fps=settings.fps,
            start_seconds=settings.start_seconds,
            follow=settings.follow,
            follow_margin=settings.follow_margin,
            follow_seconds=settings.follow_seconds,
            **motion,
        )

    def preprocessing(self) -> dict[str, Any]:
        """What a checkpoint records beside the video settings: the frames were drawn, and how."""
        return {"source": SOURCE, "motion": self.config.motion.model_dump(exclude={"views"})}

    def cache_path(self, path: Path, settings: SilhouetteSettings) -> Path:
        view = self.view(path)
        content = {
            "keypoints2d": file_digest(view.file),
            "view": view.view,
            "style": asdict(self.style(settings)),
            "version": RENDER_VERSION,
        }
        key = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:24]
        return self.cache_dir / f"{Path(path).name[:60]}-{key}.npy"

    def load(self, path: Path, settings: SilhouetteSettings) -> np.ndarray:
        """Memory-mapped (T, height, width) uint8 silhouettes of one view, drawn on first use."""
        view, style = self.view(path), self.style(settings)

        def draw() -> np.ndarray:
            keypoints = read_keypoints(view.file)
            return render_keypoints(keypoints.keypoints[view.view], keypoints.timestamps, style)

        meta = {"video": str(path), "keypoints2d": str(view.file), "view": view.view, "style": asdict(style)}
        return stored_frames(self.cache_path(path, settings), draw, meta, settings.height, settings.width)

    def rate(self, path: Path) -> float:
        """The keypoints' frame rate (from their timestamps): what data.phases needs of a source."""
        return float(read_keypoints(self.view(path).file).fps())
