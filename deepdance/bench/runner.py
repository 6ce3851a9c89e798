"""Run the whole benchmark from a composed config and assemble its rows."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from deepdance.bench.extraction import (
    SAMPLINGS,
    Backbone,
    DeepdancePipeline,
    SampledClips,
    SeedPipeline,
    bench_store,
    combined_ceiling,
    decode_only,
    load_backbone,
    measure_model_ceiling,
)
from deepdance.bench.inputs import StandInSpec, describe_videos, ensure_standins, find_bench_videos
from deepdance.bench.machine import load_average, machine_facts
from deepdance.bench.report import check_replaceable, project_whole_aist, row, write_results
from deepdance.bench.timing import interleaved_runs
from deepdance.bench.training import (
    generator_available,
    measure_autoencoder_training,
    measure_generation,
    measure_gru_epochs,
)
from deepdance.errors import DeepdanceError
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
    """``bench.videos=synthetic``: the stand-in sets (generated once); otherwise a folder."""
    if str(bench.videos) == "synthetic":
        if not bench.sets:
            raise DeepdanceError("bench.videos=synthetic needs at least one set name in bench.sets")
        sets = []
        for name in bench.sets:
            if name not in bench.inputs:
                raise DeepdanceError(
                    f"bench.sets: {name!r} is not a stand-in set; defined: {', '.join(bench.inputs)}"
                )
            standin = StandInSpec(name=str(name), **OmegaConf.to_container(bench.inputs[name], resolve=True))
            videos = ensure_standins(bench.inputs_dir, standin, workers=bench.generate_workers)
            sets.append((standin.name, videos[: bench.limit] if bench.get("limit") else videos))
        return sets
    folder = Path(str(bench.videos)).expanduser()
    return [(folder.name or "videos", find_bench_videos(folder, bench.get("limit")))]


def run_benchmark(cfg: DictConfig) -> dict[str, Any]:
    """Measure every row on every set, in one process; write JSON + Markdown; return the results.
    SIGTERM stops it after the timed run in hand (``check_stop`` in ``timing``), exit code 143."""
    stop = StopOnSigterm("bench", "run the command again")
    stop.kept = "nothing (results are written when every row is measured)"
    with stop:
        return _measure_and_write(cfg)


def _measure_and_write(cfg: DictConfig) -> dict[str, Any]:
    bench = cfg.bench
    device = resolve_device(str(bench.device))
    if str(device.type) not in bench.profiles:
        raise DeepdanceError(f"bench.profiles has no entry for device type {device.type!r}")
    profile = bench.profiles[device.type]
    samplings = list(bench.samplings)
    for sampling in samplings:
        if sampling not in SAMPLINGS:
            raise DeepdanceError(
                f"bench.samplings: {sampling!r} is not known; use any of {', '.join(SAMPLINGS)}"
            )
    if "exact" not in samplings:
        raise DeepdanceError(
            "bench.samplings must include 'exact' (the training rows and the ceiling use it)"
        )
    if device.type == "cuda":
        # fixed shapes; TensorFlow (the notebook) autotunes too
        torch.backends.cudnn.benchmark = True
    repeats, warmup = int(bench.repeats), int(bench.warmup)
    num_frames, img_size = int(bench.num_frames), int(bench.img_size)
    if bench.get("out_dir"):
        check_replaceable(bench.out_dir, result_name(bench, device))
    facts = machine_facts(device)
    log.info("machine: %s", facts)

    sets = resolve_inputs(bench)
    training_set = bench.training.set or sets[0][0]
    if training_set not in [name for name, _ in sets]:
        raise DeepdanceError(
            f"bench.training.set={training_set!r} is not among the sets run: "
            f"{', '.join(name for name, _ in sets)}"
        )
    set_infos = [describe_videos(name, videos) for name, videos in sets]
    backbone = load_backbone(
        bench.backbone.name,
        device,
        str(profile.precision),
        channels_last=True,
        pretrained=bench.backbone.pretrained,
        weights=bench.backbone.get("weights"),
    )
    seed_backbone = load_backbone(
        bench.backbone.name,
        device,
        "fp32",
        channels_last=False,
        pretrained=bench.backbone.pretrained,
        weights=bench.backbone.get("weights"),
    )

    log.info("model-only ceiling, batch sizes %s", list(profile.model_batch_sizes))
    model = measure_model_ceiling(backbone, img_size, list(profile.model_batch_sizes), repeats, warmup)
    rows = [
        row(
            "ceiling_model",
            "model_only",
            f"model only (batch {model.best_batch})",
            model.best,
            "frames/s",
            best_batch=model.best_batch,
            frames_per_s_by_batch=model.frames_per_s,
            seconds={b: t.seconds for b, t in model.timings.items()},
        )
    ]
    model_videos_per_s = model.best / num_frames
    store_root = Path(str(bench.store_dir))

    for (name, videos), info in zip(sets, set_infos):
        log.info("set %s: %d videos %dx%d", name, len(videos), info["width"], info["height"])
        pipelines = {
            s: DeepdancePipeline(
                backbone,
                SampledClips(videos, num_frames, img_size, s),
                bench_store(store_root / name, backbone, str(bench.backbone.name), img_size, num_frames, s),
                int(profile.batch_videos),
                int(profile.num_workers),
            )
            for s in samplings
        }
        rows += extraction_rows(
            name,
            videos,
            pipelines,
            SeedPipeline(seed_backbone, num_frames, img_size),
            model_videos_per_s,
            repeats,
            warmup,
            device,
        )
        if name == training_set:
            rows += gru_rows(name, pipelines["exact"], backbone, bench.training, repeats, warmup)
        for pipeline in pipelines.values():
            # shuts its persistent workers down
            del pipeline.loader
        del pipelines

    rows += generator_rows(bench.generator, device, repeats, warmup)

    results = {
        "name": result_name(bench, device),
        "command": " ".join(["python -m deepdance.bench", *sys.argv[1:]]),
        "machine": facts,
        "load_average_end": load_average(),
        "config": {
            "backbone": bench.backbone.name,
            "img_size": img_size,
            "num_frames": num_frames,
            "repeats": repeats,
            "warmup": warmup,
            "precision": str(profile.precision),
            "batch_videos": int(profile.batch_videos),
            "num_workers": int(profile.num_workers),
            "samplings": samplings,
        },
        "sets": set_infos,
        "rows": rows,
    }
    results["projection"] = project_whole_aist(rows, set_infos, samplings, device.type, num_frames)
    log.info("results: %s", ", ".join(map(str, save_results(results, bench, cfg.paths.output_dir))))
    return results


def save_results(results: dict[str, Any], bench: DictConfig, run_dir: str | Path) -> list[Path]:
    """JSON and Markdown in the run directory, where a user's results belong; a copy in
    ``bench.out_dir`` only when it is set (e.g. ``experiments/bench`` for the committed tables)."""
    paths = list(write_results(results, run_dir, results["name"]))
    if bench.get("out_dir"):
        paths += write_results(results, bench.out_dir, results["name"])
    return paths


def extraction_rows(
    name: str,
    videos: list[Path],
    pipelines: dict[str, DeepdancePipeline],
    seed: SeedPipeline,
    model_videos_per_s: float,
    repeats: int,
    warmup: int,
    device: torch.device,
) -> list[dict[str, Any]]:
    """Seed, deepdance (per sampling) and decode-only, timed in turns on one set; ratios and ceilings."""
    num_frames = seed.num_frames
    runs: dict[str, Any] = {"seed": lambda: seed.run(videos)}
    for s, pipeline in pipelines.items():
        runs[f"deepdance_{s}"] = pipeline.run
        runs[f"decode_only_{s}"] = lambda loader=pipeline.loader: decode_only(loader)
    # the seed has no workers to start: one video warms it
    warmups = {"seed": lambda: seed.run(videos[:1])}
    timings = interleaved_runs(runs, repeats, warmup, device, warmups)

    seed_vps = len(videos) / timings["seed"].median
    # summed over warm-up and timed runs: only the shares are used
    stages = seed.stages
    rows = [
        row(
            "extraction",
            "seed",
            "seed: OpenCV all frames, batch 1 fp32",
            seed_vps,
            "videos/s",
            set_name=name,
            s_per_video=1 / seed_vps,
            feature_frames_per_s=seed_vps * num_frames,
            seconds=timings["seed"].seconds,
            stages={
                "read_share": stages.read / (stages.read + stages.model),
                "decoded_frames_per_video": stages.decoded_frames / stages.videos,
            },
        )
    ]
    for s in pipelines:
        decode_vps = len(videos) / timings[f"decode_only_{s}"].median
        ceiling = combined_ceiling(decode_vps, model_videos_per_s, device)
        vps = len(videos) / timings[f"deepdance_{s}"].median
        rule = "slower of the two" if device.type == "cuda" else "1/(1/decode + 1/model)"
        rows += [
            row(
                "extraction",
                f"deepdance_{s}",
                f"deepdance, {s} sampling",
                vps,
                "videos/s",
                set_name=name,
                s_per_video=1 / vps,
                feature_frames_per_s=vps * num_frames,
                vs_seed=vps / seed_vps,
                vs_ceiling=vps / ceiling,
                ceiling_videos_per_s=ceiling,
                seconds=timings[f"deepdance_{s}"].seconds,
            ),
            row(
                "ceiling",
                f"decode_only_{s}",
                f"decode only, {s} sampling",
                decode_vps,
                "videos/s",
                set_name=name,
                s_per_video=1 / decode_vps,
                feature_frames_per_s=decode_vps * num_frames,
                seconds=timings[f"decode_only_{s}"].seconds,
            ),
            row(
                "ceiling",
                f"ceiling_{s}",
                f"decode + model together, {s} ({rule})",
                ceiling,
                "videos/s",
                set_name=name,
                s_per_video=1 / ceiling,
                feature_frames_per_s=ceiling * num_frames,
            ),
        ]
    return rows


def gru_rows(
    name: str,
    pipeline: DeepdancePipeline,
    backbone: Backbone,
    training: DictConfig,
    repeats: int,
    warmup: int,
) -> list[dict[str, Any]]:
    """GRU epoch time from the store the extraction just filled, against from the videos."""
    log.info("training rows on set %s", name)
    gru = measure_gru_epochs(
        pipeline, backbone, OmegaConf.to_container(training.head), int(training.batch_size), repeats, warmup
    )
    store_s, video_s = gru["from_store"].median, gru["from_videos"].median
    videos = len(pipeline.dataset)
    return [
        row(
            "training",
            "gru_epoch_from_store",
            "GRU epoch from the feature store",
            store_s,
            "s/epoch",
            set_name=name,
            seconds=gru["from_store"].seconds,
            notes=f"{videos} videos, {video_s / store_s:,.0f}x faster than from videos",
        ),
        row(
            "training",
            "gru_epoch_from_videos",
            "GRU epoch from videos (decode + frozen backbone)",
            video_s,
            "s/epoch",
            set_name=name,
            seconds=gru["from_videos"].seconds,
            notes=f"{videos} videos",
        ),
    ]


def generator_rows(
    settings: DictConfig, device: torch.device, repeats: int, warmup: int
) -> list[dict[str, Any]]:
    """Deep-Dance: autoencoder training frames/s, and generation frames/s against real time."""
    if not generator_available():
        reason = "pending: the Deep-Dance generator (issue 4) is not in this checkout"
        return [
            row(
                "training",
                "autoencoder_train",
                "autoencoder training",
                None,
                "frames/s",
                status="pending",
                notes=reason,
            ),
            row(
                "training", "generation", "dance generation", None, "frames/s", status="pending", notes=reason
            ),
        ]
    log.info("generator rows: %dx%d silhouettes", settings.height, settings.width)
    size = f"{settings.height}x{settings.width}"
    train_fps = measure_autoencoder_training(
        device, settings.height, settings.width, int(settings.batch_size), repeats, warmup
    )
    gen_fps = measure_generation(
        device,
        settings.height,
        settings.width,
        float(settings.seconds),
        float(settings.output_fps),
        float(settings.model_fps),
        int(settings.look_back),
        repeats,
        warmup,
    )
    realtime = gen_fps / float(settings.playback_fps)
    return [
        row(
            "training",
            "autoencoder_train",
            "autoencoder training",
            train_fps,
            "frames/s",
            notes=f"{size} silhouettes, batch {settings.batch_size}, BCE + Adam",
        ),
        row(
            "training",
            "generation",
            f"dance generation ({realtime:,.1f}x real time at {settings.playback_fps:g} fps)",
            gen_fps,
            "frames/s",
            realtime_factor=realtime,
            notes=f"{settings.seconds:g} s at {settings.output_fps:g} fps: LSTM at {settings.model_fps:g} "
            "fps, interpolated, decoded",
        ),
    ]
