"""Every study the README or docs name must be in the repo with its script and its results.

A number in the docs is only as good as the committed study behind it: a reader must be able to
rerun the script and compare with the recorded results.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# a folder under experiments/, not a file there such as experiments/common.sh
STUDY_PATH = re.compile(r"experiments/([A-Za-z0-9_-]+)(?![A-Za-z0-9_-]|\.\w)")
RESULT_SUFFIXES = {".json", ".csv", ".md"}

# Studies whose script is committed but whose results are not; the docs label their figures as
# uncommitted single runs. Remove an entry once its results are committed.
NO_COMMITTED_RESULTS = {
    "aist_standin": "writes its runs to logs/ (not committed); docs/aist.md and the README say so",
}


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


def has_results(study: Path) -> bool:
    """Results are recorded tables or summaries, or a results/ folder that holds some."""
    files = [p for p in study.iterdir() if p.is_file() and p.suffix in RESULT_SUFFIXES]
    results_dir = study / "results"
    return bool(files) or (results_dir.is_dir() and any(results_dir.iterdir()))


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
    (tmp_path / "empty_study" / "results").mkdir()
    assert has_run_script(tmp_path / "empty_study")
    assert not has_results(tmp_path / "empty_study")
    (tmp_path / "empty_study" / "results" / "summary.json").write_text("{}\n")
    assert has_results(tmp_path / "empty_study")


def test_a_file_under_experiments_is_not_a_study() -> None:
    text = "run experiments/common.sh, then see experiments/bench/ and experiments/embedded_default."
    assert STUDY_PATH.findall(text) == ["bench", "embedded_default"]
