"""Facts about the machine a benchmark ran on, recorded with every result.

Throughput means nothing without the hardware and the load beside it: a shared 2-core box
can be several times slower than the same box idle, so the load average is kept too.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from typing import Any

import torch

from deepdance.utils.run_info import cpu_model, memory_gb, usable_cpus


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """Load at measurement time, so a slow row can be told apart from a busy machine.

    None where the platform has no load average.
    """
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_facts(device: torch.device) -> dict[str, Any]:
    """CPU, GPU, library versions and load: enough to tell whether two results compare."""
    import cv2
    import decord

    facts: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "torch_threads": torch.get_num_threads(),
        "memory_gb": memory_gb(),
        "load_average_1_5_15": load_average(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "torch": torch.__version__,
        "decord": getattr(decord, "__version__", None) or _version("decord") or _version("decord2"),
        "decord_package": "decord2" if _version("decord2") else "decord",
        "opencv": cv2.__version__,
        "av": _version("av"),
        "timm": _version("timm"),
        "numpy": _version("numpy"),
    }
    return facts
