"""Do the silhouette genres stay distinguishable at 3, 6 and 10 fps? A cheap, honest probe.

The second genre of each synthetic family dances the first's motion backwards in double time
(``deepdance/data/synthetic/kinematics.py``): its fastest limbs loop at up to ~1.7 Hz once the
dancer's own tempo (``dancer_tempo``) is added, above the 1.5 Hz that 3 fps can represent, so
sparse frames may alias direction and speed. Rather than assume it, this trains two small
classifiers on simple motion features of the labelled silhouette dancers and tests them on
held-out dancers, at each frame rate, over several generator seeds (new dancers each time).

Clips are rendered in memory at each rate directly (the same performances, ``render_dance``
with the generator's jobs), thresholded at 128 as ``data/silhouette/preprocess.py`` does, at
the Deep-Dance experiments' 48x80. Features, pooled to a 6x10 grid:

* ``one_frame``: the middle frame alone (the single-frame control: family, not timing);
* ``motion``: the mean frame, the mean absolute change between consecutive frames, and the
  mean temporal change times the horizontal and vertical image gradients (a local, signed
  motion direction: it flips when a loop runs the other way, and aliasing scrambles it).

Classifiers: nearest centroid and L2-regularised softmax regression on standardised features.
Writes ``results.csv`` (one row per seed, rate, features, classifier) and ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from deepdance.data.aist.names import GENRES
from deepdance.data.aist.splits import split_by_dancer
from deepdance.data.synthetic.dataset import SyntheticConfig, video_jobs
from deepdance.data.synthetic.kinematics import family_of
from deepdance.data.synthetic.renderer import render_dance

HEIGHT, WIDTH = 48, 80
# the pooling grid: 8x8-pixel cells
GRID = (6, 10)


def pool(maps: np.ndarray) -> np.ndarray:
    """(..., H, W) -> (..., 6 * 10) cell means."""
    gh, gw = GRID
    shape = maps.shape[:-2] + (gh, HEIGHT // gh, gw, WIDTH // gw)
    return maps.reshape(shape).mean(axis=(-3, -1)).reshape(*maps.shape[:-2], gh * gw)


def clip_features(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Binary frames (T, H, W) in {0, 1} -> each feature set's vector."""
    change = np.diff(frames, axis=0)  # (T-1, H, W)
    between = 0.5 * (frames[1:] + frames[:-1])
    grad_y, grad_x = np.gradient(between, axis=(1, 2))
    motion = np.concatenate(
        [
            pool(frames.mean(axis=0)),
            pool(np.abs(change).mean(axis=0)),
            pool((change * grad_x).mean(axis=0)),
            pool((change * grad_y).mean(axis=0)),
        ]
    )
    return {"one_frame": pool(frames[len(frames) // 2]), "motion": motion}


def render_clips(config: SyntheticConfig, fps: float, seconds: float) -> tuple[pd.DataFrame, dict]:
    """Every job of ``config`` as a clip of ``seconds`` at ``fps``: the manifest and features."""
    rows, features = [], {"one_frame": [], "motion": []}
    num_frames = int(round(seconds * fps))
    for job in video_jobs(config):
        rgb = render_dance(
            job.name.genre,
            job.dancer_seed,
            job.camera,
            job.music,
            num_frames,
            fps,
            (HEIGHT, WIDTH),
            job.rng_seed,
            silhouette=True,
            tempo_factor=job.tempo_factor,
        )
        # dark dancer -> 1, as preprocess.py's fixed threshold with polarity dark
        frames = (rgb[..., 0] < 128).astype(np.float64)
        for name, vector in clip_features(frames).items():
            features[name].append(vector)
        rows.append({"genre": job.name.genre, "dancer": job.name.dancer})
    return pd.DataFrame(rows), {k: np.stack(v) for k, v in features.items()}


def nearest_centroid(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """The class of the nearest class mean: no fitting choices to tune."""
    centroids = np.stack([train_x[train_y == c].mean(axis=0) for c in range(len(GENRES))])
    return ((test_x[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(axis=1)


def softmax_regression(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, l2: float = 1e-2
) -> np.ndarray:
    """A linear classifier fitted to convergence (LBFGS): what a linear readout can get."""
    x = torch.as_tensor(train_x, dtype=torch.float64)
    y = torch.as_tensor(train_y)
    weight = torch.zeros(x.shape[1], len(GENRES), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(len(GENRES), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=300, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = torch.nn.functional.cross_entropy(x @ weight + bias, y) + l2 * weight.pow(2).sum()
        value.backward()
        return value

    optimiser.step(loss)
    with torch.no_grad():
        logits = torch.as_tensor(test_x, dtype=torch.float64) @ weight + bias
    return logits.argmax(dim=1).numpy()


CLASSIFIERS = {"nearest_centroid": nearest_centroid, "softmax": softmax_regression}


def evaluate(manifest: pd.DataFrame, features: dict, seed: int) -> list[dict]:
    """Train on 4 dancers per genre, test on the 2 held out: accuracy and within-family confusion."""
    split = split_by_dancer(manifest, seed=seed, val_dancers=0, test_dancers=2)
    train, test = (split == "train").to_numpy(), (split == "test").to_numpy()
    labels = manifest["genre"].map(GENRES.index).to_numpy()
    family = np.array([family_of(g).name for g in GENRES])
    out = []
    for name, x in features.items():
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
        z = (x - mean) / std
        for classifier, fit in CLASSIFIERS.items():
            predicted = fit(z[train], labels[train], z[test])
            truth = labels[test]
            same_family = family[predicted] == family[truth]
            out.append(
                {
                    "features": name,
                    "classifier": classifier,
                    "acc": float((predicted == truth).mean()),
                    "family_acc": float(same_family.mean()),
                    # of the clips whose family is right, how many get the timing (genre) right
                    "timing_acc": float((predicted == truth)[same_family].mean()),
                    "test_clips": int(test.sum()),
                }
            )
    return out


def main() -> None:
    """Render, featurise, fit and score every seed and rate; write the raw rows and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fps", type=float, nargs="+", default=[3.0, 6.0, 10.0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--dancer-tempo", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for seed in args.seeds:
        # the labelled set's layout (conf/data/silhouette_genre.yaml), small frames
        config = SyntheticConfig(
            seed=seed,
            dancers_per_genre=6,
            cameras=2,
            musics=2,
            size=HEIGHT,
            width=WIDTH,
            silhouette=True,
            dancer_tempo=args.dancer_tempo,
        )
        for fps in args.fps:
            manifest, features = render_clips(config, fps, args.seconds)
            for row in evaluate(manifest, features, seed):
                rows.append({"seed": seed, "fps": fps, "frames": int(round(args.seconds * fps)), **row})
            print(f"seed {seed} fps {fps:g}: {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "results.csv", index=False, float_format="%.4f")
    grouped = table.groupby(["fps", "features", "classifier"])
    summary = {
        "command": "experiments/silhouette_fps/run.sh",
        "seconds_per_clip": args.seconds,
        "dancer_tempo": args.dancer_tempo,
        "seeds": args.seeds,
        "chance": 1 / len(GENRES),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "groups": [
            {
                "fps": fps,
                "features": features,
                "classifier": classifier,
                **{
                    f"{metric}_{stat}": round(float(getattr(group[metric], stat)()), 4)
                    for metric in ("acc", "family_acc", "timing_acc")
                    for stat in ("mean", "std")
                },
            }
            for (fps, features, classifier), group in grouped
        ],
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(grouped[["acc", "family_acc", "timing_acc"]].agg(["mean", "std"]).round(3).to_string())


if __name__ == "__main__":
    main()
