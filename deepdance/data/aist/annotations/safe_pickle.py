"""Read AIST++ annotation pickles without letting them run code.

A pickle names the functions it calls when it is loaded; ``pickle.load`` imports and calls
whatever it names (``os.system`` included). The AIST++ pickles only ever name numpy's
array-reconstruction functions, so this unpickler resolves those and refuses every other
global before anything is imported or called, then checks that what it built is a dict of
str -> numpy arrays / numpy scalars / Python numbers.

numpy 2 moved ``numpy.core`` to ``numpy._core``: the official files (written with numpy 1)
name ``numpy.core.multiarray``, files written here under numpy 2 name ``numpy._core``; both
are resolved to whichever module the installed numpy has, without a deprecation warning.
"""

from __future__ import annotations

import importlib
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from deepdance.errors import DeepdanceError

# the numpy globals array and scalar pickles name (protocol 2-4: _reconstruct; 5: _frombuffer)
_NUMPY_CORE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("multiarray", "_reconstruct"),
        ("multiarray", "scalar"),
        ("numeric", "_frombuffer"),
    }
)
_NUMPY_GLOBALS: frozenset[str] = frozenset({"ndarray", "dtype"})
# numeric dtypes only: bool, signed and unsigned ints, floats, complex (no objects, no strings)
NUMERIC_KINDS = "biufc"
_CORE = "_core" if hasattr(np, "_core") else "core"
ACCEPTED = "annotation pickles may hold only numpy arrays and numbers"


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles store array bytes as ``_codecs.encode(text, "latin1")``; only that codec."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r}")
    return text.encode("latin1")


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that resolves numpy's array globals and refuses every other one."""

    def __init__(self, file: io.BufferedIOBase, source: str | Path) -> None:
        super().__init__(file)
        self.source = str(source)

    def find_class(self, module: str, name: str) -> Callable[..., Any]:
        # runs before any import: a refused name is never imported, let alone called
        parts = module.split(".")
        if module == "numpy" and name in _NUMPY_GLOBALS:
            return getattr(np, name)
        if (
            len(parts) == 3
            and parts[0] == "numpy"
            and parts[1] in ("core", "_core")
            and (parts[2], name) in _NUMPY_CORE_GLOBALS
        ):
            return getattr(importlib.import_module(f"numpy.{_CORE}.{parts[2]}"), name)
        if module == "_codecs" and name == "encode":
            return _latin1_encode
        raise DeepdanceError(f"{self.source}: refused pickle global {module}.{name}; {ACCEPTED}")

    def persistent_load(self, pid: Any) -> Any:
        raise DeepdanceError(f"{self.source}: refused a persistent id in the pickle; {ACCEPTED}")


def _check_value(path: Path, key: str, value: Any) -> None:
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype.kind not in NUMERIC_KINDS:
            raise DeepdanceError(
                f"{path}: key {key!r} holds a numpy {value.dtype} value; {ACCEPTED} (numeric dtypes)"
            )
        return
    # bool is an int in Python; both count as numbers
    if isinstance(value, int | float):
        return
    raise DeepdanceError(f"{path}: key {key!r} holds a {type(value).__name__}; {ACCEPTED}")


def safe_loads(data: bytes, source: str | Path = "<bytes>") -> dict[str, Any]:
    """``safe_load`` for bytes already read; ``source`` names them in errors."""
    path = Path(source)
    try:
        result = NumpyOnlyUnpickler(io.BytesIO(data), source).load()
    except DeepdanceError:
        raise
    # a damaged or foreign file can fail in many ways inside the unpickler; each is one line
    except Exception as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DeepdanceError(f"{path}: not a readable annotation pickle ({reason})") from None
    if not isinstance(result, dict):
        raise DeepdanceError(
            f"{path}: holds a {type(result).__name__}, expected a dict of arrays; {ACCEPTED}"
        )
    for key, value in result.items():
        if not isinstance(key, str):
            raise DeepdanceError(f"{path}: has a key {key!r} that is not a string; {ACCEPTED}")
        _check_value(path, key, value)
    return result


def safe_load(path: str | Path) -> dict[str, Any]:
    """The dict an annotation pickle holds; a foreign global or a non-numeric value is a one-line
    ``DeepdanceError`` naming the file, raised before the global is imported."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeepdanceError(f"{path}: annotation file does not exist") from None
    except IsADirectoryError:
        raise DeepdanceError(f"{path}: is a folder, expected an annotation .pkl file") from None
    return safe_loads(data, path)
