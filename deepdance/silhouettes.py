"""Preview silhouettes before training on them.

    python -m deepdance.silhouettes video=clip.mp4 out=previews/clip
    python -m deepdance.silhouettes video=/data/aist out=previews/person \
        data.threshold_rule=person data.follow=true
    python -m deepdance.silhouettes data=motion_silhouettes video=../shared/data/aist_annotations \
        out=previews/motion      # each view of each keypoints2d file, drawn

Per video, the frames a run with the same ``data.*`` settings would train on (read through the
same cache): ``<out>/<stem>.mp4`` and a strip of frames ``<out>/<stem>.png``, with the share of the
frame the dancer fills printed. The work is ``deepdance.data.silhouette.preview``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig

from deepdance.config.base import parse
from deepdance.config.data import SilhouetteDataConfig
from deepdance.config.validate import validate_silhouettes
from deepdance.utils.run import task_wrapper

if TYPE_CHECKING:
    from deepdance.pose.estimator import PoseEstimator


def preview(cfg: DictConfig, estimator: PoseEstimator | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the command, then write every video's preview; ``estimator`` replaces the configured
    pose backend (tests)."""
    from deepdance.data.silhouette.preview import write_previews

    videos, folder = validate_silhouettes(cfg)
    data = parse(SilhouetteDataConfig, cfg.data, "data")
    if data.source == "annotations":
        # the annotation folder (or file) previewed is video=, not data.root
        data = data.model_copy(update={"root": str(cfg.video)})
    written = write_previews(videos, folder, data, int(cfg.strip_frames), estimator)
    for item in written:
        height, width = item["size"]
        print(
            f"wrote {item['mp4']} and {item['png']}: {item['frames']} frames of {height}x{width} at "
            f"{item['fps']:g} fps, the dancer {100 * item['dancer']:.1f} % of the frame"
        )
    return {"videos": len(written)}, {"written": written}


@task_wrapper
def silhouettes(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The preview as a task: a user error is one line, exit code 2."""
    return preview(cfg)


@hydra.main(version_base="1.3", config_path="../conf", config_name="silhouettes")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    silhouettes(cfg)


if __name__ == "__main__":
    main()
