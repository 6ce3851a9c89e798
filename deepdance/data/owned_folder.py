"""A folder a generator owns: it writes only there, and deletes only what it wrote.

Why: ``python -m deepdance.train data.root=/data/aist`` (forgetting ``data=aist``) once
rendered 300 AIST++-named synthetic videos into a user's real dataset, replacing files of
the same name, and a later config change deleted "its" files, which could be the user's.
The rules, enforced here for every generator of videos (synthetic dancers, the synthetic
silhouette dance, stand-ins):

* **Audit before anything is written.** The folder must be absent, hold no video, or hold
  only videos that its record (``synthetic.json``) lists. Any other video stops the run
  with one line naming it; nothing is created, not even the record or a lock file.
* **Record what was written.** The record holds each file's size and SHA-256. Names about to
  be written are recorded first as ``pending`` (the audit proved they were free), so a run
  killed half-way leaves a folder the next run still recognises as its own.
* **Delete only what matches.** A regeneration deletes a recorded file only when its size
  and hash still match the record; a changed one stops the run, untouched.
* **Never replace.** New files are published with ``overwrite=False``
  (``deepdance.utils.cache_io.atomic_path``): a name that is taken is never overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepdance.data.aist.names import VIDEO_SUFFIXES
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import atomic_write_text, file_lock

RECORD_FORMAT = 2


def file_facts(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file: what a record keeps to recognise it later."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            sha.update(block)
    return {"size": path.stat().st_size, "sha256": sha.hexdigest()}


@dataclass
class Record:
    """What ``synthetic.json`` says: the settings, and each file written with its facts.

    ``files`` maps a name to ``{"size", "sha256"}``, or to ``None`` for a name recorded
    without facts (``pending``: about to be written, or just deleted; or a name from a record
    of an older deepdance). The next claim hashes such a file if it is there, else drops it.
    """

    config: Any = None
    files: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        files = {name: facts for name, facts in sorted(self.files.items()) if facts is not None}
        pending = sorted(name for name, facts in self.files.items() if facts is None)
        return {
            "format": RECORD_FORMAT,
            "config": self.config,
            "files": files,
            "pending": pending,
            **self.extra,
        }


class OwnedFolder:
    """A generator's output folder and its record; see the module docstring.

    ``hint`` ends the one-line refusal: what the user probably meant (e.g. ``data=aist``).
    """

    def __init__(self, root: str | Path, record_name: str, hint: str) -> None:
        self.root = Path(root)
        self.record_path = self.root / record_name
        self.hint = hint
        self._saved: dict[str, Any] | None = None

    def _refuse(self, why: str) -> DeepdanceError:
        listed = self.record_path.name
        return DeepdanceError(
            f"{why}; deepdance's generator writes only into an empty folder or one it "
            f"made (listed in {listed}) and leaves other files alone; {self.hint}"
        )

    def videos(self) -> list[Path]:
        """Every video file under the folder, as the data loaders would find them."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)

    def read(self) -> Record | None:
        """The record, or None when there is none; a file that is not a deepdance record is refused."""
        if not self.record_path.exists():
            return None
        try:
            data = json.loads(self.record_path.read_text())
            files = data["files"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            why = f"{self.record_path} is not a record deepdance can read ({type(err).__name__})"
            raise self._refuse(why) from None
        # format 1 (older deepdance): a list of names without sizes or hashes
        if isinstance(files, list):
            named = {str(n): None for n in files}
        else:
            named = {str(n): f for n, f in files.items()}
        named.update({str(n): None for n in data.get("pending", [])})
        extra = {k: v for k, v in data.items() if k not in ("format", "config", "files", "pending")}
        return Record(config=data.get("config"), files=named, extra=extra)

    def audit(self) -> Record:
        """Check that every video in the folder is on the record, creating nothing; the record."""
        # Videos first, record second: a concurrent generator records a name before publishing
        # its file, so every video listed here is on the record read after it.
        videos = self.videos()
        record = self.read() or Record()
        foreign = [v for v in videos if v.relative_to(self.root).as_posix() not in record.files]
        if foreign:
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            raise self._refuse(f"{foreign[0]} is a video that {self.record_path.name} does not list{more}")
        return record

    @contextlib.contextmanager
    def claimed(self) -> Iterator[Record]:
        """Audit, then (only if it passed) create the folder and hold its lock; the record,
        with files recorded without facts adopted (hashed) or dropped if absent.

        The second audit under the lock sees what a concurrent generator (a DDP rank) wrote.
        """
        self.audit()
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.record_path):
            record = self.audit()
            self._saved = record.to_json()
            for name, facts in list(record.files.items()):
                path = self.root / name
                if not path.is_file():
                    del record.files[name]
                elif facts is None:
                    record.files[name] = file_facts(path)
            yield record

    def save(self, record: Record) -> None:
        """Write the record (atomically), unless it says what the file already says."""
        if record.to_json() == self._saved:
            return
        atomic_write_text(self.record_path, json.dumps(record.to_json(), indent=1) + "\n")
        self._saved = record.to_json()

    def remove_recorded(self, record: Record) -> None:
        """Delete every recorded file whose size and hash still match; if any was changed,
        refuse before deleting anything."""
        present = {name: facts for name, facts in record.files.items() if (self.root / name).exists()}
        for name, facts in present.items():
            path = self.root / name
            if facts is None or file_facts(path) != facts:
                raise self._refuse(
                    f"{path} was changed after deepdance wrote it (its size or SHA-256 "
                    f"differs from {self.record_path.name}), so it is kept and nothing was "
                    "regenerated: move it away to regenerate here"
                )
        for name in present:
            (self.root / name).unlink()
        # The deleted names stay on the record (without facts) until the next claim drops them:
        # a concurrent audit that listed the files just before they went still finds them.
        record.files = dict.fromkeys(present)
        self.save(record)
