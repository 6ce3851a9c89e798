"""The pose-space generator's stochastic next step, applied to the silhouette autoencoder-LSTM:
Gaussian noise on every latent the LSTM feeds back in its rollouts (standardised units), chosen
on validation, reported on test.

    PYTHONPATH=. python experiments/silhouette_motion/noise.py RESULTS_DIR OUT_DIR CANDIDATE NOISE [NOISE ...]

For each run under RESULTS_DIR/CANDIDATE/seed*/summary.json (its best_ckpt): val liveliness
ratio (30-step rollouts from every val window) at each NOISE, and the test rollout metrics
(``test/liveliness30_*``, the rollout errors) at each NOISE, written to
OUT_DIR/<candidate>-noise<N>/seed<S>/summary.json with a run_info.json. The choice (choose.txt):
the smallest noise whose mean val ratio reaches 0.5, per candidate; the baselines (ridge, repeat,
the autoencoder's reconstruction) are rolled out without noise, as in training runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from deepdance.data.silhouette.datamodule import SilhouetteDataModule
from deepdance.models.registry import load_model
from deepdance.utils.run_info import write_run_info


def measured(ckpt: str, noises: list[float]) -> dict[float, dict[str, float]]:
    """Val liveliness and test rollout metrics of one checkpoint at each noise."""
    model, metadata, _ = load_model(ckpt, "eval")
    data = SilhouetteDataModule.from_config(metadata["data"])
    data.prepare_data()
    model.use_sequences(data.sequences())
    results = {}
    for noise in noises:
        with torch.no_grad():
            values = model.evaluator.liveliness(model, "val", None, noise=noise)
            values |= model.evaluator.test_metrics(model, model.data().segments["test"], noise=noise)
        results[noise] = {key: float(value) for key, value in values.items()}
    return results


def main(results_dir: str, out_dir: str, candidates: list[str], noises: list[float]) -> None:
    """Measure every run, write one summary per (candidate, noise, seed), and the choice."""
    torch.set_num_threads(1)
    chosen_lines = []
    for candidate in [Path(results_dir) / name for name in candidates]:
        ratios: dict[float, list[float]] = {noise: [] for noise in noises}
        for summary in sorted(candidate.glob("seed*/summary.json")):
            # a two-stage run's best_ckpt is its LSTM stage's
            ckpt = json.loads(summary.read_text())["best_ckpt"]
            for noise, values in measured(ckpt, noises).items():
                folder = Path(out_dir) / f"{candidate.name}-noise{noise:g}" / summary.parent.name
                folder.mkdir(parents=True, exist_ok=True)
                record = {**values, "best_ckpt": ckpt, "noise": noise}
                (folder / "summary.json").write_text(json.dumps(record, indent=1) + "\n")
                (folder / "run_info.json").unlink(missing_ok=True)
                write_run_info(str(folder), None, noise=noise, best_ckpt=ckpt)
                ratios[noise].append(values["val/liveliness_ratio"])
        means = {noise: sum(r) / len(r) for noise, r in ratios.items() if r}
        lively = [noise for noise, mean in sorted(means.items()) if mean >= 0.5]
        pick = lively[0] if lively else max(means, key=lambda n: means[n])
        table = ", ".join(f"{noise:g}: {mean:.3f}" for noise, mean in sorted(means.items()))
        chosen_lines.append(f"{candidate.name}: mean val liveliness ratio by noise {table}; chosen {pick:g}")
    Path(out_dir, "choose.txt").write_text("\n".join(chosen_lines) + "\n")
    print("\n".join(chosen_lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].split(","), [float(x) for x in sys.argv[4:]])
