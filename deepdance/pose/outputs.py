"""What ``extract_poses`` writes into ``out``, an owned folder (``deepdance.data.owned_folder``):

* ``keypoints2d/<video stem>.pkl``: the AIST++ keypoints2d format with one view
  (``deepdance.data.aist.annotations.keypoints.write_keypoints2d``): ``keypoints2d`` (1, N, 17, 3)
  in source pixels, ``det_scores`` (1, N), ``timestamps`` (N,) microseconds, ``landmarks`` (1, N, L, 3);
* ``masks/<video stem>.npz``: ``masks`` (N, H, W) uint8, 1 on the dancer, and ``frame_indices``;
* with ``format=mmaction``, ``mmaction.pkl`` (``deepdance.pose.mmaction``).

``out`` is then a valid ``data.root`` for ``data=aist_pose``. Every file is listed with its size and
SHA-256 in ``extract_poses.json``; a file of these names that the record does not list is never
replaced, and nothing is written until every name is known to be free or ours.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from deepdance.data.owned_folder import OwnedFolder, Record, file_facts
from deepdance.errors import DeepdanceError
from deepdance.pose.video_poses import VideoPoses
from deepdance.utils.cache_io import atomic_write_bytes

RECORD_NAME = "extract_poses.json"
MMACTION_NAME = "mmaction.pkl"
HINT = "choose an empty folder for out=, or one extract_poses wrote"


def owned_out(out: str | Path) -> OwnedFolder:
    """``out`` as an owned folder (its audit refuses a folder holding videos it did not write)."""
    return OwnedFolder(out, RECORD_NAME, HINT)


def planned_files(stems: list[str], form: str, masks: bool) -> list[str]:
    """The names (relative to ``out``) one run writes."""
    names = [f"keypoints2d/{stem}.pkl" for stem in stems]
    names += [f"masks/{stem}.npz" for stem in stems] if masks else []
    return names + ([MMACTION_NAME] if form == "mmaction" else [])


def refuse_foreign(folder: OwnedFolder, record: Record | None, names: list[str]) -> None:
    """One line when a file of these names is in ``out`` and its record does not list it."""
    listed = record.files if record is not None else {}
    foreign = [name for name in names if (folder.root / name).exists() and name not in listed]
    if foreign:
        raise DeepdanceError(
            f"out={folder.root}: {foreign[0]} exists and {RECORD_NAME} does not list it, so nothing "
            f"was written; {HINT}"
        )


def _write_keypoints2d(poses: VideoPoses, path: Path) -> None:
    from deepdance.data.aist.annotations.keypoints import Keypoints2D, write_keypoints2d

    write_keypoints2d(
        path,
        Keypoints2D(
            keypoints=poses.keypoints[None],
            det_scores=poses.det_scores[None],
            timestamps=poses.timestamps,
            landmarks=poses.landmarks[None],
        ),
    )


def _masks_bytes(poses: VideoPoses) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, masks=poses.masks, frame_indices=poses.frame_indices)
    return buffer.getvalue()


def write_outputs(out: str | Path, videos: dict[str, VideoPoses], form: str) -> list[Path]:
    """Write every video's files (and the mmaction pickle) into ``out``; the paths written."""
    from deepdance.pose.mmaction import write_skeleton_dataset

    folder = owned_out(out)
    masks = all(p.masks is not None for p in videos.values())
    names = planned_files(sorted(videos), form, masks)
    written: list[Path] = []
    with folder.claimed() as record:
        refuse_foreign(folder, record, names)
        # recorded before they are written: a run killed half-way leaves a folder still ours
        record.files.update({name: None for name in names if name not in record.files})
        folder.save(record)
        for stem, poses in sorted(videos.items()):
            target = folder.root / f"keypoints2d/{stem}.pkl"
            _write_keypoints2d(poses, target)
            written.append(target)
            if masks:
                written.append(atomic_write_bytes(folder.root / f"masks/{stem}.npz", _masks_bytes(poses)))
        if form == "mmaction":
            written.append(write_skeleton_dataset(folder.root / MMACTION_NAME, videos))
        for path in written:
            record.files[path.relative_to(folder.root).as_posix()] = file_facts(path)
        folder.save(record)
    return written
