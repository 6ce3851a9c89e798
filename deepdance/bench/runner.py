"""Run the whole benchmark from a composed config and assemble its rows."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from deepdance.bench.ceiling import CEILING_WRONG, above_ceiling, stage_ceiling
from deepdance.bench.extraction import (
    SAMPLINGS,
    Backbone,
    DeepdancePipeline,
    SampledClips,
    SeedPipeline,
    bench_store,
    decode_only,
    load_backbone,
    measure_model_batches,
    model_only,
    preload_frames,
)
from deepdance.bench.config import StandInSpec
from deepdance.bench.inputs import describe_videos, ensure_standins, find_bench_videos
from deepdance.bench.machine import load_average, machine_facts
from deepdance.bench.report import check_replaceable, project_whole_aist, row, timed_row, write_results
from deepdance.bench.timing import interleaved_runs
from deepdance.bench.training import (
    autoencoder_step,
    generation_run,
    generator_available,
    like_for_like,
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


def ceiling_violations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
    backbone, seed_backbone = load_backbones(bench, device, str(profile.precision))
    threads = torch.get_num_threads()

    sizes = list(profile.model_batch_sizes)
    log.info("model alone by batch size %s (not the ceiling: that uses the pipeline's batch)", sizes)
    sweep = measure_model_batches(backbone, img_size, sizes, repeats, warmup)
    rows = [
        timed_row(
            "model_batches",
            "model_batch_sweep",
            f"model alone, best batch {sweep.best_batch}",
            sweep.timings[sweep.best_batch].rates(sweep.best_batch),
            sweep.timings[sweep.best_batch].seconds,
            "frames/s",
            best_batch=sweep.best_batch,
            frames_per_s_by_batch={b: t.rates(b).as_dict() for b, t in sweep.timings.items()},
            seconds_by_batch={b: t.seconds for b, t in sweep.timings.items()},
            layout=backbone.layout,
            torch_threads=threads,
        )
    ]
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
        "ceiling_violations": ceiling_violations(rows),
        "config": {
            "backbone": bench.backbone.name,
            "channels_last": bool(bench.channels_last),
            "layout": backbone.layout,
            "torch_threads": torch.get_num_threads(),
            "img_size": img_size,
            "num_frames": num_frames,
            "repeats": repeats,
            "warmup": warmup,
            "precision": str(profile.precision),
            "batch_videos": int(profile.batch_videos),
            "num_workers": int(profile.num_workers),
            "samplings": samplings,
            "model_batch_sizes": sizes,
            "training_epochs": int(bench.training.epochs),
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
    repeats: int,
    warmup: int,
    device: torch.device,
) -> list[dict[str, Any]]:
    """Seed, deepdance (per sampling) and both stages alone, timed in turns on one set; ratios,
    ceilings and the check that no pipeline beats its ceiling."""
    num_frames, count = seed.num_frames, len(videos)
    exact = pipelines["exact"]
    backbone, batch_videos = exact.backbone, exact.batch_videos
    # the model stage's input: what the pipeline decodes, decoded before any timing
    frames = preload_frames(exact.dataset, device)
    runs: dict[str, Any] = {"seed": lambda: seed.run(videos)}
    for s, pipeline in pipelines.items():
        runs[f"deepdance_{s}"] = pipeline.run
        runs[f"decode_only_{s}"] = lambda loader=pipeline.loader: decode_only(loader)
    runs["model_only"] = lambda: model_only(backbone, frames, batch_videos)
    # the seed has no workers to start: one video warms it
    warmups = {"seed": lambda: seed.run(videos[:1])}
    timings = interleaved_runs(runs, repeats, warmup, device, warmups)
    rates = {run: timing.rates(count) for run, timing in timings.items()}
    threads = torch.get_num_threads()

    def rate_row(section: str, run: str, label: str, **extra: Any) -> dict[str, Any]:
        return timed_row(
            section,
            run,
            label,
            rates[run],
            timings[run].seconds,
            "videos/s",
            set_name=name,
            s_per_video=1 / rates[run].median,
            feature_frames_per_s=rates[run].median * num_frames,
            torch_threads=threads,
            **extra,
        )

    # summed over warm-up and timed runs: only the shares are used
    stages = seed.stages
    rows = [
        rate_row(
            "extraction",
            "seed",
            "seed: OpenCV all frames, batch 1 fp32",
            layout=seed.backbone.layout,
            batch_frames=1,
            workers=0,
            stages={
                "read_share": stages.read / (stages.read + stages.model),
                "decoded_frames_per_video": stages.decoded_frames / stages.videos,
            },
        ),
        rate_row(
            "ceiling",
            "model_only",
            f"model only ({batch_videos * num_frames} frames a call, the same frames)",
            layout=backbone.layout,
            batch_frames=batch_videos * num_frames,
            workers=0,
        ),
    ]
    for s, pipeline in pipelines.items():
        ceiling = stage_ceiling(rates[f"decode_only_{s}"], rates["model_only"])
        pipeline_rate = rates[f"deepdance_{s}"]
        rows += [
            rate_row(
                "extraction",
                f"deepdance_{s}",
                f"deepdance, {s} sampling",
                layout=backbone.layout,
                batch_frames=batch_videos * num_frames,
                workers=pipeline.num_workers,
                vs_seed=pipeline_rate.median / rates["seed"].median,
                vs_ceiling=pipeline_rate.median / ceiling.rate.median,
                ceiling_videos_per_s=ceiling.rate.as_dict(),
                above_ceiling=above_ceiling(pipeline_rate, ceiling.rate),
            ),
            rate_row(
                "ceiling",
                f"decode_only_{s}",
                f"decode only, {s} sampling",
                layout=None,
                workers=pipeline.num_workers,
            ),
            row(
                "ceiling",
                f"ceiling_{s}",
                f"{s} sampling: min(decode only, model only), bound by {ceiling.bound_by}",
                ceiling.rate.median,
                "videos/s",
                set_name=name,
                value_min=ceiling.rate.min,
                value_max=ceiling.rate.max,
                bound_by=ceiling.bound_by,
                # no runs of its own: the raw seconds are those of these rows
                derived_from=[f"decode_only_{s}", "model_only"],
                s_per_video=1 / ceiling.rate.median,
                feature_frames_per_s=ceiling.rate.median * num_frames,
                layout=backbone.layout,
                torch_threads=threads,
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
    """GRU epoch times from the store the extraction just filled and from the videos; their
    ratio first epoch against first epoch, and steady state against steady state."""
    log.info("training rows on set %s", name)
    epochs = int(training.epochs)
    gru = measure_gru_epochs(
        pipeline,
        backbone,
        OmegaConf.to_container(training.head),
        int(training.batch_size),
        epochs,
        repeats,
        warmup,
    )
    videos = len(pipeline.dataset)
    threads = torch.get_num_threads()
    labels = {
        "from_store": ("GRU epoch from the feature store", None),
        "from_videos": ("GRU epoch from videos (decode + frozen backbone)", backbone.layout),
    }
    rows = []
    for source, times in gru.items():
        label, layout = labels[source]
        steady = times.steady()
        rows.append(
            row(
                "training",
                f"gru_epoch_{source}",
                label,
                steady.median,
                "s/epoch",
                set_name=name,
                value_min=steady.min,
                value_max=steady.max,
                first_epoch=times.first().as_dict(),
                steady_epoch=steady.as_dict(),
                epoch_seconds=times.runs,
                epochs=epochs,
                layout=layout,
                torch_threads=threads,
                notes=f"{videos} videos; value: steady epochs (after the first)",
            )
        )
    ratios = like_for_like(gru["from_store"], gru["from_videos"])
    rows.append(
        row(
            "training",
            "gru_epoch_videos_over_store",
            "GRU epoch from videos / from the store",
            ratios["steady_epoch"],
            "x",
            set_name=name,
            first_epoch=ratios["first_epoch"],
            steady_epoch=ratios["steady_epoch"],
            derived_from=[f"gru_epoch_{source}" for source in gru],
            torch_threads=threads,
            notes="ratio of medians: first epoch against first epoch, steady against steady",
        )
    )
    return rows


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
    step = autoencoder_step(device, settings.height, settings.width, int(settings.batch_size))
    generate, frames = generation_run(
        device,
        settings.height,
        settings.width,
        float(settings.seconds),
        float(settings.output_fps),
        float(settings.model_fps),
        int(settings.look_back),
    )
    timings = interleaved_runs({"train": step, "generate": generate}, repeats, warmup, device)
    train_fps = timings["train"].rates(int(settings.batch_size))
    gen_fps = timings["generate"].rates(frames)
    realtime = gen_fps.median / float(settings.playback_fps)
    threads = torch.get_num_threads()
    return [
        timed_row(
            "training",
            "autoencoder_train",
            "autoencoder training",
            train_fps,
            timings["train"].seconds,
            "frames/s",
            torch_threads=threads,
            layout="NCHW",
            notes=f"{size} silhouettes, batch {settings.batch_size}, BCE + Adam",
        ),
        timed_row(
            "training",
            "generation",
            f"dance generation ({realtime:,.1f}x real time at {settings.playback_fps:g} fps)",
            gen_fps,
            timings["generate"].seconds,
            "frames/s",
            realtime_factor=realtime,
            torch_threads=threads,
            layout="NCHW",
            notes=f"{settings.seconds:g} s at {settings.output_fps:g} fps: LSTM at {settings.model_fps:g} "
            "fps, interpolated, decoded",
        ),
    ]
