"""Run the whole benchmark from a composed config and assemble its rows."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from deepdance.bench.ceiling import CEILING_WRONG
from deepdance.bench.config import StandInSpec
from deepdance.bench.extraction import (
    Backbone,
    DeepdancePipeline,
    SampledClips,
    SeedPipeline,
    bench_store,
    load_backbone,
)
from deepdance.bench.inputs import describe_videos, ensure_standins, find_bench_videos
from deepdance.bench.machine import load_average, machine_facts
from deepdance.bench.report import check_replaceable, project_whole_aist, write_results
from deepdance.bench.rows import BenchRow
from deepdance.bench.sections import (
    Repeats,
    extraction_rows,
    generator_rows,
    gru_rows,
    model_batch_rows,
    pose_rows,
)
from deepdance.errors import DeepdanceError
from deepdance.utils.run_info import write_run_info
from deepdance.utils.stop import StopOnSigterm

log = logging.getLogger("deepdance.bench")


def resolve_device(name: str) -> torch.device:
    """Turn bench.device into a device, refusing CUDA up front where none is visible."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeepdanceError(
            f"bench.device={name}: no CUDA device is visible here; use bench.device=auto or cpu"
        )
    if name != "cpu" and not name.startswith("cuda"):
        raise DeepdanceError(f"bench.device={name!r} is not known; use auto, cpu or cuda")
    return torch.device(name)


def result_name(bench: DictConfig, device: torch.device) -> str:
    """``bench.name``, or ``<label>-<device type>``: the stem of the result files."""
    return str(bench.name or f"{bench.label}-{device.type}")


def resolve_inputs(bench: DictConfig) -> list[tuple[str, list[Path]]]:
    """``bench.videos=synthetic``: the stand-in sets (generated once); otherwise a folder.
    The names were checked with the config (``deepdance.bench.config``)."""
    if str(bench.videos) == "synthetic":
        sets = []
        for name in bench.sets:
            standin = StandInSpec(str(name), **OmegaConf.to_container(bench.inputs[name], resolve=True))
            videos = ensure_standins(bench.inputs_dir, standin, workers=bench.generate_workers)
            sets.append((standin.name, videos[: bench.limit] if bench.get("limit") else videos))
        return sets
    folder = Path(str(bench.videos)).expanduser()
    return [(folder.name or "videos", find_bench_videos(folder, bench.get("limit")))]


def load_backbones(bench: DictConfig, device: torch.device, precision: str) -> tuple[Backbone, Backbone]:
    """deepdance's backbone and the seed's, in one layout (``bench.channels_last``) and with the
    process's torch threads: layout is not what the notebook did differently. The seed stays
    fp32 as the notebook ran; where deepdance is fp32 too, both share one model."""
    settings = {
        "channels_last": bool(bench.channels_last),
        "pretrained": bench.backbone.pretrained,
        "weights": bench.backbone.get("weights"),
    }
    backbone = load_backbone(bench.backbone.name, device, precision, **settings)
    if precision == "fp32":
        return backbone, backbone
    return backbone, load_backbone(bench.backbone.name, device, "fp32", **settings)


def ceiling_violations(rows: list[BenchRow]) -> list[dict[str, Any]]:
    """Every pipeline row whose best repeat beat its ceiling's best, said loudly: the ceiling
    is an upper bound by construction, so such a row means the measurement is wrong."""
    violations = [
        {
            "set": r["set"],
            "row": r["row"],
            "best_videos_per_s": r["value_max"],
            "ceiling_best_videos_per_s": r["ceiling_videos_per_s"]["max"],
            "message": CEILING_WRONG,
        }
        for r in rows
        if r.get("above_ceiling")
    ]
    for v in violations:
        log.error(
            "%s: %s on %s, best repeat %.4g videos/s > ceiling best %.4g",
            CEILING_WRONG,
            v["row"],
            v["set"],
            v["best_videos_per_s"],
            v["ceiling_best_videos_per_s"],
        )
    return violations


def run_benchmark(cfg: DictConfig) -> dict[str, Any]:
    """Measure every row on every set, in one process; write JSON + Markdown; return the results.
    SIGTERM stops it after the timed run in hand (``check_stop`` in ``timing``), exit code 143."""
    stop = StopOnSigterm("bench", "run the command again")
    stop.kept = "nothing (results are written when every row is measured)"
    with stop:
        return _measure_and_write(cfg)


@dataclass(frozen=True)
class _Plan:
    """What one benchmark run measures, read once from ``cfg.bench``."""

    bench: DictConfig
    device: torch.device
    profile: DictConfig
    how: Repeats

    @property
    def samplings(self) -> list[str]:
        return list(self.bench.samplings)

    @property
    def num_frames(self) -> int:
        return int(self.bench.num_frames)

    @property
    def img_size(self) -> int:
        return int(self.bench.img_size)


