"""Benchmark results as data (JSON) and as a table a person reads (Markdown), plus the
whole-AIST++ projection derived from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepdance.bench.ceiling import CEILING_WRONG
from deepdance.bench.rows import BenchRow, find_row
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_write_text

MARKDOWN_TITLE = "# deepdance benchmark: "
AIST_VIDEOS = 12_670
AIST_FRAMES = 10_100_000


def _seed_projection(seed: BenchRow, name: str, length_ratio: float, videos: int) -> dict[str, Any]:
    """The seed decodes every frame: its read stage grows with the video's length."""
    read_share = seed["stages"]["read_share"]
    per_video = seed["s_per_video"] * (read_share * length_ratio + (1 - read_share))
    return {"set": name, "pipeline": "seed", "s_per_video": per_video, "hours": per_video * videos / 3600}


def _pipeline_projection(
    pipeline: BenchRow, decode: BenchRow, model: BenchRow, grow: float, device_type: str, videos: int
) -> dict[str, Any]:
    """deepdance's per-video cost with its decode stage grown by ``grow``: on a GPU the slower
    stage bounds the pipeline, on a CPU the stages share the cores and add up."""
    decode_s, model_s = 1.0 / decode["value"], 1.0 / model["value"]
    if device_type == "cuda":
        factor = max(model_s, decode_s * grow) / max(model_s, decode_s)
    else:
        factor = (model_s + decode_s * grow) / (model_s + decode_s)
    per_video = pipeline["s_per_video"] * factor
    return {
        "set": pipeline["set"],
        "pipeline": pipeline["row"],
        "s_per_video": per_video,
        "hours": per_video * videos / 3600,
    }


def project_whole_aist(
    rows: list[BenchRow],
    sets: list[dict[str, Any]],
    samplings: list[str],
    device_type: str,
    num_frames: int,
    videos: int = AIST_VIDEOS,
    frames: int = AIST_FRAMES,
) -> list[dict[str, Any]]:
    """Projected wall time for the whole AIST++ from each set's measured per-video costs.

    The stand-ins are shorter than the average AIST++ video (10.1 M / 12,670 = 797 frames),
    so the part of a pipeline's cost that grows with video length is scaled by the length
    ratio: the seed pipeline's read stage (it decodes every frame), and exact sampling's
    decode (over 2 s GOPs it decodes most frames anyway); key-frame sampling decodes about
    ``num_frames`` frames whatever the length, and the model cost is per sampled frame.
    """
    out = []
    for info in sets:
        name = info["name"]
        length_ratio = frames / videos / info["frames_per_video"]
        model, seed = find_row(rows, "model_only", name), find_row(rows, "seed", name)
        if seed and seed["status"] == "measured":
            out.append(_seed_projection(seed, name, length_ratio, videos))
        for sampling in samplings:
            pipeline = find_row(rows, f"deepdance_{sampling}", name)
            decode = find_row(rows, f"decode_only_{sampling}", name)
            if pipeline and decode and model:
                grow = length_ratio if sampling == "exact" else 1.0
                out.append(_pipeline_projection(pipeline, decode, model, grow, device_type, videos))
    seeds = {p["set"]: p for p in out if p["pipeline"] == "seed"}
    for p in out:
        base = seeds.get(p["set"])
        p["speedup_vs_seed"] = base["hours"] / p["hours"] if base else None
    return out


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}" if value >= 0.01 else f"{value:.2g}"


