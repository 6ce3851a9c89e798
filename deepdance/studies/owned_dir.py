"""A folder the report owns: it rewrites only files it wrote there and that nobody changed since.

Why: the default folder sits inside the user's own run directory, and a second report must
not replace a file the user put there or edited. The folder keeps a ledger
(``.deepdance_report.json``) of each file it wrote and the file's SHA-256; a target that exists
but is not in the ledger, or no longer has the recorded hash, is refused before anything is
written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_write_bytes, atomic_write_text

LEDGER = ".deepdance_report.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class OwnedDir:
    """Write a set of files into ``root`` all or none: every target is checked first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        ledger = root / LEDGER
        self.written: dict[str, str] = {}
        if ledger.exists():
            try:
                self.written = dict(json.loads(ledger.read_text()))
            except (OSError, ValueError, TypeError) as err:
                raise DeepdanceError(
                    f"{ledger}: not the report's ledger ({err}); give another --out"
                ) from err

    def check(self, names: list[str]) -> None:
        """Refuse if any of ``names`` is a file the report did not write, or one changed since."""
        if self.root.exists() and not self.root.is_dir():
            raise DeepdanceError(f"--out {self.root}: exists and is not a directory")
        for name in names:
            path = self.root / name
            if path.exists() and self.written.get(name) != (_sha256(path) if path.is_file() else None):
                raise DeepdanceError(
                    f"{path}: exists and was not written by deepdance.report "
                    "(or was changed since); move it or give another --out"
                )

    def write(self, files: dict[str, str | bytes]) -> list[Path]:
        """Check every target, then write each file atomically and record it in the ledger."""
        self.check(list(files))
        paths = []
        for name, data in files.items():
            path = self.root / name
            if isinstance(data, str):
                atomic_write_text(path, data)
            else:
                atomic_write_bytes(path, data)
            self.written[name] = _sha256(path)
            paths.append(path)
        atomic_write_text(self.root / LEDGER, json.dumps(self.written, indent=2, sort_keys=True) + "\n")
        return paths
