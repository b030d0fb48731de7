"""Building quiz submissions and classes for the grading tests (a helper module, not a test file)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from apicourse import grading
from apicourse.grading import QUESTIONS, RELEASE_NOTEBOOK, SOURCE_NOTEBOOK
from apicourse.ledger import Ledger

SOURCE = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
RELEASE = nbformat.read(RELEASE_NOTEBOOK, as_version=4)
SOLUTION = grading._answer_cells(SOURCE)
ALL = {q.id: "solution" for q in QUESTIONS}


def notebook(answers: dict[str, str] | None = None, edit=None):
    """The committed learner copy with some answers filled in ("solution" = the source's answer cell)."""
    nb = copy.deepcopy(RELEASE)
    for cell in nb.cells:
        match = grading._ANSWER_MARK.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
        if match and answers and match.group(1) in answers:
            given = answers[match.group(1)]
            cell.source = SOLUTION[match.group(1)] if given == "solution" else given
    if edit:
        edit(nb)
    return nb


def new_course(root: Path) -> Path:
    """An nbgrader course folder with the quiz's config and source, nothing submitted yet."""
    course = root / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(grading.CONFIG_FILE, course / "nbgrader_config.py")
    shutil.copytree(SOURCE_NOTEBOOK.parent, course / "source" / grading.ASSIGNMENT)
    return course


def submit(course: Path, student: str, nb=None, *, raw: bytes | None = None) -> Path:
    """Put a student's submission in ``submitted/`` (a notebook, or raw bytes for a broken file)."""
    folder = course / "submitted" / student / grading.ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{grading.ASSIGNMENT}.ipynb"
    if raw is not None:
        path.write_bytes(raw)
    else:
        nbformat.write(nb, path)
    return path


def grade_class(course: Path, ledger_url: str, *options: str, env: dict[str, str] | None = None,
                timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m apicourse.grading grade-class`` on ``course``, as an instructor runs it."""
    command = [sys.executable, "-m", "apicourse.grading", "grade-class", "--course", str(course), "--ledger",
               ledger_url, "--no-feedback", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


def points_per_question(ledger_url: str, student: str) -> dict[str, float]:
    """The latest attempt's points per question (from the ledger's per-cell details)."""
    attempts = Ledger(ledger_url).attempts(student, grading.ASSIGNMENT)
    assert attempts, f"no attempt recorded for {student}"
    cells = json.loads(attempts[-1].details)["cells"]
    if "Q1" in cells:  # graded by apicourse.grading itself (nbgrader gave up on it): points per question
        return {q.id: float(cells[q.id]) for q in QUESTIONS}
    return {q.id: sum(cells.get(gid, 0.0) for gid in q.hints) for q in QUESTIONS}
