"""A number in the docs is only as good as the committed study behind it.

Every study the README or docs name must be in the repo with its script and its results, and
every figure of a results table must be in its study's report, to the rounding shown.

The convention (README.md, "A record behind every number"): a results table in README.md, docs/*.md or
experiments/*/README.md names its study on the line above it (blank lines between are fine)::

    <!-- study: experiments/<name> -->
    | method | one-step MSE |
    | --- | ---: |
    | LSTM | 0.0333 ± 0.0010 |

Then every figure in the table's body, except in its first column (the row's name), must be a
number of the study's record rounded as shown: 0.0333 matches 0.033296, not 0.0340. The record
is what the study's report wrote: the files under ``experiments/<name>/report/``, the study
folder's own tables (``*.md`` other than its README, ``*.csv``, ``*.json``), and, for a study
without a report folder, the tables directly in its ``results/``. Figures in code spans and the
``95 %`` of "95 % CI" are not figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
STUDY_READMES = sorted((REPO / "experiments").glob("*/README.md"))
# a folder under experiments/, not a file there such as experiments/common.sh
STUDY_PATH = re.compile(r"experiments/([A-Za-z0-9_-]+)(?![A-Za-z0-9_-]|\.\w)")
# the study a table names: an HTML comment, invisible once rendered
TABLE_STUDY = re.compile(r"^<!-- study: experiments/([A-Za-z0-9_-]+)/? -->$")
RECORD_SUFFIXES = {".json", ".csv", ".md", ".txt"}
# a figure as the docs write it: a sign only where no digit comes before (54.2-104 is a range),
# thousands separated by commas (1,922.0)
FIGURE = re.compile(r"(?<![\w.,])([+\-−]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w.]|,\d{3})")
RECORD_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
# not figures: code spans, link targets, the confidence level
NOT_FIGURES = re.compile(r"`[^`]*`|\]\([^)]*\)|95 % CI")

# Studies whose script is committed but whose results are not; the docs label their figures as
# uncommitted single runs. Remove an entry once its results are committed.
NO_COMMITTED_RESULTS = {
    "aist_standin": "writes its runs to logs/ (not committed); docs/aist.md and the README say so",
    "precision": "needs a GPU and none was lent yet; its README says there are no numbers",
}


@dataclass(frozen=True)
class Figure:
    """One number of a results table, with the decimals it is shown to."""

    text: str
    value: float
    decimals: int

    def matches(self, number: float) -> bool:
        # half a unit of the last decimal shown, and a hair for binary floats
        return abs(number - self.value) <= 0.5 * 10.0**-self.decimals + 1e-9


@dataclass(frozen=True)
class Table:
    doc: Path
    line: int
    study: str | None
    rows: list[list[str]]

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO).as_posix()}:{self.line}"


def named_studies() -> dict[str, list[str]]:
    """Map each study named in README.md or docs/*.md to the files that name it."""
    studies: dict[str, list[str]] = {}
    for doc in DOCS:
        for name in STUDY_PATH.findall(doc.read_text(encoding="utf-8")):
            studies.setdefault(name, []).append(doc.relative_to(REPO).as_posix())
    return studies


def has_run_script(study: Path) -> bool:
    """A study is runnable through run.sh (or another .sh) or a Python entry point."""
    return any(p.suffix in {".sh", ".py"} for p in study.iterdir() if p.is_file())


def record_files(study: Path) -> list[Path]:
    """What the study wrote: report/, its own tables beside the script, or results/'s tables.
    A study's README is prose about the results, not a result."""

    def tables(folder: Path) -> list[Path]:
        return [p for p in folder.iterdir() if p.is_file() and p.suffix in RECORD_SUFFIXES]

    files = [p for p in tables(study) if p.name != "README.md"]
    if (study / "report").is_dir():
        files += [p for p in sorted((study / "report").rglob("*")) if p.suffix in RECORD_SUFFIXES]
    elif (study / "results").is_dir():
        files += tables(study / "results")
    return files


def has_results(study: Path) -> bool:
    """Results are recorded tables or summaries, or a results/ folder that holds some."""
    results_dir = study / "results"
    return bool(record_files(study)) or (results_dir.is_dir() and any(results_dir.iterdir()))


def record_numbers(study: str) -> list[float]:
    numbers: list[float] = []
    for path in record_files(REPO / "experiments" / study):
        numbers += [float(n) for n in RECORD_NUMBER.findall(path.read_text(encoding="utf-8"))]
    return numbers


def figures(cell: str) -> list[Figure]:
    found = []
    for sign, digits in FIGURE.findall(NOT_FIGURES.sub(" ", cell)):
        plain = digits.replace(",", "")
        value = float(plain) * (-1 if sign in {"-", "−"} else 1)
        found.append(Figure(sign + digits, value, len(plain.partition(".")[2])))
    return found


def markdown_tables(doc: Path) -> list[Table]:
    """Each table of ``doc`` (a header row, then a ``| --- |`` row), with the study it names."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    tables, i = [], 0
    while i < len(lines) - 1:
        if not (lines[i].startswith("|") and re.match(r"^\|\s*:?-{3}", lines[i + 1])):
            i += 1
            continue
        end = i + 2
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        above = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        named = TABLE_STUDY.match(above)
        # a | inside a code span is escaped as \| and stays in its cell
        rows = [re.split(r"(?<!\\)\|", row.strip().strip("|")) for row in lines[i + 2 : end]]
        tables.append(Table(doc, i + 1, named.group(1) if named else None, rows))
        i = end
    return tables


def study_tables() -> list[Table]:
    return [t for doc in (*DOCS, *STUDY_READMES) for t in markdown_tables(doc) if t.study]


def figures_not_in_record(table: Table, numbers: list[float]) -> list[str]:
    return [
        figure.text
        for row in table.rows
        for cell in row[1:]
        for figure in figures(cell)
        if not any(figure.matches(n) for n in numbers)
    ]


# ---------------------------------------------------------------------------- studies exist


def test_the_docs_name_studies() -> None:
    assert {"bench", "reliability"} <= named_studies().keys()


@pytest.mark.parametrize("name", sorted(named_studies()))
def test_a_named_study_has_its_script_and_results(name: str) -> None:
    study = REPO / "experiments" / name
    cited_in = ", ".join(sorted(set(named_studies()[name])))
    assert study.is_dir(), f"study {name!r} named in {cited_in} has no folder experiments/{name}/"
    assert has_run_script(study), f"study {name!r} (named in {cited_in}) has no run script (.sh or .py)"
    if name in NO_COMMITTED_RESULTS:
        assert not has_results(study), f"study {name!r} now has results: drop it from NO_COMMITTED_RESULTS"
        return
    assert has_results(study), (
        f"study {name!r} (named in {cited_in}) has no committed results (.json/.csv/.md or results/)"
    )


def test_every_exempt_study_is_still_named() -> None:
    assert NO_COMMITTED_RESULTS.keys() <= named_studies().keys()


def test_the_checks_tell_an_empty_study_from_a_complete_one(tmp_path: Path) -> None:
    (tmp_path / "empty_study").mkdir()
    assert not has_run_script(tmp_path / "empty_study")
    assert not has_results(tmp_path / "empty_study")
    (tmp_path / "empty_study" / "run.sh").write_text("echo\n")
    (tmp_path / "empty_study" / "README.md").write_text("# a study\n")
    (tmp_path / "empty_study" / "results").mkdir()
    assert has_run_script(tmp_path / "empty_study")
    # a README alone is no result
    assert not has_results(tmp_path / "empty_study")
    (tmp_path / "empty_study" / "results" / "summary.json").write_text("{}\n")
    assert has_results(tmp_path / "empty_study")


def test_a_file_under_experiments_is_not_a_study() -> None:
    text = "run experiments/common.sh, then see experiments/bench/ and experiments/embedded_default."
    assert STUDY_PATH.findall(text) == ["bench", "embedded_default"]


# ---------------------------------------------------------------------------- published figures


def test_the_results_tables_name_their_studies() -> None:
    """The README's and the docs' results tables carry the study comment (no comment, no check)."""
    named = {(t.doc.name, t.study) for t in study_tables()}
    assert {
        ("README.md", "embedded_default"),
        ("README.md", "deep_dance_paired"),
        ("README.md", "genre_generation"),
        ("README.md", "bench"),
        ("deep_dance.md", "deep_dance_paired"),
        ("reliability.md", "reliability"),
    } <= named


@pytest.mark.parametrize("table", study_tables(), ids=lambda t: f"{t.where}-{t.study}")
def test_every_figure_of_a_results_table_is_in_its_study_report(table: Table) -> None:
    study = REPO / "experiments" / str(table.study)
    assert study.is_dir(), f"{table.where} names experiments/{table.study}, which does not exist"
    numbers = record_numbers(str(table.study))
    assert numbers, f"{table.where}: experiments/{table.study} has no report to check against"
    missing = figures_not_in_record(table, numbers)
    assert not missing, f"{table.where}: not in experiments/{table.study}'s report: {missing}"


def test_figures_are_read_as_shown() -> None:
    cell = "−0.0179 (-0.0191, +1,922.0): `data.num_frames=1` 54.2-104, 95 % CI, +0.16 %"
    assert [(f.text, f.value, f.decimals) for f in figures(cell)] == [
        ("−0.0179", -0.0179, 4),
        ("-0.0191", -0.0191, 4),
        ("+1,922.0", 1922.0, 1),
        ("54.2", 54.2, 1),
        ("104", 104.0, 0),
        ("+0.16", 0.16, 2),
    ]


def test_a_figure_off_by_its_last_digit_or_sign_is_caught(tmp_path: Path) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(
        "text\n\n<!-- study: experiments/x -->\n\n| method | MSE | diff |\n| --- | ---: | --- |\n"
        "| LSTM 10 | 0.0333 ± 0.0010 | -0.0179 |\n\n| no study | 9.99 |\n| --- | --- |\n| a | 1 |\n"
    )
    first, second = markdown_tables(doc)
    assert (first.study, first.line, second.study) == ("x", 5, None)
    # the row's name (LSTM 10) is not a figure; rounding as shown passes
    assert figures_not_in_record(first, [0.033296, 0.00104, -0.01794]) == []
    assert figures_not_in_record(first, [0.0340, 0.00104, -0.01794]) == ["0.0333"]
    assert figures_not_in_record(first, [0.033296, 0.00104, 0.01794]) == ["-0.0179"]
