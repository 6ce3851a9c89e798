"""One benchmark result, typed: the shape every section writes and the report reads.

A row stays a JSON object (results files are read back by tables and tests), so its type is
a ``TypedDict``: every key a section may set is named here once, with its type.
"""

from __future__ import annotations

from typing import Any, TypedDict

from deepdance.bench.timing import Spread


class BenchRow(TypedDict, total=False):
    """One measured (or pending) figure. ``value`` is the headline; higher is better for rates."""

    section: str
    set: str | None
    row: str
    label: str
    value: float | None
    unit: str
    status: str
    # a timed row: the spread of its repeats and their raw seconds
    value_min: float
    value_max: float
    seconds: list[float]
    # extraction and ceiling rows
    s_per_video: float
    feature_frames_per_s: float
    layout: str | None
    torch_threads: int
    batch_frames: int
    workers: int
    stages: dict[str, float]
    vs_seed: float
    vs_ceiling: float
    ceiling_videos_per_s: dict[str, float]
    above_ceiling: bool
    bound_by: str
    derived_from: list[str]
    # the model-alone sweep
    best_batch: int
    frames_per_s_by_batch: dict[int, dict[str, float]]
    seconds_by_batch: dict[int, list[float]]
    # training rows
    first_epoch: Any
    steady_epoch: Any
    epoch_seconds: list[list[float]]
    epochs: int
    realtime_factor: float
    notes: str


def row(
    section: str,
    name: str,
    label: str,
    value: float | None,
    unit: str,
    *,
    set_name: str | None = None,
    status: str = "measured",
    **extra: Any,
) -> BenchRow:
    """One result; ``extra`` are the other ``BenchRow`` keys the section knows."""
    return BenchRow(
        section=section, set=set_name, row=name, label=label, value=value, unit=unit, status=status, **extra
    )


def timed_row(
    section: str,
    name: str,
    label: str,
    rates: Spread,
    seconds: list[float],
    unit: str,
    **extra: Any,
) -> BenchRow:
    """A measured row: the median rate as its value, min and max beside it, and the raw
    seconds of every repeat, so a reader can recompute any figure from the JSON."""
    return row(
        section,
        name,
        label,
        rates.median,
        unit,
        value_min=rates.min,
        value_max=rates.max,
        seconds=list(seconds),
        **extra,
    )


def find_row(rows: list[BenchRow], name: str, set_name: str | None = None) -> BenchRow | None:
    """Rows are looked up by name (and set) when tables compare one pipeline against another."""
    for r in rows:
        if r["row"] == name and (set_name is None or r["set"] == set_name):
            return r
    return None
