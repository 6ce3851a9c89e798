"""A stand-in machine record for benchmark results written by the tests (markdown, save_results)."""

from __future__ import annotations

from typing import Any


def bench_machine() -> dict[str, Any]:
    """The fields ``deepdance.bench`` records about a machine, with placeholder values."""
    return {
        "cpu_model": "cpu",
        "usable_cpus": 2,
        "cpu_count": 2,
        "memory_gb": 1,
        "gpu": None,
        "torch": "t",
        "torch_threads": 2,
        "decord_package": "decord",
        "decord": "d",
        "opencv": "o",
        "timm": "t",
        "date": "today",
        "load_average_1_5_15": [0.1, 0.1, 0.1],
        "device": "cpu",
    }
