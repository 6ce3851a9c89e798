"""The generic readers of one setting: its value, type and range, or a one-line error.

Every topic's check is built from these, so a wrong value reads the same wherever it is:
``key=value: expected ...``. A value is read one key at a time (resolving only that key), so
the checks also run on a config from Hydra's compose API.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from deepdance.errors import DeepdanceError

# Hydra's instantiate keywords: allowed in any group beside the class's own arguments.
HYDRA_KEYS = {"_target_", "_recursive_", "_partial_", "_convert_", "_args_"}

_ABSENT = object()


def _plain(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def setting(cfg: DictConfig, key: str, hint: str = "", default: Any = _ABSENT) -> Any:
    """The resolved value of the dotted ``key`` (plain Python); ``???`` is a one-line error."""
    try:
        value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=True)
    except MissingMandatoryValue:
        raise DeepdanceError(f"{key} is required{': ' + hint if hint else ''}") from None
    except OmegaConfBaseException as err:
        raise DeepdanceError(f"{key}: cannot be read ({' '.join(str(err).split())[:200]})") from None
    if value is _ABSENT:
        if default is _ABSENT:
            raise DeepdanceError(f"{key} is missing from the config{': ' + hint if hint else ''}")
        return default
    return _plain(value)


def _bad(key: str, value: Any, accepted: str) -> DeepdanceError:
    return DeepdanceError(f"{key}={value!r}: expected {accepted}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(
    cfg: DictConfig,
    key: str,
    low: int | None = None,
    high: int | None = None,
    optional: bool = False,
    default: Any = _ABSENT,
) -> int | None:
    """An integer in ``[low, high]`` (``null`` too when ``optional``)."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    accepted = (
        "an integer" + (f" >= {low}" if low is not None else "") + (f" <= {high}" if high is not None else "")
    )
    accepted += " or null" if optional else ""
    if not _is_int(value) or (low is not None and value < low) or (high is not None and value > high):
        raise _bad(key, value, accepted)
    return value


def number(
    cfg: DictConfig,
    key: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    default: Any = _ABSENT,
) -> float | None:
    """A number in the interval given; ``low_open``/``high_open`` exclude the ends."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    bounds = ""
    if low is not None and high is not None:
        bounds = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        bounds = f" {'>' if low_open else '>='} {low}"
    elif high is not None:
        bounds = f" {'<' if high_open else '<='} {high}"
    accepted = f"a number{bounds}" + (" or null" if optional else "")
    if not _is_number(value):
        raise _bad(key, value, accepted)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise _bad(key, value, accepted)
    return float(value)


def boolean(cfg: DictConfig, key: str, optional: bool = False, default: Any = _ABSENT) -> bool | None:
    """Read a true/false setting; a string like 'false' would otherwise pass as truthy."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise _bad(key, value, "true or false" + (" or null" if optional else ""))
    return value


def choice(
    cfg: DictConfig, key: str, options: Iterable[Any], optional: bool = False, default: Any = _ABSENT
) -> Any:
    """Read a setting that must be one of a fixed set, naming the accepted values on error."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    options = list(options)
    if value not in options:
        raise _bad(key, value, "one of " + ", ".join(map(str, options)) + (" or null" if optional else ""))
    return value


def text(cfg: DictConfig, key: str, optional: bool = False, default: Any = _ABSENT) -> str | None:
    """Read a non-empty string setting, so an empty name fails at start-up rather than mid-run."""
    value = setting(cfg, key, default=default)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(key, value, "a non-empty string" + (" or null" if optional else ""))
    return value


def int_list(cfg: DictConfig, key: str, low: int = 1, optional: bool = False) -> list[int] | None:
    """A non-empty list of integers >= ``low``."""
    value = setting(cfg, key)
    if value is None and optional:
        return None
    if not isinstance(value, list) or not value or not all(_is_int(v) and v >= low for v in value):
        raise _bad(key, value, f"a non-empty list of integers >= {low}" + (" or null" if optional else ""))
    return value


def existing_path(
    cfg: DictConfig,
    key: str,
    kind: str = "any",
    hint: str = "",
    optional: bool = False,
    default: Any = _ABSENT,
) -> Path | None:
    """A path that exists: ``kind`` file, dir or any."""
    value = setting(cfg, key, hint=hint, default=default)
    if value in (None, "") and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(
            key,
            value,
            "a path to an existing " + {"dir": "folder", "file": "file"}.get(kind, "file or folder"),
        )
    path = Path(value).expanduser()
    ok = path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()
    if not ok:
        what = {"file": "no such file", "dir": "no such folder"}.get(kind, "no such file or folder")
        if kind == "dir" and path.is_file():
            what = "a file, not a folder"
        raise DeepdanceError(f"{key}={value}: {what}{'; ' + hint if hint else ''}")
    return path


def known_keys(cfg: DictConfig, group: str, known: Iterable[str], owner: str) -> None:
    """Every key of ``group`` is one of ``known`` (a ``+key=...`` typo is caught here)."""
    node = OmegaConf.select(cfg, group)
    if not isinstance(node, DictConfig):
        return
    known = set(known) | HYDRA_KEYS
    unknown = sorted(str(k) for k in node if k not in known)
    if unknown:
        listed = ", ".join(sorted(k for k in known if not k.startswith("_")))
        raise DeepdanceError(f"{group}.{unknown[0]}: not a setting of {owner}; known: {listed}")


def signature_keys(target: str) -> tuple[set[str], str]:
    """The keyword arguments the class ``target`` takes (imported, not built)."""
    import hydra

    try:
        cls = hydra.utils.get_class(target)
    except (ImportError, ValueError, AttributeError) as err:
        raise DeepdanceError(
            f"_target_={target}: cannot be imported ({' '.join(str(err).split())[:160]})"
        ) from None
    params = inspect.signature(cls.__init__).parameters
    # ``**legacy`` (keys of older checkpoints) is no setting a config may give
    named = {name for name, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return named - {"self"}, cls.__name__


def wrapped(prefix: str, build: Any, *args: Any, **kwargs: Any) -> Any:
    """Build a small settings object (no I/O), naming ``prefix`` when it refuses a value."""
    try:
        return build(*args, **kwargs)
    except DeepdanceError as err:
        if str(err).startswith(prefix.split("=")[0]):
            raise
        raise DeepdanceError(f"{prefix}: {err}") from None
    except (TypeError, ValueError) as err:
        raise DeepdanceError(f"{prefix}: {' '.join(str(err).split())}") from None
