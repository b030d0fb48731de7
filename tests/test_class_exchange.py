"""grade-class and nbgrader's exchange, on one machine: every timestamped submission in ``inbound/`` counts
toward the best (each graded once however often grade-class runs), only the instructor's own gradings are
exported, the course you stand in is the one graded, and an LMS gets its gradebook file.

The inbound folders are written as nbgrader 0.9.6's ``submit`` writes them
(``<student>+<assignment>+<timestamp>+<random>/`` holding the notebook and ``timestamp.txt``,
``nbgrader/exchange/default/submit.py``); the real ``submit`` runs in tests/test_hub_class.py.
"""

from __future__ import annotations

import copy
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from apicourse import grading
from apicourse.grading import RELEASE_NOTEBOOK, SOURCE_NOTEBOOK, _answer_cells
from apicourse.grading.class_export import class_rows
from apicourse.grading.questions import _ANSWER_MARK
from apicourse.ledger import Ledger, NewAttempt

pytestmark = pytest.mark.slow

SOLUTION = _answer_cells(nbformat.read(SOURCE_NOTEBOOK, as_version=4))
TEN = dict(SOLUTION)
FOUR = {q: SOLUTION[q] for q in ("Q1", "Q2")}
SIX = {q: SOLUTION[q] for q in ("Q1", "Q2", "Q3")}


def notebook(answers: dict[str, str]) -> str:
    nb = copy.deepcopy(nbformat.read(RELEASE_NOTEBOOK, as_version=4))
    for cell in nb.cells:
        match = _ANSWER_MARK.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
        if match and match.group(1) in answers:
            cell.source = answers[match.group(1)]
    return nbformat.writes(nb)


def submit(exchange: Path, student: str, answers: dict[str, str], when: str, tag: str) -> Path:
    """One submission in the exchange's inbound/, as nbgrader's submit leaves it."""
    stamp = f"2026-12-02 {when}.000000 UTC"
    folder = exchange / "working-with-apis" / "inbound" / f"{student}+module_assessment+{stamp}+{tag}"
    folder.mkdir(parents=True)
    (folder / "module_assessment.ipynb").write_text(notebook(answers), encoding="utf-8")
    (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return folder


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "my-course"
    (root / "source").mkdir(parents=True)
    shutil.copy2(grading.CONFIG_FILE, root / "nbgrader_config.py")
    shutil.copytree(SOURCE_NOTEBOOK.parent, root / "source" / grading.ASSIGNMENT)
    monkeypatch.setenv("APICOURSE_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv(grading.CACHE_DIR_VAR, str(tmp_path / "cache"))
    monkeypatch.delenv("APICOURSE_INSTRUCTOR_LEDGER_URL", raising=False)
    return root


def grade_class_here(course: Path, *options: str) -> str:
    """``python -m apicourse.grading grade-class`` run from inside the course folder, as an instructor does."""
    run = subprocess.run([sys.executable, "-m", "apicourse.grading", "grade-class", "--no-feedback", *options],
                         cwd=course, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_every_submission_in_the_exchange_counts_once_and_only_the_instructors_gradings_are_exported(course):
    exchange = Path(os.environ["APICOURSE_EXCHANGE"])
    submit(exchange, "ada", TEN, "09:00:00", "a1")
    submit(exchange, "ada", FOUR, "10:00:00", "a2")  # a worse one by mistake: the 10 must not be lost
    latest = submit(exchange, "ada", SIX, "11:00:00", "a3")
    submit(exchange, "bob", FOUR, "09:30:00", "b1")
    # a learner who shares the ledger's database writes a perfect score for herself and for a name never seen
    ledger_url = f"sqlite:///{course / 'attempts.db'}"
    for who in ("bob", "mallory"):
        Ledger(ledger_url).record(NewAttempt(who, grading.ASSIGNMENT, 10, 10))  # source "self"

    report = grade_class_here(course, "--lms", "canvas", "--lms", "moodle")
    assert f"Course graded: {course}" in report and f"CSV: {course / 'grades.csv'}" in report, report
    assert "4 new attempt(s) recorded" in report, report
    rows = read_csv(course / "grades.csv")
    assert list(rows) == ["ada", "bob"], "self-gradings (and names that never submitted) are not exported"
    assert rows["ada"] == {"student": "ada", "latest": "6", "best": "10", "attempts": "3", "passed": "True",
                           "best_submitted_at": "2026-12-02T09:00:00+00:00"}, report
    assert (rows["bob"]["best"], rows["bob"]["attempts"]) == ("4", "1"), "bob's self-graded 10 is not his best"
    assert "ada,,,ada,,10" in (course / "canvas-grades.csv").read_text(encoding="utf-8").splitlines()
    assert (course / "moodle-grades.csv").read_text(encoding="utf-8").splitlines() == [
        "Username,module_assessment", "ada,10", "bob,4"]

    # grading again, and after nbgrader's collect copied the latest into submitted/, records nothing new
    assert "0 new attempt(s) recorded" in grade_class_here(course)
    shutil.copytree(latest, course / "submitted" / "ada" / grading.ASSIGNMENT)
    again = grade_class_here(course)
    assert "0 new attempt(s) recorded" in again and "ada: 6/10" in again, again
    assert read_csv(course / "grades.csv")["ada"]["attempts"] == "3"
    assert [r.student for r in class_rows(Ledger(ledger_url), grading.ASSIGNMENT)] == ["ada", "bob"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as another user")
def test_a_submission_another_user_made_under_a_learners_name_is_not_graded(course):
    exchange = Path(os.environ["APICOURSE_EXCHANGE"])
    submit(exchange, "bob", FOUR, "09:00:00", "b1")
    forged = submit(exchange, "bob", TEN, "10:00:00", "x1")
    for path in (forged, *forged.iterdir()):
        shutil.chown(path, "nobody")  # on a hub each learner is a Unix user: this one is not bob
    report = grade_class_here(course)
    assert "belongs to Unix user nobody, not bob" in report, report
    assert (read_csv(course / "grades.csv")["bob"]["best"], read_csv(course / "grades.csv")["bob"]["attempts"]) \
        == ("4", "1"), report
    shutil.copytree(forged, course / "submitted" / "bob" / grading.ASSIGNMENT)  # what nbgrader collect would do
    report = grade_class_here(course)
    assert "bob: the collected submission was made by another user; not recorded" in report, report
    assert read_csv(course / "grades.csv")["bob"]["best"] == "4"
