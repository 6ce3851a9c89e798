"""Keypoints and person masks from any dance video (or every video in a folder).

    python -m deepdance.extract_poses video=dance.mp4 out=poses/
    python -m deepdance.extract_poses video=/folder/of/videos out=poses/ format=mmaction pose.fps=30

Writes ``<out>/keypoints2d/<video stem>.pkl`` in the AIST++ format (one view) and
``<out>/masks/<video stem>.npz``; ``format=mmaction`` also ``<out>/mmaction.pkl`` for MMAction2 and
pyskl (``deepdance.pose.outputs``). The pose backend runs once per video and setting: its output
is kept in the pose store (``pose.store_dir``), batch by batch, so a stopped run resumes. Every
video is estimated before anything is written to ``out``: a video where nobody is found stops the
run with one line naming it, and ``out`` is left as it was.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from deepdance.config.validate import validate_extract_poses
from deepdance.errors import DeepdanceError
from deepdance.utils.run import task_wrapper
from deepdance.utils.run_info import write_run_info
from deepdance.utils.stop import StopOnSigterm

log = logging.getLogger("deepdance.extract_poses")


def estimate_all(videos: list[Path], config: Any) -> dict[str, Any]:
    """Every video's dancer (stem -> ``VideoPoses``) through the pose store, one backend for all;
    SIGTERM stops within one batch, the store keeping every finished batch (exit code 143)."""
    from deepdance.pose.backends import build_estimator
    from deepdance.pose.store import PoseStore

    store = PoseStore(config.store_dir)
    results: dict[str, Any] = {}
    stop = StopOnSigterm("extract_poses", "run the same command again to resume")
    stop.kept = lambda: (
        f"every finished batch in the pose store {store.root} ({len(results)} of {len(videos)} videos "
        "done); nothing written to out"
    )
    estimator = build_estimator(config)
    try:
        with stop:
            for number, video in enumerate(videos, start=1):
                poses = store.get(video, config, estimator=estimator)
                log.info(
                    "%d/%d %s: dancer found in %d of %d frames",
                    number,
                    len(videos),
                    video.name,
                    int(poses.found.sum()),
                    len(poses),
                )
                results[video.stem] = poses
    finally:
        estimator.close()
    return results


def refuse_empty(videos: list[Path], results: dict[str, Any], out: str) -> None:
    """One line naming the first video where nobody was found in any frame."""
    empty = [video for video in videos if not results[video.stem].found.any()]
    if empty:
        more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
        raise DeepdanceError(
            f"{empty[0]}: nobody found in any of its {len(results[empty[0].stem])} frames{more}; "
            f"nothing was written to out={out}"
        )


@task_wrapper
def extract_poses(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Estimate, check, then write; as a task, so a user error is one line (exit code 2)."""
    from deepdance.pose.outputs import write_outputs

    command, config, videos = validate_extract_poses(cfg)
    write_run_info(cfg.paths.output_dir, cfg)
    results = estimate_all(videos, config)
    refuse_empty(videos, results, command.out)
    written = write_outputs(Path(command.out).expanduser(), results, command.format)
    for path in written:
        print(f"wrote {path}")
    summary = {
        stem: {"frames": len(poses), "found": int(poses.found.sum()), "size": list(poses.size)}
        for stem, poses in results.items()
    }
    return {"videos": summary, "written": [str(p) for p in written]}, {"poses": results}


@hydra.main(version_base="1.3", config_path="../conf", config_name="extract_poses")
def main(cfg: DictConfig) -> None:
    """Hydra entry point, apart from extract_poses() so tests can call the task with a composed config."""
    extract_poses(cfg)


if __name__ == "__main__":
    main()
