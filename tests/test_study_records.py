"""The README's "A record behind every number" table says, per study, whether its numbers have a
clean record. That claim is checked here against the files, so it cannot drift:

- every study a results table names (``<!-- study: experiments/<name> -->``) has a row;
- a row whose record reads "clean" has a record for every result (``run_info.json`` beside each
  ``summary.json``, or one per stage in its subfolders; a study without runs, a ``run_info.json``
  or a results JSON carrying its own ``git`` block), every record clean, and each commit the row
  names among the records' commits;
- a row that reads "no clean record" is not, in fact, clean: a rerun must update the table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_published_numbers import study_tables

REPO = Path(__file__).resolve().parents[1]
SECTION = "### A record behind every number"
ROW = re.compile(r"^\| `experiments/([A-Za-z0-9_-]+)` \|.*\| ([^|]+) \|$")
COMMIT = re.compile(r"\b[0-9a-f]{7,40}\b")


def record_table(readme: str) -> dict[str, str]:
    """The table's record column, by study."""
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2).strip() for line in section.splitlines() if (m := ROW.match(line))}


def run_records(run: Path) -> list[Path]:
    """The records of one run folder: its own ``run_info.json``, or one per stage below it."""
    own = run / "run_info.json"
    return [own] if own.is_file() else sorted(run.glob("*/run_info.json"))


def study_records(study: Path) -> tuple[list[dict], list[str]]:
    """Every git block of the study's records, and the results that have none."""
    summaries = sorted(study.rglob("summary.json"))
    missing = [str(s.relative_to(study)) for s in summaries if not run_records(s.parent)]
    files = sorted(study.rglob("run_info.json"))
    if not summaries:
        files += [p for p in sorted(study.glob("*.json")) if "git" in json.loads(p.read_text())]
    return [json.loads(p.read_text())["git"] for p in files], missing


def clean(study: Path) -> tuple[bool, set[str], str]:
    """Whether every result has a record and every record is clean; the commits; why not."""
    records, missing = study_records(study)
    commits = {str(r.get("commit") or "") for r in records}
    dirty = sum(bool(r.get("dirty")) for r in records)
    if missing or not records or dirty:
        return False, commits, f"{len(missing)} results without a record, {dirty} of {len(records)} dirty"
    return True, commits, ""


def test_every_study_of_a_table_has_a_row() -> None:
    rows = record_table((REPO / "README.md").read_text(encoding="utf-8"))
    named = {table.study for table in study_tables()}
    assert named - set(rows) == set(), "studies with published tables but no row in the record table"


@pytest.mark.parametrize("name", sorted(record_table((REPO / "README.md").read_text(encoding="utf-8"))))
def test_a_row_says_what_the_records_say(name: str) -> None:
    claim = record_table((REPO / "README.md").read_text(encoding="utf-8"))[name]
    is_clean, commits, why = clean(REPO / "experiments" / name)
    if claim.startswith("no clean record"):
        assert not is_clean, f"{name}: every result has a clean record; the row should say so"
        return
    assert claim.startswith("clean"), f"{name}: the record column starts with clean or no clean record"
    assert is_clean, f"{name}: the row says clean, but {why}"
    named = COMMIT.findall(claim)
    assert named, f"{name}: a clean row names the commit of its records"
    unknown = [c for c in named if not any(full.startswith(c) for full in commits)]
    assert unknown == [], f"{name}: commits named in the row but in no record: {unknown}"


def test_the_check_tells_a_clean_study_from_a_dirty_or_unrecorded_one(tmp_path: Path) -> None:
    run = tmp_path / "results" / "a" / "seed1"
    run.mkdir(parents=True)
    (run / "summary.json").write_text("{}")
    assert clean(tmp_path)[0] is False
    (run / "run_info.json").write_text(json.dumps({"git": {"commit": "abc1234", "dirty": False}}))
    assert clean(tmp_path)[:2] == (True, {"abc1234"})
    staged = tmp_path / "results" / "b" / "seed1"
    (staged / "ae").mkdir(parents=True)
    (staged / "summary.json").write_text("{}")
    (staged / "ae" / "run_info.json").write_text(json.dumps({"git": {"commit": "def5678", "dirty": True}}))
    assert clean(tmp_path)[0] is False