def _duration(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{hours * 60:.0f} min"


def _spread_cells(r: dict[str, Any], digits: int = 3) -> str:
    """median | min | max cells of a row (blank min/max where the row has none)."""
    cells = (r["value"], r.get("value_min"), r.get("value_max"))
    return " | ".join(_num(v, digits) for v in cells)


def _code_line(git: dict[str, Any] | None) -> str:
    """Which code made the figures: the commit, and a dirty tree's diff hash (run dir: uncommitted.diff)."""
    if not git or not git.get("commit"):
        return "Code: no git record."
    dirty = f", dirty (uncommitted diff SHA-256 {git['diff_sha256'][:12]})" if git.get("dirty") else ", clean"
    return f"Code: commit `{git['commit'][:10]}`{dirty}."


def _header(results: dict[str, Any]) -> list[str]:
    m, cfg = results["machine"], results["config"]
    busy = m["usable_cpus"] and (m["load_average_1_5_15"] or [0])[0] > m["usable_cpus"]
    shared_note = (
        " (a shared machine: absolute numbers move with the load, ratios are from one interleaved run)"
        if busy
        else ""
    )
    return [
        f"{MARKDOWN_TITLE}{results['name']}",
        "",
        f"Command: `{results['command']}`",
        "",
        _code_line(results.get("git")),
        "",
        f"Raw timings: `{results['name']}.json` beside this file holds the seconds of every repeat "
        "of every row (`rows[].seconds`; GRU rows: `epoch_seconds` per run and epoch), the load "
        "average at start and end, the machine and the config.",
        "",
        f"Machine: {m['cpu_model']}, {m['usable_cpus']} usable CPUs (of {m['cpu_count']}), "
        f"{m['memory_gb']} GiB; GPU: {m['gpu'] or 'none'}; torch {m['torch']} ({m['torch_threads']} "
        f"threads), {m['decord_package']} {m['decord']}, "
        f"OpenCV {m['opencv']}, timm {m['timm']}; {m['date']}.",
        f"Load average (1/5/15 min) at start {m['load_average_1_5_15']}, at end "
        f"{results.get('load_average_end')}{shared_note}.",
        "",
        f"Backbone `{cfg['backbone']}` at {cfg['img_size']} px (random weights: speed does not "
        f"depend on them), {cfg['num_frames']} frames per video, device `{m['device']}`, deepdance "
        f"precision {cfg['precision']}, {cfg['batch_videos']} videos "
        f"({cfg['batch_videos'] * cfg['num_frames']} frames) per backbone call, {cfg['num_workers']} "
        f"DataLoader workers. Memory layout {cfg.get('layout')} and {cfg.get('torch_threads')} torch "
        "threads for the seed and deepdance alike (each row records its own).",
        f"Each figure: median, min and max of {cfg['repeats']} repeats after {cfg['warmup']} warm-up, "
        "from one interleaved run (run 1 of every row, then run 2, ...). Ratios are of medians.",
        "",
    ]


def _extraction(results: dict[str, Any], info: dict[str, Any]) -> list[str]:
    name, rows = info["name"], results["rows"]
    lines = [
        f"## Extraction: `{name}` ({info['videos']} videos, {info['width']}x{info['height']} at "
        f"{info['fps']:.2f} fps, "
        f"{info['frames_per_video']:.0f} frames, key frame every {info['keyframe_interval']} frames, "
        f"{info['bitrate_mbps']:.1f} Mbit/s, audio: {'yes' if info['audio'] else 'no'})",
        "",
        "| pipeline | videos/s median | min | max | feature frames/s | s/video | x seed | / ceiling "
        "| layout | threads |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for section, prefix in (("extraction", ""), ("ceiling", "*stage alone:* ")):
        for r in rows:
            if r["set"] != name or r["section"] != section or r["row"].startswith("ceiling_"):
                continue
            lines.append(
                f"| {prefix}{r['label']} | {_spread_cells(r)} | {_num(r.get('feature_frames_per_s'))} | "
                f"{_num(r.get('s_per_video'))} | {_num(r.get('vs_seed'))} | {_num(r.get('vs_ceiling'))} | "
                f"{r.get('layout') or '-'} | {r.get('torch_threads', '-')} |"
            )
    for r in rows:
        if r["set"] == name and r["row"].startswith("ceiling_"):
            lines.append(
                f"| *ceiling:* {r['label']} | {_spread_cells(r)} | {_num(r.get('feature_frames_per_s'))} | "
                f"{_num(r.get('s_per_video'))} | | | | |"
            )
    lines += [
        "",
        "Ceiling: a pipeline cannot run faster than its slower stage, so the ceiling is "
        "min(decode only, model only), median by median, min by min, max by max, both stages "
        "measured in the same interleaved run on the same videos with the pipeline's workers, "
        "threads and batch. Checked on the best repeats: a pipeline's max against its ceiling's max.",
    ]
    for v in results.get("ceiling_violations", []):
        if v["set"] == name:
            lines += [
                "",
                f"**{CEILING_WRONG}**: `{v['row']}` best repeat {_num(v['best_videos_per_s'], 3)} "
                f"videos/s > ceiling best {_num(v['ceiling_best_videos_per_s'], 3)} videos/s.",
            ]
    return lines + [""]


def _training(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    gru = [r for r in rows if r["row"].startswith("gru_epoch_from_")]
    ratio = find_row(rows, "gru_epoch_videos_over_store")
    if gru:
        epochs = gru[0]["epochs"]
        later = "epoch 2" if epochs == 2 else f"mean of epochs 2-{epochs}"
        lines += [
            f"## Training: GRU head on set `{gru[0]['set']}` ({gru[0]['notes'].split(';')[0]})",
            "",
            f"Each repeat is a fresh training run of {epochs} epochs. First epoch against first epoch, "
            f"steady state ({later} of a run) against steady state.",
            "",
            "| GRU epoch | first s median | min | max | steady s median | min | max | layout |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in gru:
            first, steady = r["first_epoch"], r["steady_epoch"]
            lines.append(
                f"| {r['label']} | {_num(first['median'], 3)} | {_num(first['min'], 3)} | "
                f"{_num(first['max'], 3)} | {_num(steady['median'], 3)} | {_num(steady['min'], 3)} | "
                f"{_num(steady['max'], 3)} | {r.get('layout') or '-'} |"
            )
        if ratio:
            lines.append(
                f"| {ratio['label']} | {_num(ratio['first_epoch'])}x | | | "
                f"{_num(ratio['steady_epoch'])}x | | | |"
            )
        lines.append("")
    other = [r for r in rows if r["section"] == "training" and not r["row"].startswith("gru_epoch_")]
    if other:
        lines += [
            "## Training: Deep-Dance",
            "",
            "| row | median | min | max | unit | notes |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        for r in other:
            cells = _spread_cells(r) if r["status"] == "measured" else f"{r['status']} | | "
            lines.append(f"| {r['label']} | {cells} | {r['unit']} | {r.get('notes', '')} |")
        lines.append("")
    return lines


def _pose(rows: list[dict[str, Any]]) -> list[str]:
    """The pose front end's ms per frame (lower is faster)."""
    found = [r for r in rows if r["section"] == "pose"]
    if not found:
        return []
    lines = [
        "## Pose front end",
        "",
        "| row | median | min | max | unit | notes |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in found:
        lines.append(f"| {r['label']} | {_spread_cells(r)} | {r['unit']} | {r.get('notes', '')} |")
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    """The human-readable report: machine, one extraction table per video set, training, projection."""
    rows = results["rows"]
    lines = _header(results)
    for info in results["sets"]:
        lines += _extraction(results, info)
    sweep = find_row(rows, "model_batch_sweep")
    if sweep:
        sizes = ", ".join(
            f"{b}: {_num(v['median'])} ({_num(v['min'])}-{_num(v['max'])})"
            for b, v in sweep["frames_per_s_by_batch"].items()
        )
        lines += [
            f"Model alone by batch size ({sweep['label']}; its own interleaved run, not a ceiling), "
            f"frames/s median (min-max): {sizes}.",
            "",
        ]
    lines += _training(rows)
    lines += _pose(rows)
    if results.get("projection"):
        lines += [
            f"## Projection: the whole AIST++ ({AIST_VIDEOS:,} videos, {AIST_FRAMES / 1e6:.1f} M frames) "
            "on this machine",
            "",
            "| from set | pipeline | s/video (797-frame video) | wall time | x seed |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for p in results["projection"]:
            lines.append(
                f"| `{p['set']}` | {p['pipeline']} | {_num(p['s_per_video'])} | {_duration(p['hours'])} | "
                f"{_num(p['speedup_vs_seed'])} |"
            )
        lines += [
            "",
            "From the medians. Length-dependent costs (seed read, exact-sampling decode) are scaled "
            "from the stand-in length to the AIST++ mean of 797 frames; key-frame decode and model "
            "costs are per sampled frame.",
        ]
    return "\n".join(lines) + "\n"


def _ours(path: Path) -> bool:
    """Is ``path`` a result this module wrote (JSON with machine and rows, or its Markdown)?"""
    try:
        text = path.read_text()
        if path.suffix == ".md":
            return text.startswith(MARKDOWN_TITLE)
        data = json.loads(text)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"machine", "rows"} <= set(data)


def result_paths(out_dir: str | Path, name: str) -> tuple[Path, Path]:
    """The one place that names the JSON and Markdown result files, so writer and checks agree."""
    return Path(out_dir) / f"{name}.json", Path(out_dir) / f"{name}.md"


def check_replaceable(out_dir: str | Path, name: str) -> None:
    """Refuse, before any measurement, an explicit ``bench.out_dir`` whose result names hold
    files deepdance did not write: results replace only earlier results."""
    for path in result_paths(out_dir, name):
        if path.exists() and not _ours(path):
            raise DeepdanceError(
                f"bench.out_dir={out_dir}: {path} exists and is not a deepdance benchmark "
                "result, so it is not replaced; choose another bench.out_dir or bench.name"
            )


def write_results(results: dict[str, Any], out_dir: str | Path, name: str) -> tuple[Path, Path]:
    """``<name>.json`` and ``<name>.md`` under ``out_dir``, each written atomically; an existing
    file there is replaced only if it is an earlier result."""
    check_replaceable(out_dir, name)
    paths = result_paths(out_dir, name)
    atomic_write_text(paths[0], json.dumps(results, indent=2, default=str) + "\n")
    atomic_write_text(paths[1], markdown(results))
    return paths