def _plan(bench: DictConfig) -> _Plan:
    """The device and its profile; refused before anything is measured."""
    device = resolve_device(str(bench.device))
    if str(device.type) not in bench.profiles:
        raise DeepdanceError(f"bench.profiles has no entry for device type {device.type!r}")
    if device.type == "cuda":
        # fixed shapes; TensorFlow (the notebook) autotunes too
        torch.backends.cudnn.benchmark = True
    if bench.get("out_dir"):
        check_replaceable(bench.out_dir, result_name(bench, device))
    how = Repeats(int(bench.repeats), int(bench.warmup), device)
    return _Plan(bench, device, bench.profiles[device.type], how)


def _training_set(bench: DictConfig, sets: list[tuple[str, list[Path]]]) -> str:
    training_set = bench.training.set or sets[0][0]
    if training_set not in [name for name, _ in sets]:
        raise DeepdanceError(
            f"bench.training.set={training_set!r} is not among the sets run: "
            f"{', '.join(name for name, _ in sets)}"
        )
    return training_set


def _set_rows(
    plan: _Plan, name: str, videos: list[Path], backbones: tuple[Backbone, Backbone], train: bool
) -> list[BenchRow]:
    """Extraction rows of one set, and the GRU rows when it is the training set."""
    bench, profile = plan.bench, plan.profile
    backbone, seed_backbone = backbones
    store_root = Path(str(bench.store_dir)) / name
    pipelines = {
        s: DeepdancePipeline(
            backbone,
            SampledClips(videos, plan.num_frames, plan.img_size, s),
            bench_store(store_root, backbone, str(bench.backbone.name), plan.img_size, plan.num_frames, s),
            int(profile.batch_videos),
            int(profile.num_workers),
        )
        for s in plan.samplings
    }
    seed = SeedPipeline(seed_backbone, plan.num_frames, plan.img_size)
    how = plan.how
    rows = extraction_rows(name, videos, pipelines, seed, how.repeats, how.warmup, how.device)
    if train:
        rows += gru_rows(name, pipelines["exact"], backbone, bench.training, how)
    for pipeline in pipelines.values():
        # shuts its persistent workers down
        del pipeline.loader
    return rows


def _config_record(plan: _Plan, backbone: Backbone) -> dict[str, Any]:
    """The settings a reader needs beside the figures."""
    bench, profile = plan.bench, plan.profile
    return {
        "backbone": bench.backbone.name,
        "channels_last": bool(bench.channels_last),
        "layout": backbone.layout,
        "torch_threads": torch.get_num_threads(),
        "img_size": plan.img_size,
        "num_frames": plan.num_frames,
        "repeats": plan.how.repeats,
        "warmup": plan.how.warmup,
        "precision": str(profile.precision),
        "batch_videos": int(profile.batch_videos),
        "num_workers": int(profile.num_workers),
        "samplings": plan.samplings,
        "model_batch_sizes": list(profile.model_batch_sizes),
        "training_epochs": int(bench.training.epochs),
    }


def _measure_and_write(cfg: DictConfig) -> dict[str, Any]:
    plan = _plan(cfg.bench)
    record = json.loads(write_run_info(cfg.paths.output_dir, cfg).read_text())
    facts = machine_facts(plan.device)
    log.info("machine: %s", facts)
    sets = resolve_inputs(plan.bench)
    training_set = _training_set(plan.bench, sets)
    set_infos = [describe_videos(name, videos) for name, videos in sets]
    backbones = load_backbones(plan.bench, plan.device, str(plan.profile.precision))
    sizes = list(plan.profile.model_batch_sizes)
    rows = model_batch_rows(backbones[0], plan.img_size, sizes, plan.how)
    for (name, videos), info in zip(sets, set_infos):
        log.info("set %s: %d videos %dx%d", name, len(videos), info["width"], info["height"])
        rows += _set_rows(plan, name, videos, backbones, name == training_set)
    rows += generator_rows(plan.bench.generator, plan.how)
    if int(plan.bench.get("pose_frames", 30)) > 0:
        pose_video = plan.bench.get("pose_video")
        video = Path(str(pose_video)).expanduser() if pose_video else sets[0][1][0]
        rows += pose_rows(
            video, int(plan.bench.get("pose_frames", 30)), plan.how, None if pose_video else sets[0][0]
        )
    results = {
        "name": result_name(plan.bench, plan.device),
        "command": " ".join(["python -m deepdance.bench", *sys.argv[1:]]),
        "machine": facts,
        "load_average_end": load_average(),
        "ceiling_violations": ceiling_violations(rows),
        "config": _config_record(plan, backbones[0]),
        "sets": set_infos,
        "rows": rows,
        # the code that made the figures, kept with them wherever bench.out_dir copies them
        "git": record["git"],
    }
    results["projection"] = project_whole_aist(
        rows, set_infos, plan.samplings, plan.device.type, plan.num_frames
    )
    log.info("results: %s", ", ".join(map(str, save_results(results, plan.bench, cfg.paths.output_dir))))
    return results


def save_results(results: dict[str, Any], bench: DictConfig, run_dir: str | Path) -> list[Path]:
    """JSON and Markdown in the run directory, where a user's results belong; a copy in
    ``bench.out_dir`` only when it is set (e.g. ``experiments/bench`` for the committed tables)."""
    paths = list(write_results(results, run_dir, results["name"]))
    if bench.get("out_dir"):
        paths += write_results(results, bench.out_dir, results["name"])
    return paths
