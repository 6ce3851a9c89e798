"""The README's picture of the real-dancer front end (issue 21), on a synthetic RGB render.

One frame of a synthetic dancer (a drawn figure with a face, not a person) over a cluttered
background, and what a run makes of it at the default ``data.*`` settings (120 x 200, 3 fps):

1. the rendered frame, as the front end decodes it from the mp4;
2. the silhouette by gray-level threshold, ``data.threshold_rule=fixed`` (128, polarity dark);
3. the same by ``data.threshold_rule=otsu``;
4. the silhouette by person mask, ``data.threshold_rule=person data.follow=true``;
5. the front end's COCO-17 keypoints over the frame, the ground truth beside them.

Every silhouette comes from ``extract_silhouettes``, the function a run's cache calls, and the
keypoints from the same pose store the person rule read, so the picture shows a run's frames.
The frame is chosen from the ground truth alone, before the front end runs: among the sampled
frames of all rendered videos, the one whose ground-truth keypoint box is largest (the most open
pose). Numbers beside the picture (``summary.json``): each silhouette's IoU with the ground-truth
mask at the same crop, the front end's PCK@0.2 of torso length on that frame.

    python experiments/pose_picture/picture.py --work DIR --png docs/images/real_dancers.png \
        --record experiments/pose_picture
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepdance.config.base import parse  # noqa: E402
from deepdance.config.data import SilhouetteDataConfig  # noqa: E402
from deepdance.data.silhouette.follow import crop_resize, resize_mask  # noqa: E402
from deepdance.data.silhouette.preprocess import (  # noqa: E402
    SilhouetteSettings,
    dancer_crops,
    extract_silhouettes,
    sampled_indices,
    video_poses,
)
from deepdance.data.synthetic.rgb import load_truth, truth_path, write_rgb_videos  # noqa: E402
from deepdance.data.synthetic.settings import SyntheticConfig  # noqa: E402
from deepdance.data.video.reader import open_video  # noqa: E402
from deepdance.pose.skeleton import EDGES, torso_length  # noqa: E402
from deepdance.utils.run_info import write_run_info  # noqa: E402

# one dancer per genre, one camera, one music, 2 s: ten short videos, at the 256 x 320
RENDER = SyntheticConfig(seed=1, dancers_per_genre=1, cameras=1, musics=1, seconds=2.0, size=256, width=320)
BACKGROUND = "clutter"
# the silhouette settings a run would use; everything else at the data schema's defaults
RULES = {
    "fixed": {"threshold_rule": "fixed"},
    "otsu": {"threshold_rule": "otsu"},
    "person": {"threshold_rule": "person", "follow": True},
}
TRUTH_COLOUR, FRONT_END_COLOUR = "#00e5ff", "#ff2d55"


def settings_of(rule: dict, store: Path) -> tuple[SilhouetteSettings, SilhouetteDataConfig]:
    """The validated data config of ``rule`` (the pose store under the work folder) and its settings."""
    data = parse(SilhouetteDataConfig, {**rule, "pose": {"store_dir": str(store)}}, "data")
    return SilhouetteSettings.from_config(data.model_dump()), data


def pick_frame(videos: list[Path], indices: np.ndarray) -> tuple[Path, int]:
    """The video and sampled position whose ground-truth keypoint box is largest."""
    best = (-1.0, videos[0], 0)
    for video in videos:
        points = load_truth(truth_path(video)).keypoints[indices, :, :2]
        area = np.ptp(points[..., 0], axis=1) * np.ptp(points[..., 1], axis=1)
        k = int(area.argmax())
        if area[k] > best[0]:
            best = (float(area[k]), video, k)
    return best[1], best[2]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two silhouettes of the same size, each cut at half gray."""
    a, b = a >= 128, b >= 128
    return float((a & b).sum() / max((a | b).sum(), 1))


def pck(pred: np.ndarray, truth: np.ndarray, min_confidence: float) -> float:
    """Share of the 17 joints within 0.2 torso lengths of the truth (a joint below the confidence cut
    or not found counts as a miss)."""
    found = np.isfinite(pred[:, :2]).all(axis=1) & (pred[:, 2] >= min_confidence)
    error = np.linalg.norm(np.nan_to_num(pred[:, :2]) - truth[:, :2], axis=1)
    return float((found & (error <= 0.2 * float(torso_length(truth[None, :, :2])[0]))).mean())


def draw_skeleton(
    axes: plt.Axes, points: np.ndarray, colour: str, label: str, style: str = "-", width: float = 2.0
) -> None:
    """Bones and joints of ``points`` (17, >=2) px; a joint that is NaN is left out with its bones."""
    for a, b in EDGES:
        if np.isfinite(points[[a, b], :2]).all():
            axes.plot(points[[a, b], 0], points[[a, b], 1], style, color=colour, lw=width)
    ok = np.isfinite(points[:, :2]).all(axis=1)
    axes.plot(points[ok, 0], points[ok, 1], "o", color=colour, ms=width + 1.5, label=label)


def main() -> None:
    """Render, extract as a run would, score against the truth, draw."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="renders and the pose store (not committed)")
    parser.add_argument("--png", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True, help="summary.json and run_info.json go here")
    args = parser.parse_args()
    store = args.work / "poses"

    videos = write_rgb_videos(args.work / "rgb", RENDER, backgrounds=(BACKGROUND,))
    settings = {name: settings_of(rule, store) for name, rule in RULES.items()}
    fixed = settings["fixed"][0]
    reader = open_video(videos[0])
    indices = sampled_indices(len(reader), float(reader.get_avg_fps()), fixed.fps, fixed.start_seconds)
    video, k = pick_frame(videos, indices)
    truth = load_truth(truth_path(video))
    frame = open_video(video)[int(indices[k])].asnumpy()
    true_mask = truth.masks[indices[k]]

    sil = {name: extract_silhouettes(video, s, pose_store=store)[k] for name, (s, _) in settings.items()}
    person, person_data = settings["person"]
    # the poses the person rule read (the same store entry), and its follow crop of this frame
    poses = video_poses(video, person, indices, None, store)
    box = dancer_crops(video, person, poses, person.fps)[k]
    keypoints = poses.keypoints[k]
    min_conf = person_data.pose.min_keypoint_confidence
    scores = {
        "video": video.name,
        "source_frame": int(indices[k]),
        "iou_fixed": iou(sil["fixed"], resize_mask(true_mask, fixed.height, fixed.width)),
        "iou_otsu": iou(sil["otsu"], resize_mask(true_mask, fixed.height, fixed.width)),
        "iou_person_follow": iou(sil["person"], crop_resize(true_mask, box, person.height, person.width)),
        "pck@0.2": pck(keypoints, truth.keypoints[indices[k]], min_conf),
        "dancer_share_of_frame": float(true_mask.mean()),
        "settings": {name: s.to_json() for name, (s, _) in settings.items()},
        "render": RENDER.to_json(),
        "background": BACKGROUND,
    }

    figure, axes = plt.subplots(
        1, 5, figsize=(17, 3.9), gridspec_kw={"width_ratios": [1.25, 1.67, 1.67, 1.67, 1.25]}
    )
    axes[0].imshow(frame)
    axes[0].set_title(f"synthetic RGB render, {frame.shape[1]}x{frame.shape[0]}\n{video.stem}", fontsize=10)
    titles = {
        "fixed": f"threshold: fixed 128, dark\nIoU with the true mask {scores['iou_fixed']:.2f}",
        "otsu": f"threshold: otsu, dark\nIoU with the true mask {scores['iou_otsu']:.2f}",
        "person": "person mask (MediaPipe), follow crop\n"
        f"IoU with the true mask {scores['iou_person_follow']:.2f}",
    }
    for axes_, name in zip(axes[1:4], RULES):
        # black dancer on white, as the silhouette previews show them; the run's 120 x 200 frame
        axes_.imshow(255 - sil[name], cmap="gray", vmin=0, vmax=255)
        axes_.set_title(titles[name] + f", {fixed.width}x{fixed.height}", fontsize=10)
    # the frame faded, so the bones stand out on it
    axes[4].imshow(frame, alpha=0.5)
    # the truth under the front end: wide dashes beneath, the estimate drawn over them
    true_points = truth.keypoints[indices[k]]
    draw_skeleton(axes[4], true_points, TRUTH_COLOUR, "ground truth", "--", width=3.5)
    shown = keypoints.copy()
    shown[shown[:, 2] < min_conf, :2] = np.nan
    draw_skeleton(axes[4], shown, FRONT_END_COLOUR, "front end (MediaPipe)", width=1.8)
    # zoomed on the dancer: the ground-truth box grown by 15 % of its longer side, at the frame's
    # aspect, inside the frame
    (x0, y0), (x1, y1) = true_points[:, :2].min(axis=0), true_points[:, :2].max(axis=0)
    height, width = frame.shape[:2]
    half_h = min(max(y1 - y0, (x1 - x0) * height / width) / 2 + 0.15 * max(x1 - x0, y1 - y0), height / 2)
    half_w = half_h * width / height
    cx = float(np.clip((x0 + x1) / 2, half_w, width - half_w))
    cy = float(np.clip((y0 + y1) / 2, half_h, height - half_h))
    axes[4].set_xlim(cx - half_w, cx + half_w)
    axes[4].set_ylim(cy + half_h, cy - half_h)
    axes[4].set_title(
        f"COCO-17: front end red, truth cyan\nPCK@0.2 of torso length {scores['pck@0.2']:.2f}",
        fontsize=10,
    )
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
    figure.suptitle(
        "A synthetic dancer (a drawn figure, not a person) and what a run makes of the frame "
        "at the default data settings",
        fontsize=11,
    )
    figure.tight_layout()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.png, dpi=110, bbox_inches="tight", pad_inches=0.05)
    args.record.mkdir(parents=True, exist_ok=True)
    (args.record / "summary.json").write_text(json.dumps(scores, indent=2) + "\n")
    # a fresh record each run (write_run_info without a config would add to an older one)
    (args.record / "run_info.json").unlink(missing_ok=True)
    write_run_info(args.record, png=str(args.png))
    print(json.dumps({key: value for key, value in scores.items() if key not in ("settings", "render")}))


if __name__ == "__main__":
    main()
